package embedded

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFile is the name of the lock file inside a data directory.
const LockFile = "furrow.lock"

// Holder describes the process that holds a data directory.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Address string    `json:"address,omitempty"`
	Since   time.Time `json:"since"`
}

// LockedError is returned when another process holds the data directory.
type LockedError struct {
	Dir    string
	Holder Holder
}

func (e *LockedError) Error() string {
	h := e.Holder
	msg := fmt.Sprintf("data directory %s is in use by another furrow process (pid %d, %q", e.Dir, h.PID, h.Command)
	if h.Address != "" {
		msg += ", serving http://" + h.Address
	}
	msg += ")"
	return msg
}

// ErrLocked matches any *LockedError with errors.Is.
var ErrLocked = errors.New("data directory locked")

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// dirLock is an exclusive flock on <dir>/furrow.lock. The kernel releases it
// when the process dies, so a crash never leaves a stale lock; the file's
// content only describes the holder for others.
type dirLock struct {
	f      *os.File
	holder Holder
}

func lockDir(dir, command string) (*dirLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		h, _ := ReadHolder(dir)
		return nil, &LockedError{Dir: dir, Holder: h}
	}
	l := &dirLock{f: f, holder: Holder{PID: os.Getpid(), Command: command, Since: time.Now().UTC()}}
	if err := l.write(); err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}

func (l *dirLock) write() error {
	b, _ := json.Marshal(l.holder)
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	if _, err := l.f.WriteAt(append(b, '\n'), 0); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	return nil
}

func (l *dirLock) release() {
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
}

// ReadHolder reads who holds dir, if anyone does. It returns ok=false when
// the lock is free (the file may still hold a dead process's description).
func ReadHolder(dir string) (Holder, bool) {
	path := filepath.Join(dir, LockFile)
	f, err := os.Open(path)
	if err != nil {
		return Holder{}, false
	}
	defer f.Close()
	// A shared non-blocking lock succeeds only when nobody holds it.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return Holder{}, false
	}
	var h Holder
	b, _ := os.ReadFile(path)
	_ = json.Unmarshal(b, &h)
	return h, true
}
