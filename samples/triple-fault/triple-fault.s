# triple-fault: print a line, then make the CPU shut down.
#
# With an empty IDT (limit 0) no vector can be delivered: ud2 raises #UD,
# delivering it fails with #GP, delivering that fails and becomes a double
# fault (#DF), and failing to deliver #DF is a triple fault. The CPU enters
# shutdown, which KVM reports as KVM_EXIT_SHUTDOWN; the VMM must report it
# (with the registers) rather than spin or hang. Port 0xf4 is never written.
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

	lidt	empty_idt(%rip)
	.globl	fault
fault:	ud2				# #UD -> #GP -> #DF -> shutdown
halt:	hlt				# never reached
	jmp	halt
	.size	_start, . - _start

	.include "com1-puts64.s"

	.section .rodata
	.type	message, @object
message:
	.asciz	"about to triple-fault\n"
	.size	message, . - message

	.balign	8
	.type	empty_idt, @object
empty_idt:				# lidt operand in long mode: limit, 64-bit base
	.word	0			# limit 0: not even one 16-byte gate fits
	.quad	0
	.size	empty_idt, . - empty_idt

	.bss
	.balign	16
	.type	stack, @object
stack:
	.skip	4096
stack_top:
	.size	stack, . - stack
