# com1-puts64.s: the 64-bit samples' one way to print, included in their
# .text (assemble with -I lib).

	.equ	COM1, 0x3f8		# 8250 UART transmit holding register
	.equ	COM1_LSR, COM1 + 5	# line status register
	.equ	LSR_THRE, 0x20		# THR empty: ready for the next byte

# puts writes the NUL-terminated string at %rsi to COM1.
# Clobbers %rax, %rdx, %rsi.
	.globl	puts
	.type	puts, @function
puts:
	movb	(%rsi), %ah
	testb	%ah, %ah
	jz	2f
	movw	$COM1_LSR, %dx
1:	inb	%dx, %al		# wait until the transmitter can take a byte
	testb	$LSR_THRE, %al
	jz	1b
	movw	$COM1, %dx
	movb	%ah, %al
	outb	%al, %dx
	incq	%rsi
	jmp	puts
2:	ret
	.size	puts, . - puts
