// Package gdbstub is the GDB Remote Serial Protocol in front of a debug
// target: gdb (or LLDB) attaches to kvmscope as to QEMU's -s -S.
//
//	addr, warning, err := gdbstub.ListenAddr("1234")   // 127.0.0.1:1234
//	ln, err := net.Listen("tcp", addr)
//	fmt.Println(gdbstub.GDBCommand(ln.Addr().String())) // gdb -ex 'target remote 127.0.0.1:1234'
//	end, err := gdbstub.Serve(ctx, ln, session, gdbstub.Options{})
//
// # Sessions
//
// Serve serves one gdb at a time. A second client that connects while one
// is attached gets "E.kvmscope: another gdb is attached (from ADDR);
// detach it first" as the answer to each of its first packets, which gdb
// prints ("Remote replied unexpectedly to 'vMustReplyEmpty': E.kvmscope:
// ..."), and is disconnected; the attached gdb is not disturbed.
//
// A gdb that attaches while the machine runs stops it (Halt) and sees it
// stopped. When gdb detaches (D), or its connection ends without a word
// (gdb killed, network gone: a read error or EOF), Serve removes gdb's
// breakpoints and watchpoints and resumes every vCPU: the guest runs on,
// whether gdb had stopped it or it was stopped from the start (-S). If the
// connection drops while the machine runs, Serve halts it just long
// enough to remove the breakpoints. A new gdb may then attach.
//
// Serve returns when the machine ends (End{Reason: EndExited}: gdb, if
// attached, was sent W or X first), when gdb sends k (EndKilled: the
// caller ends the machine), or when ctx is canceled (EndCanceled: the
// machine is left as it is). Detach does not end Serve.
//
// # Packets
//
// packet.go does the framing: $data#cs with its checksum, '+'/'-'
// acknowledgments until QStartNoAckMode, run-length decoding of what gdb
// sends, '}' escaping ('$', '#', '}' and '*' in replies; the X packet's
// binary data), and the 0x03 interrupt byte between packets. A bad
// checksum is answered '-' (nothing in no-ack mode); a packet longer than
// PacketSize (qSupported says how long) or with a broken run-length
// encoding is read to its end, acknowledged, and answered "E.<why>";
// noise between packets is skipped. None of them ends the session.
//
// Commands are dispatched through one prefix table (commands.go); each
// family lives in its own file: cmd_query.go (qSupported,
// QStartNoAckMode, qAttached), cmd_qxfer.go (target description),
// cmd_thread.go (qfThreadInfo, qsThreadInfo, qC, qThreadExtraInfo, H, T),
// cmd_regs.go (g, G, p, P), cmd_m.go (m, M, X), cmd_z.go (Z0-Z4,
// z0-z4), cmd_vcont.go (vCont?, vCont, c, C, s, S), cmd_stop.go (?, D,
// k, vKill, stop replies), cmd_monitor.go (qRcmd). Anything else gets the
// empty reply ("not supported"). Errors are E and the errno in decimal,
// as QEMU's stub answers: E14 (EFAULT) for memory that is not there, E22
// (EINVAL) for a malformed packet, E03 (ESRCH) for an unknown thread, E16
// (EBUSY) while the machine runs, E28 (ENOSPC) when no debug register is
// free; a target error that wraps a syscall.Errno gives that errno. A
// breakpoint or watchpoint kind the target refuses with
// errors.ErrUnsupported gets the empty reply, so gdb knows it is missing.
//
// # Threads
//
// Every vCPU is a thread; gdb's thread id is the vCPU id + 1.
// qThreadExtraInfo names the vCPU and its mode ("vCPU 0, 64-bit long
// mode"), so `info threads` shows it. The stop reply's thread becomes the
// current thread (for g, m...), as gdb assumes.
//
// # Registers
//
// The register layout never changes with the vCPU's mode: it is always
// x86-64's, so gdb never says "Remote 'g' packet reply is too long" when a
// guest goes from real to protected to long mode. One table (regs.go)
// says, for each register, its name, size, gdb type and group and how it
// maps to and from debug.Registers; the target description, g, G, p and P
// are derived from it. gdb's register numbers:
//
//	0-15    rax rbx rcx rdx rsi rdi rbp rsp r8-r15   org.gnu.gdb.i386.core
//	16      rip (see Addresses)
//	17      eflags (the low 32 bits of RFLAGS)
//	18-23   cs ss ds es fs gs (selectors)
//	24-31   st0-st7 (80 bits)
//	32-39   fctrl fstat ftag fiseg fioff foseg fooff fop
//	40-55   xmm0-xmm15                               org.gnu.gdb.i386.sse
//	56      mxcsr
//	57-58   fs_base gs_base                          org.gnu.gdb.i386.segments
//	59      k_gs_base (MSR_KERNEL_GS_BASE)           org.kvmscope.x86.sys
//	60-65   cr0 cr2 cr3 cr4 cr8 efer
//	66-81   cs_base cs_limit cs_attr, ss_*, ds_*, es_*,
//	        fs_limit fs_attr, gs_limit gs_attr      org.kvmscope.x86.state
//	82-85   tr tr_base tr_limit tr_attr
//	86-89   ldt ldt_base ldt_limit ldt_attr
//	90-93   gdtr_base gdtr_limit idtr_base idtr_limit
//	94-99   dr0 dr1 dr2 dr3 dr6 dr7 (the guest's own)
//
// The names of 57-65 are those of QEMU's stub. Segment attributes use
// VMX's access-rights layout (type 0-3, S 4, DPL 5-6, P 7, AVL 12, L 13,
// D/B 14, G 15, unusable 16); ftag is the full x87 tag word, built from
// and folded back into FXSAVE's abridged tag. Writing a different segment
// selector in real or virtual-8086 mode also loads its base (selector ×
// 16), as the CPU would; in protected mode set *_base, *_limit and *_attr
// for the hidden part.
//
// # Addresses
//
// Every address gdb sends (m, M, X, Z, c ADDR, s ADDR) is linear in the
// mode of the current vCPU; Target.ReadVirtual and WriteVirtual translate
// it. So that $pc, breakpoints and `x/i $pc` agree, rip as gdb sees it is
// the linear address of the next instruction: in real mode and virtual-
// 8086 mode CS.base + IP, and in every mode but 64-bit mode likewise
// CS.base + EIP (which is EIP itself with the flat segments of most
// protected-mode code). Writing rip converts back: IP = value − CS.base,
// cut to the mode's width. The other registers are as the CPU has them.
// gdb decodes instructions as 64-bit code whatever the mode: in real mode
// say `set architecture i8086`, or use `monitor code`, which decodes in the
// vCPU's mode.
//
// # Running
//
// Every resume goes through Target.Resume with one debug.Resume per vCPU.
// vCont follows the protocol: for each vCPU the leftmost action whose
// thread-id matches applies, and vCPUs that none matches stay stopped:
// "vCont;s:2;c" steps thread 2 while the others continue, "vCont;s:2"
// (what gdb sends under `set scheduler-locking step`) steps it with the
// others stopped. vCont? announces c, C, s and S; C and S act as c and s
// (a vCPU has no signals to deliver). The legacy s steps the Hc (or
// current) vCPU alone; c continues all. Ctrl-C (0x03 while the machine
// runs) calls Halt.
//
// Z0 sets a debug.BreakSoftware breakpoint, Z1 debug.BreakHardware, Z2,
// Z3 and Z4 a debug.WatchWrite, WatchRead and WatchAccess watchpoint of
// length 1, 2, 4 or 8. Inserting one twice is harmless.
//
// Stop replies: T05thread:N; for a step or an unknown reason, with
// swbreak:; or hwbreak:; when the stop is at one of gdb's Z0 or Z1
// breakpoints (and gdb announced it understands these), watch:ADDR;,
// rwatch:ADDR; or awatch:ADDR; for a watchpoint, and T02 (SIGINT) for a
// requested stop. When the machine ends: W and the guest's status for
// vmm.StopGuestExit, W00 for a power-off, X and a signal for the other
// ends: SIGSEGV (0b) for a fault, SIGPWR (20) for a reset, SIGALRM (0e)
// for the time limit, SIGKILL (09) when canceled, SIGABRT (06) when
// kvmscope failed. gdb prints "exited with code NN" or "terminated with
// signal ...".
//
// # Monitor commands
//
// `monitor help` lists them: regs (the full decoded state with the hidden
// parts of the segments, control and debug registers, FS/GS/KernelGS
// bases, CS:IP in real mode), code [N] (disassembly at pc), phys ADDR LEN
// (hex dump of guest-physical memory), exits (the exit table), probe (how
// breakpoints are implemented), step-irq [on|off]. The output comes back
// as O packets and the command ends with OK.
//
// # What the Target must guarantee
//
//   - Stops returns the same channel every time, and it stays open while
//     Serve runs. Exactly one StopEvent follows each Resume; no event comes
//     otherwise. Halt while the machine runs (or while its stop is
//     already on the way) adds no second event; Halt while stopped does
//     nothing.
//   - Serve never calls Resume while the machine runs nor after a
//     StopExited, and calls Registers, SetRegisters, WriteVirtual and the
//     breakpoint methods only while it is stopped. It tracks this from the
//     calls it makes and the events it receives, so it must know how the
//     machine starts: Options.Running, or the RunState interface.
//   - At a StopBreakpoint the vCPU's pc is the breakpoint's address (an
//     int3 has been rewound). A StopWatchpoint's Addr is in the range gdb
//     set (gdb matches it to its watchpoint), and the event comes after
//     the access, as x86 debug registers report it.
//   - StopEvent.VCPU is a vCPU id from VCPUs (an unknown one is reported
//     on the current thread).
//   - Halt returns promptly; it is called from Serve's goroutine.
package gdbstub
