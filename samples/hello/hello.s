# hello: print one line on COM1 and exit with status 0.
#
# ELF64, entered in 64-bit long mode at _start (0x100000) with flat
# segments, the first 4 GiB identity mapped and interrupts off. RSP is not
# to be trusted on entry, so the first thing we do is load our own stack.

	.equ	DEBUG_EXIT, 0xf4	# a write ends the VM; the byte is the exit status

	.code64
	.text

	.globl	_start
	.type	_start, @function
_start:
	leaq	stack_top(%rip), %rsp
	leaq	message(%rip), %rsi
	call	puts

	xorl	%eax, %eax		# exit status 0
	outb	%al, $DEBUG_EXIT
halt:	hlt				# not reached under kvmscope
	jmp	halt
	.size	_start, . - _start

	.include "com1-puts64.s"

	.section .rodata
	.type	message, @object
message:
	.asciz	"Hello from kvmscope guest!\n"
	.size	message, . - message

	.bss
	.balign	16
	.type	stack, @object
stack:
	.skip	4096
stack_top:
	.size	stack, . - stack
