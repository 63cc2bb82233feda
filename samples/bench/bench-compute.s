# bench-compute: the baseline. N iterations of register arithmetic (one
# step of a linear congruential generator and a rotate-xor), with no
# memory access, no I/O and so no VM exit: what the guest costs when the
# VMM has nothing to do.
#
# 64 KiB firmware; see fw32.s for the startup and where N lives.

	.equ	ITERATIONS, 10000
	.include "fw32.s"

	.globl	bench
	.type	bench, @function
bench:
	movl	$1, %eax
	xorl	%ebx, %ebx
1:	imull	$1103515245, %eax, %eax	# x = x * 1103515245 + 12345
	addl	$12345, %eax
	roll	$7, %ebx
	xorl	%eax, %ebx
	count_down 1b
	jmp	done
	.size	bench, . - bench
