# bench-cpuid: N `cpuid` instructions (leaf 0). CPUID always causes a VM
# exit, but KVM answers it in the kernel from the table the VMM set with
# KVM_SET_CPUID2, so the VMM never sees one: the cost of the cheapest
# exit, with no user-space round trip.
#
# 64 KiB firmware; see fw32.s for the startup and where N lives.

	.equ	ITERATIONS, 10000
	.include "fw32.s"

	.globl	bench
	.type	bench, @function
bench:
1:	xorl	%eax, %eax		# leaf 0
	xorl	%ecx, %ecx
	cpuid				# clobbers %eax, %ebx, %ecx, %edx
	count_down 1b
	jmp	done
	.size	bench, . - bench
