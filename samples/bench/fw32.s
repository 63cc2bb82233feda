# fw32.s: the startup that every bench-* firmware image shares. A bench
# source includes it first and then defines `bench`, its measured loop.
#
# Linked by fw.ld: image offset 0 is linear 0xF0000 (the copy below 1 MiB
# that the code runs from) and the reset vector is at 0xFFFFFFF0.
#
# Image layout (offsets in the 64 KiB image; add 0xF0000 for the address
# in guest RAM):
#
#	0x00  jmp start, padded with int3 to 0x08
#	0x08  ITERATIONS_MAGIC, the 8 bytes "BENCH:N=", which say that
#	0x10  iterations: the 64-bit little-endian count N follows
#	0x18  start: real mode, after the far jump from the reset vector
#
# The VMM (or samples.PatchIterations) may change N in the image before
# loading it, or in guest RAM at 0xF0010 before the vCPU first runs.
#
# start turns interrupts off, loads the GDT and enters flat 32-bit
# protected mode at `prot32` (CS 0x08, DS/ES/FS/GS/SS 0x10, base 0, limit
# 4 GiB, paging off), with the stack below 0x7c00. If N is 0 it goes
# straight to `done`; otherwise it jumps to `bench` with N in %edi:%esi
# (high:low). `bench` counts N down with `count_down` and jumps to `done`,
# which writes 0 to the debug-exit port.

	.equ	FW_BASE, 0xf0000	# linear address of image offset 0 (CS = F000h)
	.equ	DEBUG_EXIT, 0xf4	# a write ends the VM; the byte is the exit status
	.equ	STACK_TOP, 0x7c00	# RAM below 0x7c00
	.equ	CODE32, 0x08		# GDT selectors
	.equ	DATA32, 0x10
	.equ	CR0_PE, 1 << 0

# count_down decrements the 64-bit count in %edi:%esi and jumps to label
# while it is not zero. Flags are clobbered; the other registers are not.
	.macro	count_down label
	subl	$1, %esi
	sbbl	$0, %edi
	jnz	\label			# high half not zero: more to do
	testl	%esi, %esi
	jnz	\label
	.endm

	.text
	.code16

	.globl	header
	.type	header, @function
header:
	jmp	start
	.balign	8, 0xcc			# int3
	.size	header, . - header

	.globl	iterations_magic
	.type	iterations_magic, @object
iterations_magic:
	.ascii	"BENCH:N="
	.size	iterations_magic, . - iterations_magic

	.globl	iterations
	.type	iterations, @object
iterations:
	.quad	ITERATIONS		# defined by the bench source
	.size	iterations, . - iterations

	.globl	start
	.type	start, @function
start:
	cli
	cld
	lgdtl	%cs:gdt_desc - FW_BASE	# 32-bit base
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$CODE32, $prot32
	.size	start, . - start

	.code32
	.globl	prot32
	.type	prot32, @function
prot32:
	movw	$DATA32, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$STACK_TOP, %esp
	movl	iterations, %esi
	movl	iterations + 4, %edi
	movl	%esi, %eax
	orl	%edi, %eax
	jnz	bench
	.size	prot32, . - prot32

	.globl	done
	.type	done, @function
done:
	xorl	%eax, %eax		# exit status 0
	outb	%al, $DEBUG_EXIT
halt:	hlt				# not reached under kvmscope
	jmp	halt
	.size	done, . - done

# The GDT: flat 4 GiB 32-bit code and data.
	.balign	8
	.type	gdt, @object
gdt:
	.quad	0			# null
	.quad	0x00cf9b000000ffff	# 0x08: code, base 0, limit 4 GiB, 32-bit, present, DPL 0
	.quad	0x00cf93000000ffff	# 0x10: data, base 0, limit 4 GiB, writable
	.size	gdt, . - gdt

	.type	gdt_desc, @object
gdt_desc:				# lgdtl operand: limit, 32-bit linear base
	.word	gdt_desc - gdt - 1
	.long	gdt
	.size	gdt_desc, . - gdt_desc

# The reset vector, at F000:FFF0 (linear 0xFFFFFFF0): reload CS with F000h
# and continue in the copy below 1 MiB.
	.section .reset, "ax", @progbits
	.code16
	.globl	reset_vector
	.type	reset_vector, @function
reset_vector:
	ljmp	$0xf000, $start - FW_BASE
	.size	reset_vector, . - reset_vector

	.text
	.code32
