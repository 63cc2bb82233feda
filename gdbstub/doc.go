// Package gdbstub is the GDB Remote Serial Protocol in front of a debug
// target: gdb (or LLDB) attaches to kvmscope as to QEMU's -s -S.
package gdbstub
