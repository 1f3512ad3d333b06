package cmd

import (
	"os"
	"path/filepath"
	"testing"
)

// The reference under docs/ is what GenerateDocs writes from today's commands: a flag
// or command changed without `make docs` fails here.
func TestDocsAreCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := GenerateDocs(dir); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"cli", "man"} {
		want := readTree(t, filepath.Join(dir, sub))
		got := readTree(t, filepath.Join("..", "docs", sub))
		for name, body := range want {
			switch have, ok := got[name]; {
			case !ok:
				t.Errorf("docs/%s/%s is missing: run `make docs`", sub, name)
			case have != body:
				t.Errorf("docs/%s/%s is stale: run `make docs`", sub, name)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("docs/%s/%s documents no command: run `make docs`", sub, name)
			}
		}
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}
