# runaway: jump to the last bytes of guest RAM and run off its end, as a
# guest does after a jump through a wild pointer.
#
# Free RAM is zeros, and 00 00 is `add %al,(%rax)`: with RAX pointing at
# scratch RAM the CPU executes those harmlessly up to the end of RAM, then
# fetches its next instruction from a guest-physical address with no
# memory behind it. KVM cannot emulate an instruction it cannot fetch and
# stops with an internal error, which the VMM must report (status 3) with
# the registers, instead of hanging or spinning.
#
# ELF64, entered in 64-bit long mode at _start (0x100000), with the first
# 4 GiB identity-mapped; run with the default 64 MiB of RAM.

	.equ	RAM_END, 64 << 20	# the default guest RAM: 64 MiB
	.equ	SCRATCH, 0x8000		# where the zeros' `add %al,(%rax)` write

	.code64
	.text

	.globl	_start
	.type	_start, @function
_start:
	leaq	stack_top(%rip), %rsp
	leaq	message(%rip), %rsi
	call	puts
	movl	$SCRATCH, %eax
	movl	$RAM_END - 16, %ecx
	jmp	*%rcx			# eight `add %al,(%rax)`, then past the end
	.size	_start, . - _start

	.include "com1-puts64.s"

	.section .rodata
message:
	.asciz	"runaway: jumping to the end of RAM\n"

	.bss
	.balign	16
	.space	4096
stack_top:
