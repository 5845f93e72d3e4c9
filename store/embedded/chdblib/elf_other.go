//go:build !amd64 && !arm64

package chdblib

// elfMachine 0 skips the machine check: chdb publishes no library for
// other architectures, so there is nothing to compare with.
const elfMachine, archName = 0, "this architecture"
