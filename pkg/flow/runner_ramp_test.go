package flow

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// rampRun runs a flow over six tenants, each worked for 300 ms, with Busy answering
// busy, and returns the most tenants worked at once and how many were worked.
func rampRun(t *testing.T, busy bool) (most, worked int) {
	t.Helper()
	st, _ := openTestStore(t, time.Now)
	for i := range 6 {
		tn := cazbling.Tenant{ID: fmt.Sprintf("loja%d", i), Status: cazbling.TenantActive, BlingURL: "http://bling.test", CazcoURL: "http://cazco.test"}
		if err := st.UpsertTenant(context.Background(), tn, nil); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	active := 0
	d := Deps{Store: st, Holder: "host-a",
		ERP:    func(cazbling.Tenant) (cazbling.ERP, error) { return nil, nil },
		Market: func(cazbling.Tenant) (cazbling.Marketplace, error) { return nil, nil },
		Busy:   func() bool { return busy }, RampUp: 2, RampStep: 10 * time.Millisecond,
	}
	results, err := Run(context.Background(), d, cazbling.FlowStock, Options{Concurrency: 6}, func(ctx context.Context, j *Job) error {
		mu.Lock()
		active++
		most = max(most, active)
		worked++
		mu.Unlock()
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		active--
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Status != cazbling.StatusOK {
			t.Errorf("tenant %s: %s %s", r.TenantID, r.Status, r.Message)
		}
	}
	return most, worked
}

// A host whose allowance is spent starts its ramp-up's tenants and then one at a
// time, leaving the rest unleased for other hosts until it has room; with room it
// starts as many as its concurrency allows. Either way every tenant is worked.
func TestRunTakesOnlyTheTenantsItHasRoomFor(t *testing.T) {
	if most, worked := rampRun(t, true); most != 2 || worked != 6 {
		t.Errorf("busy host: %d tenants at once, %d worked; want 2 (the ramp-up) and 6", most, worked)
	}
	if most, worked := rampRun(t, false); most != 6 || worked != 6 {
		t.Errorf("host with room: %d tenants at once, %d worked; want 6 and 6", most, worked)
	}
}
