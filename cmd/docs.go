package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// docsDate is the date the man pages carry. It is fixed, not the day they are made, so
// that generating them again changes nothing unless the commands changed.
var docsDate = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// GenerateDocs writes the command-line reference, built from the command tree itself,
// under dir: Markdown pages in dir/cli and man pages in dir/man. It is what `make docs`
// runs (through the hidden `cazbling gen-docs` command); a test fails when the files
// in the repository are not what it writes.
func GenerateDocs(dir string) error {
	root := NewRootCmd(&App{IO: IO{Getenv: func(string) string { return "" }}})
	root.DisableAutoGenTag = true   // no generation date in the pages
	root.InitDefaultCompletionCmd() // added by Execute otherwise: documented too
	cli, man := filepath.Join(dir, "cli"), filepath.Join(dir, "man")
	for _, d := range []string{cli, man} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(root, cli); err != nil {
		return fmt.Errorf("markdown reference: %w", err)
	}
	header := &doc.GenManHeader{Title: "CAZBLING", Section: "1", Date: &docsDate, Source: "cazbling", Manual: "cazbling manual"}
	if err := doc.GenManTree(root, header, man); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	return nil
}

// newGenDocsCmd is the hidden command behind `make docs`.
func newGenDocsCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "gen-docs DIR",
		Short:  "Write the command-line reference (Markdown and man pages) under DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		// No store, no environment: the reference is the same on every machine.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			return GenerateDocs(args[0])
		},
	}
}
