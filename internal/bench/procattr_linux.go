package bench

import "syscall"

// childProcAttr has the kernel kill a child process when the bench dies, so
// an interrupted run never leaves a triggerd serving.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
