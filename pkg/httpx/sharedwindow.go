package httpx

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// sharedMagic starts a shared window's file; a file without it is started afresh.
const sharedMagic = "CZW1"

// NewSharedWindow returns a window of at most n requests in any span of length that
// is kept in the file at path (created with mode 0600, its folder 0700), so that
// every process using that file shares it: cazbling's processes on one host share
// the host's IP, and Bling counts per IP. Each admission decision holds an exclusive
// lock on the file (flock) and reads the admissions the other processes made. nil,
// nil when n <= 0 (no limit).
//
// The file holds the admission times, oldest first. One that cannot be read as a
// window (another program's, half written by a process killed mid-write) is
// started afresh: at worst one window's worth more is admitted once.
func NewSharedWindow(path string, n int, length time.Duration) (*Window, error) {
	w := NewWindow(n, length)
	if w == nil {
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("shared rate-limit window: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("shared rate-limit window: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("shared rate-limit window %s: %w", path, err)
	}
	_ = unlockFile(f)
	w.file = f
	return w, nil
}

// Close releases a shared window's file; other windows are unaffected.
func (w *Window) Close() error {
	if w == nil || w.file == nil {
		return nil
	}
	return w.file.Close()
}

// loadShared locks the file and replaces the window's admissions with the file's
// (which include this process's own). If the file cannot be locked or read, the
// window goes on with what this process knows.
func (w *Window) loadShared() {
	if err := lockFile(w.file); err != nil {
		return
	}
	w.times, w.next = w.times[:0], 0
	var head [8]byte
	if k, _ := w.file.ReadAt(head[:], 0); k < 8 || string(head[:4]) != sharedMagic {
		return
	}
	// A process with a larger window may have written more: the newest n count.
	count := int(binary.LittleEndian.Uint32(head[4:8]))
	keep := min(count, w.n)
	buf := w.scratch(8 * keep)
	if k, _ := w.file.ReadAt(buf, 8+8*int64(count-keep)); k < len(buf) {
		return
	}
	for i := range keep {
		w.times = append(w.times, time.Unix(0, int64(binary.LittleEndian.Uint64(buf[8*i:]))))
	}
}

// saveShared writes the window's admissions, oldest first, if one was made, and
// unlocks the file.
func (w *Window) saveShared() {
	if w.dirty {
		buf := w.scratch(8 + 8*len(w.times))
		copy(buf, sharedMagic)
		binary.LittleEndian.PutUint32(buf[4:8], uint32(len(w.times)))
		for i := range w.times {
			t := w.times[(w.next+i)%len(w.times)]
			binary.LittleEndian.PutUint64(buf[8+8*i:], uint64(t.UnixNano()))
		}
		_, _ = w.file.WriteAt(buf, 0)
		w.dirty = false
	}
	_ = unlockFile(w.file)
}

// scratch returns a buffer of n bytes for the file's contents, reused from one
// admission to the next (the window's mutex is held).
func (w *Window) scratch(n int) []byte {
	if cap(w.buf) < n {
		w.buf = make([]byte, n)
	}
	return w.buf[:n]
}
