# spin-cli: turn interrupts off and spin forever, as a kernel that
# deadlocks on a spinlock with interrupts disabled does. No exit ever
# reaches the VMM, so only its time limit (--timeout, status 124), a
# debugger's stop (the kick out of KVM_RUN) or Ctrl-C ends it.
#
# ELF64, entered in 64-bit long mode at _start (0x100000).

	.equ	COM1, 0x3f8		# 8250 UART transmit holding register
	.equ	COM1_LSR, COM1 + 5	# line status register
	.equ	LSR_THRE, 0x20		# THR empty: ready for the next byte

	.code64
	.text

	.globl	_start
	.type	_start, @function
_start:
	leaq	stack_top(%rip), %rsp
	leaq	message(%rip), %rsi
	call	puts
	cli
	.globl	spin
spin:	pause
	jmp	spin
	.size	_start, . - _start

# puts writes the NUL-terminated string at %rsi to COM1.
# Clobbers %rax, %rdx, %rsi.
	.globl	puts
	.type	puts, @function
puts:
	movb	(%rsi), %ah
	testb	%ah, %ah
	jz	2f
	movw	$COM1_LSR, %dx
1:	inb	%dx, %al
	testb	$LSR_THRE, %al
	jz	1b
	movw	$COM1, %dx
	movb	%ah, %al
	outb	%al, %dx
	incq	%rsi
	jmp	puts
2:	ret
	.size	puts, . - puts

	.section .rodata
message:
	.asciz	"spin-cli: interrupts off, spinning\n"

	.bss
	.balign	16
	.space	4096
stack_top:
