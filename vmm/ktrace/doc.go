// Package ktrace reads KVM's own trace events from tracefs — kvm_exit,
// kvm_entry and kvm_userspace_exit — for the exits that the binary stats
// fd only counts by kind: per hardware exit reason (SVM's cpuid, npf, io,
// ...; VMX's CPUID, EPT_VIOLATION, IO_INSTRUCTION, ...), how many stayed
// in the kernel, how many came to user space, and what each path cost.
//
// It works in a private tracefs instance (instances/kvmscope-PID), so the
// global trace buffer and other tracers are left alone, restricted to the
// machine's vCPU threads with set_event_pid. It reads the per-CPU binary
// buffers (trace_pipe_raw), not the text trace_pipe: the text prints
// timestamps in microseconds, too coarse for an in-kernel exit of a few
// hundred nanoseconds on real hardware, and makes the kernel format every
// event with kvm_exit's long symbol tables. The binary records carry
// nanosecond timestamps and are decoded with the layouts the kernel
// publishes in events/kvm/*/format.
//
// An exit is paired with the next kvm_entry of the same thread: with a
// kvm_userspace_exit in between it went to user space (the exit→entry
// time is then the whole round trip through the VMM), otherwise KVM
// handled it in the kernel (the time is KVM's handling).
package ktrace
