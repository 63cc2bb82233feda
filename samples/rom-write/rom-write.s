# rom-write: a 64 KiB firmware image that writes to its own ROM, as a
# firmware with a wild pointer (or one that forgot to shadow itself into
# RAM) does, and checks that the write was dropped, as hardware drops it.
#
# The CPU starts at F000:FFF0 with CS base FFFF0000h: the top copy of the
# image, which the VMM maps read-only. A near jump keeps that CS base, so
# the code runs from ROM; real mode checks no segment types, so a CS
# override writes through CS too, to linear FFFFxxxxh, which is ROM.
# kvmscope stops the guest there with a fault report by default; with
# --rom-writes drop the write is dropped, as hardware drops it, and the
# sample prints whether the byte kept its value and exits with status 0 if
# it did, 1 if it changed (ROM was writable).

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
	movw	%cs, %ax		# F000h, base FFFF0000h: the ROM copy
	movw	%ax, %ds
	movb	$0x5a, %cs:target	# write to ROM
	movw	$kept, %si
	xorb	%bl, %bl		# status 0: the ROM kept its byte
	cmpb	$0xa5, %cs:target
	je	1f
	movw	$changed, %si
	movb	$1, %bl			# status 1: the write went through
1:	call	puts
	movb	%bl, %al
	outb	%al, $DEBUG_EXIT
2:	hlt
	jmp	2b
	.size	start, . - start

# puts writes the NUL-terminated string at DS:SI to COM1.
	.type	puts, @function
puts:
	lodsb
	testb	%al, %al
	jz	2f
	movb	%al, %ah
	movw	$COM1_LSR, %dx
1:	inb	%dx, %al
	testb	$LSR_THRE, %al
	jz	1b
	movw	$COM1, %dx
	movb	%ah, %al
	outb	%al, %dx
	jmp	puts
2:	ret
	.size	puts, . - puts

	.globl	target
	.type	target, @object
target:
	.byte	0xa5
	.size	target, . - target

kept:	.asciz	"rom-write: the ROM kept its byte\n"
changed: .asciz	"rom-write: the ROM byte changed\n"

# The reset vector: a near jump, so CS keeps its reset base FFFF0000h.
	.org	0xfff0, 0xff
	.globl	reset_vector
	.type	reset_vector, @function
reset_vector:
	jmp	start
	.size	reset_vector, . - reset_vector
	.org	0x10000, 0xff
