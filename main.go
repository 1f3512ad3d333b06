// Command cazbling keeps CaZco marketplace stores and Bling ERP accounts in step.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"golang.org/x/term"

	"github.com/cazbling/cazbling/cmd"
)

func main() {
	os.Exit(run())
}

func run() int {
	// CAZBLING_CPUPROFILE=file writes a CPU profile of the run (for `go tool pprof`).
	if path := os.Getenv("CAZBLING_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd.Execute(ctx, os.Args[1:], cmd.IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv,
		StdinTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		StderrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	})
}
