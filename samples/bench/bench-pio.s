# bench-pio: N 1-byte `out` writes to port 0x0401, which no kvmscope
# device claims: each is a VM exit to the VMM (KVM_EXIT_IO), unless a host
# extension absorbs it in the kernel. The byte written is the low byte of
# the countdown (N, N-1, ..., 1), as in pio-loop.
#
# 64 KiB firmware; see fw32.s for the startup and where N lives.

	.equ	ITERATIONS, 10000
	.equ	PIO_PORT, 0x0401	# unclaimed: reads 0xff, writes are dropped
	.include "fw32.s"

	.globl	bench
	.type	bench, @function
bench:
	movw	$PIO_PORT, %dx
1:	movl	%esi, %eax
	outb	%al, %dx		# one VM exit
	count_down 1b
	jmp	done
	.size	bench, . - bench
