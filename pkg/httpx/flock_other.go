//go:build !unix

package httpx

import (
	"errors"
	"os"
)

// Without flock a window cannot be shared between processes: NewSharedWindow fails
// and the caller keeps a window of its own.
func lockFile(*os.File) error   { return errors.ErrUnsupported }
func unlockFile(*os.File) error { return errors.ErrUnsupported }
