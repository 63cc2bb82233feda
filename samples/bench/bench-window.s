# bench-window: a device data window. N 4-byte writes into the 64-byte MMIO
# window at 0xd0001000, at offsets 0, 4, ..., 60 and round again; after
# every 16th write (the window is full) a 1-byte `out` to the flush port
# 0x0504 tells the device to take the data. If N is not a multiple of 16,
# one last flush follows the last write. The byte written to the flush
# port is the number of 4-byte writes since the previous flush (16, or
# N mod 16 for the last); each window write's value is the low half of
# the countdown (N, N-1, ..., 1).
#
# Without a host extension every window write and every flush is a VM
# exit. With the window registered for coalesced MMIO, KVM queues the
# writes in a ring and resumes the guest; the flush is a real exit, at
# which the VMM drains the ring: 16 writes per exit instead of 17.
#
# 64 KiB firmware; see fw32.s for the startup and where N lives.

	.equ	ITERATIONS, 10000
	.equ	WINDOW, 0xd0001000	# 64 bytes, 16 dwords, in the 32-bit PCI hole
	.equ	WINDOW_SIZE, 64
	.equ	FLUSH_PORT, 0x0504
	.include "fw32.s"

	.globl	bench
	.type	bench, @function
bench:
	movl	$WINDOW, %ebx		# where the next write goes
	movw	$FLUSH_PORT, %dx
1:	movl	%esi, (%ebx)
	addl	$4, %ebx
	cmpl	$WINDOW + WINDOW_SIZE, %ebx
	jne	2f
	movb	$WINDOW_SIZE / 4, %al	# the window is full: flush it
	outb	%al, %dx
	movl	$WINDOW, %ebx
2:	count_down 1b

	movl	%ebx, %eax		# a partly filled window: flush the rest
	subl	$WINDOW, %eax
	jz	done
	shrl	$2, %eax
	outb	%al, %dx
	jmp	done
	.size	bench, . - bench
