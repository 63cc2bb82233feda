# elf32-hello: print one line on COM1 from 32-bit protected mode and exit
# with status 32, written as a 4-byte outl to exercise wide port writes.
#
# ELF32 (EM_386), entered at _start (0x100000) in flat 32-bit protected
# mode with paging off and interrupts off. ESP is not to be trusted on
# entry, so the first thing we do is load our own stack.

	.equ	COM1, 0x3f8		# 8250 UART transmit holding register
	.equ	COM1_LSR, COM1 + 5	# line status register
	.equ	LSR_THRE, 0x20		# THR empty: ready for the next byte
	.equ	DEBUG_EXIT, 0xf4	# a write ends the VM; the low byte is the exit status

	.code32
	.text

	.globl	_start
	.type	_start, @function
_start:
	movl	$stack_top, %esp
	movl	$message, %esi
	call	puts

	movl	$32, %eax		# exit status 32,
	outl	%eax, $DEBUG_EXIT	# as a 4-byte write
halt:	hlt				# not reached under kvmscope
	jmp	halt
	.size	_start, . - _start

# puts writes the NUL-terminated string at %esi to COM1.
# Clobbers %eax, %edx, %esi.
	.globl	puts
	.type	puts, @function
puts:
	movb	(%esi), %ah
	testb	%ah, %ah
	jz	2f
	movw	$COM1_LSR, %dx
1:	inb	%dx, %al		# wait until the transmitter can take a byte
	testb	$LSR_THRE, %al
	jz	1b
	movw	$COM1, %dx
	movb	%ah, %al
	outb	%al, %dx
	incl	%esi
	jmp	puts
2:	ret
	.size	puts, . - puts

	.section .rodata
	.type	message, @object
message:
	.asciz	"Hello from 32-bit protected mode\n"
	.size	message, . - message

	.bss
	.balign	16
	.type	stack, @object
stack:
	.skip	4096
stack_top:
	.size	stack, . - stack
