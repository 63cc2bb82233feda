# bench-hlt: timer-interrupt-driven idle. Programs the PIT (8254) channel 0
# as a rate generator at about 1 kHz and the 8259 PIC pair (IRQ0 at vector
# 0x20, every other line masked), puts the local APIC in virtual-wire mode
# (LINT0 = ExtINT) so the PIC's interrupts reach the CPU, installs an IDT
# whose vector 0x20 counts ticks and sends the EOI, and then idles with
# `sti; hlt` until N ticks have been counted. Then it exits with status 0.
#
# With KVM's in-kernel PIC, PIT and LAPIC (kvmscope's default) the timer,
# the interrupt and the HLT are all handled in the kernel; with those
# devices in user space each tick costs the VMM a timer, an injection and
# a HLT exit. N here counts ticks, not loop iterations.
#
# 64 KiB firmware; see fw32.s for the startup and where N lives.

	.equ	ITERATIONS, 100		# ticks: about 0.1 s
	.include "fw32.s"

	.equ	TICKS, 0x7000		# 64-bit tick count, in RAM
	.equ	IDT, 0x1000		# 48 gates in RAM: vectors 0x00-0x2f
	.equ	IDT_GATES, 0x30
	.equ	TIMER_VECTOR, 0x20	# IRQ0 after the PIC remap
	.equ	SPURIOUS_VECTOR, 0x2f	# the local APIC's spurious vector

	.equ	PIC1_CMD, 0x20		# 8259 master
	.equ	PIC1_DATA, 0x21
	.equ	PIC2_CMD, 0xa0		# 8259 slave
	.equ	PIC2_DATA, 0xa1
	.equ	PIC_EOI, 0x20		# OCW2: non-specific end of interrupt

	.equ	PIT_CH0, 0x40		# 8254 channel 0 data (IRQ0)
	.equ	PIT_MODE, 0x43		# 8254 mode/command register
	.equ	PIT_DIVISOR, 1193	# 1193182 Hz / 1193 = 1000.15 Hz

	.equ	LAPIC_SVR, 0xfee000f0	# spurious-interrupt vector register
	.equ	LAPIC_LVT0, 0xfee00350	# local vector table: LINT0
	.equ	LVT_EXTINT, 0x700	# delivery mode ExtINT, not masked

	.globl	bench
	.type	bench, @function
bench:
	movl	$0, TICKS
	movl	$0, TICKS + 4

	pushl	%edi			# N's high half; %edi builds the IDT
	movl	$IDT, %edi		# vectors 0x00-0x1f: not present, so an
	xorl	%eax, %eax		# exception ends in a triple fault
	movl	$TIMER_VECTOR * 2, %ecx
	rep stosl
	movl	$tick, %eax		# 0x20: the timer
	call	set_gate
	movl	$IDT_GATES - TIMER_VECTOR - 1, %ecx
1:	movl	$spurious, %eax		# 0x21-0x2f: masked lines, spurious
	call	set_gate
	loop	1b
	lidt	idt_desc
	popl	%edi

	movb	$0x11, %al		# ICW1: edge triggered, cascade, ICW4 follows
	outb	%al, $PIC1_CMD
	outb	%al, $PIC2_CMD
	movb	$TIMER_VECTOR, %al	# ICW2: IRQ0-7 at vectors 0x20-0x27
	outb	%al, $PIC1_DATA
	movb	$TIMER_VECTOR + 8, %al	#       IRQ8-15 at 0x28-0x2f
	outb	%al, $PIC2_DATA
	movb	$0x04, %al		# ICW3: the slave is on IRQ2
	outb	%al, $PIC1_DATA
	movb	$0x02, %al		#       and knows it
	outb	%al, $PIC2_DATA
	movb	$0x01, %al		# ICW4: 8086 mode, normal EOI
	outb	%al, $PIC1_DATA
	outb	%al, $PIC2_DATA
	movb	$0xfe, %al		# OCW1: only IRQ0 unmasked
	outb	%al, $PIC1_DATA
	movb	$0xff, %al
	outb	%al, $PIC2_DATA

	movl	$0x100 + SPURIOUS_VECTOR, LAPIC_SVR	# APIC software-enabled
	movl	$LVT_EXTINT, LAPIC_LVT0			# virtual wire: the PIC drives LINT0

	movb	$0x34, %al		# channel 0, low then high byte, mode 2, binary
	outb	%al, $PIT_MODE
	movb	$PIT_DIVISOR & 0xff, %al
	outb	%al, $PIT_CH0
	movb	$PIT_DIVISOR >> 8, %al
	outb	%al, $PIT_CH0

	.globl	idle
idle:	sti				# the interrupt shadow of sti covers hlt:
	hlt				# no tick is lost between the two
	cli
	movl	TICKS, %eax		# until TICKS >= N (%edi:%esi)
	movl	TICKS + 4, %edx
	subl	%esi, %eax
	sbbl	%edi, %edx
	jb	idle
	jmp	done
	.size	bench, . - bench

# tick is the IRQ0 handler: count, acknowledge at the PIC, return.
	.globl	tick
	.type	tick, @function
tick:
	addl	$1, TICKS
	adcl	$0, TICKS + 4
	pushl	%eax
	movb	$PIC_EOI, %al
	outb	%al, $PIC1_CMD
	popl	%eax
	iret
	.size	tick, . - tick

# spurious handles any other vector the PIC or APIC may raise: a spurious
# interrupt takes no EOI.
	.type	spurious, @function
spurious:
	iret
	.size	spurious, . - spurious

# set_gate writes a 32-bit interrupt gate (present, DPL 0) for the handler
# at %eax into the IDT entry at %edi and advances %edi to the next entry.
# Clobbers %eax.
	.type	set_gate, @function
set_gate:
	movw	%ax, (%edi)		# offset 15:0
	movw	$CODE32, 2(%edi)	# selector
	movw	$0x8e00, 4(%edi)	# P, DPL 0, 32-bit interrupt gate
	shrl	$16, %eax
	movw	%ax, 6(%edi)		# offset 31:16
	addl	$8, %edi
	ret
	.size	set_gate, . - set_gate

	.type	idt_desc, @object
idt_desc:				# lidt operand: limit, 32-bit base
	.word	IDT_GATES * 8 - 1
	.long	IDT
	.size	idt_desc, . - idt_desc
