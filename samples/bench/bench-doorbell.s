# bench-doorbell: N 4-byte `out` writes of the same value, 1, to the
# doorbell port 0x0500: the "notify the device" write of a virtio-style
# queue, which carries no data the VMM must see at once. Without a host
# extension each is a VM exit to the VMM; with an ioeventfd on the port
# (optionally matching the value 1) KVM only signals an eventfd and
# resumes the guest.
#
# 64 KiB firmware; see fw32.s for the startup and where N lives.

	.equ	ITERATIONS, 10000
	.equ	DOORBELL_PORT, 0x0500
	.equ	DOORBELL_VALUE, 1
	.include "fw32.s"

	.globl	bench
	.type	bench, @function
bench:
	movw	$DOORBELL_PORT, %dx
	movl	$DOORBELL_VALUE, %eax
1:	outl	%eax, %dx		# one VM exit, or one eventfd signal
	count_down 1b
	jmp	done
	.size	bench, . - bench
