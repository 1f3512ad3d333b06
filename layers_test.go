package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// layers is the one-way dependency rule of docs/ARCHITECTURE.md: for each package of
// the module, the module's packages its non-test code may import. cmd wires everything
// together; below it, the flows and the store know only the domain types
// (pkg/cazbling), the API clients know those and the transport (pkg/httpx), and
// nothing outside cmd knows the sandbox. A new package must be added here (and to
// the map in docs/ARCHITECTURE.md) before it builds into the binary.
var layers = map[string][]string{
	"":                     {"cmd"},
	"cmd":                  {"*"},
	"pkg/cazbling":         {},
	"pkg/httpx":            {},
	"pkg/bling":            {"pkg/cazbling", "pkg/httpx"},
	"pkg/cazco":            {"pkg/cazbling", "pkg/httpx"},
	"pkg/flow":             {"pkg/cazbling"},
	"pkg/panel":            {"pkg/cazbling"},
	"pkg/store":            {"pkg/cazbling", "pkg/store/sqlite", "pkg/store/postgres", "pkg/store/secrets"},
	"pkg/store/postgres":   {"pkg/cazbling", "pkg/store/schema", "pkg/store/secrets"},
	"pkg/store/schema":     {"pkg/cazbling", "pkg/store/secrets"},
	"pkg/store/secrets":    {},
	"pkg/store/sqlite":     {"pkg/cazbling", "pkg/store/schema", "pkg/store/secrets"},
	"pkg/store/storetest":  {"pkg/cazbling", "pkg/store"}, // the backends' shared tests
	"pkg/sandbox":          {"pkg/sandbox/blingsim", "pkg/sandbox/cazcosim"},
	"pkg/sandbox/blingsim": {},
	"pkg/sandbox/cazcosim": {},
	"pkg/e2e":              {}, // tests only

	// the settable clock the sandbox's tests share; its code builds only into them
	"pkg/sandbox/internal/simclock": {},
}

func TestLayers(t *testing.T) {
	const module = "github.com/cazbling/cazbling"
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		allowed, ok := layers[name]
		if !ok {
			t.Errorf("package %q is not in the layering table: add it to layers (layers_test.go) and to docs/ARCHITECTURE.md", name)
			continue
		}
		for _, imp := range p.Imports {
			dep, internal := strings.CutPrefix(imp, module+"/")
			if !internal || slices.Contains(allowed, "*") || slices.Contains(allowed, dep) {
				continue
			}
			t.Errorf("%s imports %s, which the layering rule does not allow (allowed: %v); see docs/ARCHITECTURE.md", name, dep, allowed)
		}
	}
}

// TestSandboxOnlyInCmd keeps the table to the rule that nothing outside cmd knows the
// sandbox: no package but cmd and the sandbox's own may be allowed pkg/sandbox or a
// package below it.
func TestSandboxOnlyInCmd(t *testing.T) {
	for name, allowed := range layers {
		if name == "cmd" || name == "pkg/sandbox" || strings.HasPrefix(name, "pkg/sandbox/") {
			continue
		}
		for _, dep := range allowed {
			if dep == "*" || dep == "pkg/sandbox" || strings.HasPrefix(dep, "pkg/sandbox/") {
				t.Errorf("layers allows %s to import %s: only cmd may know the sandbox (docs/ARCHITECTURE.md)", name, dep)
			}
		}
	}
}
