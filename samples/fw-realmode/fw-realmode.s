# fw-realmode: a 64 KiB firmware image that starts at the reset vector in
# real mode, computes 6 * 7 by repeated addition in a subroutine, prints
# the result in decimal ("fw: 42\n") on COM1, and exits with that result
# as the status (a 1-byte out of 42 to port 0xf4).
#
# Layout (offsets in the image = offsets in segment F000h): code and data
# from 0, 0xff padding, the reset vector at 0xfff0. The VMM maps the image
# so that it ends at 4 GiB and at 1 MiB (0xF0000-0xFFFFF). The CPU starts
# at F000:FFF0 with CS base FFFF0000h; the far jump there reloads CS with
# F000h (base F0000h) and so moves execution below 1 MiB. Nothing else is
# assumed of the machine: the stack is set up here, in RAM below 0x7c00.

	.equ	COM1, 0x3f8		# 8250 UART transmit holding register
	.equ	COM1_LSR, COM1 + 5	# line status register
	.equ	LSR_THRE, 0x20		# THR empty: ready for the next byte
	.equ	DEBUG_EXIT, 0xf4	# a write ends the VM; the byte is the exit status
	.equ	STACK_TOP, 0x7c00	# SS = 0, so the stack grows down from 0000:7C00

	.code16
	.text

	.globl	start
	.type	start, @function
start:
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ss
	movw	$STACK_TOP, %sp
	movw	%cs, %ax		# F000h: our strings are in this segment
	movw	%ax, %ds

	movw	$6, %ax
	movw	$7, %cx
	call	multiply		# %ax = 42
	movw	%ax, %bx

	movw	$prefix, %si
	call	puts
	movw	%bx, %ax
	call	putdec
	movb	$'\n', %al
	call	putc

	movw	%bx, %ax
	outb	%al, $DEBUG_EXIT	# exit status 42
halt:	hlt				# not reached under kvmscope
	jmp	halt
	.size	start, . - start

# multiply returns %ax * %cx in %ax, by repeated addition.
# Clobbers %cx, %dx.
	.type	multiply, @function
multiply:
	movw	%ax, %dx
	xorw	%ax, %ax
	jcxz	2f
1:	addw	%dx, %ax
	loop	1b
2:	ret
	.size	multiply, . - multiply

# putdec writes %ax to COM1 as an unsigned decimal number: the digits are
# pushed on the stack least significant first, then popped and printed.
# Clobbers %ax, %cx, %dx.
	.type	putdec, @function
putdec:
	pushw	%bx
	movw	$10, %bx
	xorw	%cx, %cx		# digit count
1:	xorw	%dx, %dx
	divw	%bx			# %ax = %dx:%ax / 10, %dx = remainder
	pushw	%dx
	incw	%cx
	testw	%ax, %ax
	jnz	1b
2:	popw	%ax
	addb	$'0', %al
	call	putc
	loop	2b
	popw	%bx
	ret
	.size	putdec, . - putdec

# puts writes the NUL-terminated string at %ds:%si to COM1.
# Clobbers %ax, %dx, %si.
	.type	puts, @function
puts:
	lodsb
	testb	%al, %al
	jz	1f
	call	putc
	jmp	puts
1:	ret
	.size	puts, . - puts

# putc writes %al to COM1 once the transmitter is ready. Clobbers %dx.
	.type	putc, @function
putc:
	pushw	%ax
	movw	$COM1_LSR, %dx
1:	inb	%dx, %al
	testb	$LSR_THRE, %al
	jz	1b
	popw	%ax
	movw	$COM1, %dx
	outb	%al, %dx
	ret
	.size	putc, . - putc

	.type	prefix, @object
prefix:
	.asciz	"fw: "
	.size	prefix, . - prefix

# The reset vector: the last 16 bytes of the image, F000:FFF0.
	.org	0xfff0, 0xff
	.globl	reset_vector
	.type	reset_vector, @function
reset_vector:
	ljmp	$0xf000, $start
	.size	reset_vector, . - reset_vector
	.org	0x10000, 0xff
