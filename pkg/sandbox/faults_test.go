package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

func TestFaultBursts(t *testing.T) {
	h := newHarness(t, Options{BlingRate: -1})
	tn := DemoTenants()[0]
	token := h.blingToken(tn)
	if err := h.sb.SetFaults("bling", Faults{Burst429: 2}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		a := h.bling("GET", "/produtos/123", token, "")
		var body struct {
			Error struct {
				Type   string
				Limit  int
				Period string
			}
		}
		a.decode(t, &body)
		if a.status != 429 || body.Error.Type != "TOO_MANY_REQUESTS" || body.Error.Period != "second" || body.Error.Limit != 3 {
			t.Fatalf("burst %d: %d %s", i, a.status, a.raw)
		}
	}
	if a := h.bling("GET", "/produtos/123", token, ""); a.status != 404 {
		t.Fatalf("after the burst: %d %s", a.status, a.raw)
	}
	c := h.sb.Counters()
	if c.Count("bling", "GET", "/produtos/{id}", 429) != 2 || c.Count("bling", "GET", "/produtos/{id}", 404) != 1 {
		t.Fatalf("counters: %+v", c.Requests)
	}
	if c.Bling.RateLimitedSecond != 0 {
		t.Errorf("injected 429s reached the Bling sim: %+v", c.Bling)
	}

	// CaZco: set through the admin API, with its own body and Retry-After.
	a := h.do("POST", "/_sandbox/faults?api=cazco", nil, `{"burst_429":1,"burst_5xx":1,"latency":"1ms"}`)
	if a.status != 200 {
		t.Fatalf("set faults: %d %s", a.status, a.raw)
	}
	a = h.cazco("GET", "/orders", tn.CazcoKey)
	var ce struct{ Code, RequestID string }
	a.decode(t, &ce)
	if a.status != 429 || ce.Code != "rate_limited" || a.header.Get("Retry-After") != "1" {
		t.Fatalf("cazco 429: %d %v %s", a.status, a.header, a.raw)
	}
	if a = h.cazco("GET", "/orders", tn.CazcoKey); a.status != 503 {
		t.Fatalf("cazco 5xx burst: %d %s", a.status, a.raw)
	}
	if a = h.cazco("GET", "/orders", tn.CazcoKey); a.status != 200 {
		t.Fatalf("cazco after bursts: %d %s", a.status, a.raw)
	}
	if got := h.sb.Faults("cazco"); got.Latency != time.Millisecond || got.Burst429 != 1 {
		t.Fatalf("faults read back: %+v", got)
	}
	if a := h.do("POST", "/_sandbox/faults?api=erp", nil, `{}`); a.status != 400 {
		t.Fatalf("unknown api: %d", a.status)
	}
	if a := h.do("POST", "/_sandbox/faults?api=bling", nil, `{"error_rate":2}`); a.status != 400 {
		t.Fatalf("bad rate: %d", a.status)
	}
}

func TestFaultRatesAreSeeded(t *testing.T) {
	h := newHarness(t, Options{BlingRate: -1, Seed: SeedEmpty})
	run := func(f Faults) []int {
		if err := h.sb.SetFaults("bling", f); err != nil {
			t.Fatal(err)
		}
		var out []int
		for i := 0; i < 40; i++ {
			a := h.do("GET", "/Api/v3/depositos", nil, "")
			out = append(out, a.status)
			switch a.status {
			case 500:
				var e struct{ Error struct{ Type string } }
				a.decode(t, &e)
				if e.Error.Type != "SERVER_ERROR" {
					t.Fatalf("500 body: %s", a.raw)
				}
			case 200:
				if json.Valid(a.raw) {
					t.Fatalf("a malformed answer is valid JSON: %s", a.raw)
				}
			}
		}
		return out
	}
	f := Faults{ErrorRate: 0.3, MalformedRate: 0.3, Seed: 42}
	first, second := run(f), run(f)
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("same seed, different faults:\n%v\n%v", first, second)
	}
	n := map[int]int{}
	for _, s := range first {
		n[s]++
	}
	if n[500] == 0 || n[200] == 0 || n[401] == 0 {
		t.Fatalf("expected a mix of 500, malformed 200 and real 401: %v", n)
	}
	f.Seed = 43
	if fmt.Sprint(run(f)) == fmt.Sprint(first) {
		t.Fatal("another seed gave the same faults")
	}
}

func TestOrderPostDelay(t *testing.T) {
	h := newHarness(t, Options{BlingRate: -1})
	tn := DemoTenants()[1]
	token := h.blingToken(tn)
	var orders struct{ Data []cazcosim.Order }
	h.cazco("GET", "/orders?per_page=100", tn.CazcoKey).decode(t, &orders)
	if err := h.sb.SetFaults("bling", Faults{OrderPostDelay: time.Second}); err != nil {
		t.Fatal(err)
	}
	body := orderBody(t, h, token, orders.Data[0])
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", h.srv.URL+"/Api/v3/pedidos/vendas", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("enable-jwt", "1")
		req.Header.Set("Content-Type", "application/json")
		status := 0
		if res, err := h.srv.Client().Do(req); err == nil {
			res.Body.Close()
			status = res.StatusCode
		}
		done <- status
	}()
	// The order is stored while its POST is still unanswered.
	deadline := time.After(10 * time.Second)
	for len(h.sb.Bling.Orders(tn.ClientID)) == 0 {
		select {
		case <-done:
			t.Fatal("the POST was answered before the order was seen stored")
		case <-deadline:
			t.Fatal("order never stored")
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case <-done:
		t.Fatal("the POST was answered without the delay")
	default:
	}
	if status := <-done; status != 201 {
		t.Fatalf("delayed POST: %d", status)
	}
}
