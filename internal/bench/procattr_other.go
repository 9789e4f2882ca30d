//go:build !linux

package bench

import "syscall"

// childProcAttr is the default elsewhere: no parent-death signal.
func childProcAttr() *syscall.SysProcAttr { return nil }
