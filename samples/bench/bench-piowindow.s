# bench-piowindow: a device data window in port space. N 1-byte `out`
# writes to the 8 ports 0x0508-0x050f, one after the other, 0x508, 0x509,
# ..., 0x50f, 0x508, ...; after every 8th write (the window is full) a
# 1-byte `out` to the flush port 0x0504 tells the device to take the data.
# If N is not a multiple of 8, one last flush follows the last write. The
# byte written to the flush port is the number of writes since the
# previous flush (8, or N mod 8 for the last); each window write's byte is
# the low byte of the countdown (N, N-1, ..., 1).
#
# Without a host extension every window write and every flush is a VM
# exit. With the ports registered for coalesced PIO, KVM queues the writes
# in a ring and resumes the guest; the flush is a real exit, at which the
# VMM drains the ring: 8 writes per exit instead of 9. It is bench-window
# (coalesced MMIO) with ports instead of addresses.
#
# 64 KiB firmware; see fw32.s for the startup and where N lives.

	.equ	ITERATIONS, 10000
	.equ	PIO_WINDOW, 0x0508	# 8 ports, 0x508-0x50f
	.equ	PIO_WINDOW_SIZE, 8
	.equ	FLUSH_PORT, 0x0504
	.include "fw32.s"

	.globl	bench
	.type	bench, @function
bench:
	movl	$PIO_WINDOW, %ebx	# the port the next write goes to
1:	movl	%ebx, %edx
	movl	%esi, %eax
	outb	%al, %dx
	incl	%ebx
	cmpl	$PIO_WINDOW + PIO_WINDOW_SIZE, %ebx
	jne	2f
	movw	$FLUSH_PORT, %dx	# the window is full: flush it
	movb	$PIO_WINDOW_SIZE, %al
	outb	%al, %dx
	movl	$PIO_WINDOW, %ebx
2:	count_down 1b

	movl	%ebx, %eax		# a partly filled window: flush the rest
	subl	$PIO_WINDOW, %eax
	jz	done
	movw	$FLUSH_PORT, %dx
	outb	%al, %dx
	jmp	done
	.size	bench, . - bench
