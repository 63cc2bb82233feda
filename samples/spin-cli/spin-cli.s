# spin-cli: turn interrupts off and spin forever, as a kernel that
# deadlocks on a spinlock with interrupts disabled does. No exit ever
# reaches the VMM, so only its time limit (--timeout, status 124), a
# debugger's stop (the kick out of KVM_RUN) or Ctrl-C ends it.
#
# ELF64, entered in 64-bit long mode at _start (0x100000).


	.code64
	.text

	.globl	_start
	.type	_start, @function
_start:
	leaq	stack_top(%rip), %rsp
	leaq	message(%rip), %rsi
	call	puts
	cli
	.globl	spin
spin:	pause
	jmp	spin
	.size	_start, . - _start

	.include "com1-puts64.s"

	.section .rodata
message:
	.asciz	"spin-cli: interrupts off, spinning\n"

	.bss
	.balign	16
	.space	4096
stack_top:
