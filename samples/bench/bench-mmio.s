# bench-mmio: N 4-byte writes to 0xd0000000, in the 32-bit PCI hole where
# there is no memory and no kvmscope device: KVM emulates each `mov` and
# exits to the VMM (KVM_EXIT_MMIO). The value written is the low half of
# the countdown (N, N-1, ..., 1).
#
# 64 KiB firmware; see fw32.s for the startup and where N lives.

	.equ	ITERATIONS, 10000
	.equ	MMIO_ADDR, 0xd0000000	# unclaimed MMIO: reads all ones, writes are dropped
	.include "fw32.s"

	.globl	bench
	.type	bench, @function
bench:
	movl	$MMIO_ADDR, %ebx
1:	movl	%esi, (%ebx)		# one VM exit
	count_down 1b
	jmp	done
	.size	bench, . - bench
