//go:build linux

package miniotest

import "syscall"

// sysProcAttr kills MinIO when the test binary dies without running its
// cleanups (panic, timeout, ^C), so no orphan server keeps a port.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
