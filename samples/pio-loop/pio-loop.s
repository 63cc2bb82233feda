# pio-loop: the exit-cost workload. Writes one byte to an I/O port that no
# device claims, `iterations` times, then exits with status 0. It prints
# nothing: every one of those writes is a VM exit to the VMM (or, with
# host extensions such as coalesced PIO or an ioeventfd on the port, is
# absorbed in the kernel), and that is what gets counted and timed.
#
# The count is a 64-bit little-endian variable, `iterations`, in its own
# section at the fixed physical address 0x100008, so the VMM can change it
# in guest memory (after loading, before the first KVM_RUN) without
# rebuilding. The first 8 bytes of the image, at 0x100000, are a jump over
# it. A count of 0 means no writes.
#
# ELF64, entered in 64-bit long mode at _start (0x100000).

	.equ	PIO_PORT, 0x0401	# unclaimed: reads 0xff, writes are dropped
	.equ	DEBUG_EXIT, 0xf4	# a write ends the VM; the byte is the exit status

	.code64

	.section .head, "ax", @progbits
	.globl	_start
	.type	_start, @function
_start:
	jmp	run			# 5 bytes, then padding up to 0x100008
	.balign	8, 0xcc			# int3
	.size	_start, . - _start

	.section .iterations, "a", @progbits
	.globl	iterations
	.type	iterations, @object
iterations:
	.quad	100000
	.size	iterations, . - iterations

	.text
	.globl	run
	.type	run, @function
run:
	leaq	stack_top(%rip), %rsp	# unused by the loop; set for the debugger's sake
	movq	iterations(%rip), %rcx
	movw	$PIO_PORT, %dx
	testq	%rcx, %rcx
	jz	done
again:	movb	%cl, %al		# low byte of the countdown: visible in exit traces
	outb	%al, %dx		# one VM exit
	decq	%rcx
	jnz	again
done:	xorl	%eax, %eax		# exit status 0
	outb	%al, $DEBUG_EXIT
halt:	hlt				# not reached under kvmscope
	jmp	halt
	.size	run, . - run

	.bss
	.balign	16
	.type	stack, @object
stack:
	.skip	4096
stack_top:
	.size	stack, . - stack
