//go:build !unix

package cmd

// openFileLimit is unknown here: the memory bound alone applies.
func openFileLimit() uint64 { return 0 }
