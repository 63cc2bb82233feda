# demo: the TUI's demo guest. A 64 KiB firmware image that runs until it
# is stopped, doing a little of everything kvmscope shows, paced by a
# 100 Hz timer, so that every pane has something to show:
#
#   - the PIT (8254) channel 0 at about 100 Hz on IRQ0, through the 8259
#     PIC (remapped: IRQ0 at vector 0x20) and the local APIC in
#     virtual-wire mode, counted by `timer_handler`;
#   - on each tick, one round of work (`main_loop`): 2 byte writes to the
#     unclaimed port 0x401 (`work_pio`), 2 4-byte stores to unclaimed MMIO
#     at 0xd0000000 (`work_mmio`), a 4-byte doorbell write of 1 to port
#     0x500 (`work_doorbell`), 2 byte writes into the PIO data window
#     0x508-0x50f (`work_piowindow`), 4 4-byte stores into the MMIO data
#     window at 0xd0001000 and a flush to port 0x504 (`work_window`), and
#     cpuid leaves 0 and 1 (`work_cpuid`); then `hlt` until the next tick;
#   - every 50 ticks, a status line on COM1 (`report`, polling the LSR):
#     "demo: tick 1234, pio 5678, mmio 910\n".
#
# It never writes to the debug-exit port. With kvmscope's default host
# extensions that is 5 user-space exits per round (the port and MMIO
# bursts and the flush) plus 2 per character printed: some 550-650 a
# second (fewer rounds than ticks when a round outlasts a tick).
# The timer, the interrupts, the EOIs, the HLTs, the cpuids, the doorbell
# (ioeventfd) and the window writes (coalesced MMIO and PIO) stay in the
# kernel; switch an extension off and its exits come to kvmscope.
#
# Startup as in bench/fw32.s: real mode from the reset vector, then flat
# 32-bit protected mode (paging off). Linked by fw.ld, so every symbol is
# the linear address at which the CPU executes it, and build/demo.elf
# beside build/demo.bin holds the symbols. Nothing is assumed of the
# machine but the CPU's reset state and RAM at 0x1000-0x117f (the IDT)
# and 0x7000-0x7bff (the counters and the stack). The counters are 32
# bits and wrap.

	.equ	FW_BASE, 0xf0000	# linear address of image offset 0 (CS = F000h)
	.equ	STACK_TOP, 0x7c00	# RAM below 0x7c00
	.equ	CODE32, 0x08		# GDT selectors
	.equ	DATA32, 0x10
	.equ	CR0_PE, 1 << 0

	.equ	COM1, 0x3f8		# 8250 UART transmit holding register
	.equ	COM1_LSR, COM1 + 5	# line status register
	.equ	LSR_THRE, 0x20		# THR empty: ready for the next byte

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
	.equ	PIT_DIVISOR, 11932	# 1193182 Hz / 11932 = 99.998 Hz

	.equ	LAPIC_SVR, 0xfee000f0	# spurious-interrupt vector register
	.equ	LAPIC_LVT0, 0xfee00350	# local vector table: LINT0
	.equ	LVT_EXTINT, 0x700	# delivery mode ExtINT, not masked

	.equ	REPORT_EVERY, 50	# ticks between status lines

	.equ	PIO_PORT, 0x0401	# unclaimed: writes are dropped
	.equ	PIO_BURST, 2		# byte writes per tick
	.equ	MMIO_ADDR, 0xd0000000	# unclaimed, in the 32-bit PCI hole
	.equ	MMIO_BURST, 2		# 4-byte stores per tick
	.equ	DOORBELL_PORT, 0x0500	# the doorbell (ioeventfd's case)
	.equ	DOORBELL_VALUE, 1
	.equ	PIO_WINDOW, 0x0508	# the PIO data window, 8 ports (coalesced PIO's case)
	.equ	PIO_WINDOW_SIZE, 8
	.equ	PIO_WINDOW_BURST, 2	# byte writes per tick
	.equ	WINDOW, 0xd0001000	# the MMIO data window, 64 bytes (coalesced MMIO's case)
	.equ	WINDOW_SIZE, 64
	.equ	WINDOW_BURST, 4		# 4-byte stores per tick
	.equ	FLUSH_PORT, 0x0504	# the window's flush register: always an exit

# The variables, in RAM from 0x7000 (objects for the debugger's memory
# view; the code runs from RAM too, but QEMU's -bios maps it read-only).
	.equ	DATA_BASE, 0x7000
	.macro	variable name, offset
	.globl	\name
	.type	\name, @object
	.size	\name, 4
	.set	\name, DATA_BASE + \offset
	.endm
	variable ticks, 0x00		# timer interrupts taken (timer_handler)
	variable rounds, 0x04		# rounds of work done (main_loop)
	variable pio_count, 0x08	# writes to PIO_PORT
	variable mmio_count, 0x0c	# stores to MMIO_ADDR
	variable doorbell_count, 0x10	# doorbell writes
	variable piowindow_count, 0x14	# writes into the PIO window
	variable window_count, 0x18	# stores into the MMIO window
	variable flush_count, 0x1c	# writes to FLUSH_PORT
	variable piowindow_next, 0x20	# the port the next PIO window write goes to
	variable window_next, 0x24	# the address the next MMIO window store goes to
	variable last_tick, 0x28	# ticks when main_loop last did a round
	variable next_report, 0x2c	# ticks at which report prints next
	.equ	DATA_SIZE, 0x30

	.text

# ---- real mode: CS = F000h, IP = symbol - FW_BASE ----
	.code16

	.globl	start
	.type	start, @function
start:
	cli
	cld
	lgdtl	%cs:gdt_desc - FW_BASE	# 32-bit base
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$CODE32, $prot_mode_entry
	.size	start, . - start

# ---- 32-bit protected mode: flat segments, paging off ----
	.code32

# prot_mode_entry loads the data segments and the stack, clears the
# variables, sets up the interrupt controllers and the timer, prints the
# banner and falls through into the main loop.
	.globl	prot_mode_entry
	.type	prot_mode_entry, @function
prot_mode_entry:
	movw	$DATA32, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$STACK_TOP, %esp

	movl	$DATA_BASE, %edi
	xorl	%eax, %eax
	movl	$DATA_SIZE / 4, %ecx
	rep stosl
	movl	$PIO_WINDOW, piowindow_next
	movl	$WINDOW, window_next
	movl	$REPORT_EVERY, next_report

	call	setup_idt
	call	setup_pic
	call	setup_lapic
	call	setup_pit
	movl	$banner, %esi
	call	puts
	.size	prot_mode_entry, . - prot_mode_entry	# and on into main_loop

# main_loop does one round of work for each tick it sees and halts until
# the next; every REPORT_EVERY ticks it prints a status line. It runs
# with interrupts on, so the timer may tick in the middle of a round; a
# round that ends after the next tick starts the next one at once.
	.globl	main_loop
	.type	main_loop, @function
main_loop:
	cli
	movl	ticks, %eax
	cmpl	%eax, last_tick
	jne	1f
	sti				# the interrupt shadow of sti covers hlt:
	hlt				# no tick is lost between the check and the halt
	jmp	main_loop
1:	movl	%eax, last_tick
	sti
	incl	rounds
	call	work_pio
	call	work_mmio
	call	work_doorbell
	call	work_piowindow		# before the flush, which drains its ring
	call	work_window
	call	work_cpuid
	movl	ticks, %eax
	cmpl	next_report, %eax
	jb	main_loop
	addl	$REPORT_EVERY, %eax
	movl	%eax, next_report
	call	report
	jmp	main_loop
	.size	main_loop, . - main_loop

# timer_handler is the IRQ0 handler: count, acknowledge at the PIC,
# return.
	.globl	timer_handler
	.type	timer_handler, @function
timer_handler:
	incl	ticks
	pushl	%eax
	movb	$PIC_EOI, %al
	outb	%al, $PIC1_CMD
	popl	%eax
	iret
	.size	timer_handler, . - timer_handler

# spurious_handler takes any other vector the PIC or APIC may raise: a
# spurious interrupt takes no EOI.
	.globl	spurious_handler
	.type	spurious_handler, @function
spurious_handler:
	iret
	.size	spurious_handler, . - spurious_handler

# ---- the work, one round per tick; each clobbers %eax-%edx ----

# work_pio writes PIO_BURST bytes (the low byte of pio_count) to the
# unclaimed PIO_PORT: each an exit to kvmscope.
	.globl	work_pio
	.type	work_pio, @function
work_pio:
	movw	$PIO_PORT, %dx
	movl	$PIO_BURST, %ecx
1:	movl	pio_count, %eax
	outb	%al, %dx
	incl	pio_count
	loop	1b
	ret
	.size	work_pio, . - work_pio

# work_mmio stores MMIO_BURST dwords (mmio_count) to the unclaimed
# MMIO_ADDR: each an exit to kvmscope.
	.globl	work_mmio
	.type	work_mmio, @function
work_mmio:
	movl	$MMIO_BURST, %ecx
1:	movl	mmio_count, %eax
	movl	%eax, MMIO_ADDR
	incl	mmio_count
	loop	1b
	ret
	.size	work_mmio, . - work_mmio

# work_doorbell rings the doorbell: a 4-byte write of DOORBELL_VALUE, in
# the kernel with ioeventfd, an exit without.
	.globl	work_doorbell
	.type	work_doorbell, @function
work_doorbell:
	movw	$DOORBELL_PORT, %dx
	movl	$DOORBELL_VALUE, %eax
	outl	%eax, %dx
	incl	doorbell_count
	ret
	.size	work_doorbell, . - work_doorbell

# work_piowindow writes PIO_WINDOW_BURST bytes (the low byte of rounds)
# into the PIO data window, one port after the other round the 8: queued
# in the kernel's ring with coalesced PIO, an exit each without.
	.globl	work_piowindow
	.type	work_piowindow, @function
work_piowindow:
	movl	piowindow_next, %edx
	movl	$PIO_WINDOW_BURST, %ecx
1:	movl	rounds, %eax
	outb	%al, %dx
	incl	piowindow_count
	incl	%edx
	cmpl	$PIO_WINDOW + PIO_WINDOW_SIZE, %edx
	jne	2f
	movl	$PIO_WINDOW, %edx
2:	loop	1b
	movl	%edx, piowindow_next
	ret
	.size	work_piowindow, . - work_piowindow

# work_window stores WINDOW_BURST dwords (rounds) into the MMIO data
# window, offset after offset round the 64 bytes, then writes the number
# of stores to the flush port: the stores are queued in the kernel's ring
# with coalesced MMIO, an exit each without; the flush is always an exit,
# at which kvmscope drains the ring.
	.globl	work_window
	.type	work_window, @function
work_window:
	movl	window_next, %ebx
	movl	$WINDOW_BURST, %ecx
1:	movl	rounds, %eax
	movl	%eax, (%ebx)
	incl	window_count
	addl	$4, %ebx
	cmpl	$WINDOW + WINDOW_SIZE, %ebx
	jne	2f
	movl	$WINDOW, %ebx
2:	loop	1b
	movl	%ebx, window_next
	movw	$FLUSH_PORT, %dx
	movb	$WINDOW_BURST, %al
	outb	%al, %dx
	incl	flush_count
	ret
	.size	work_window, . - work_window

# work_cpuid asks cpuid for leaves 0 and 1: exits that KVM answers itself.
	.globl	work_cpuid
	.type	work_cpuid, @function
work_cpuid:
	xorl	%eax, %eax
	cpuid
	movl	$1, %eax
	cpuid
	ret
	.size	work_cpuid, . - work_cpuid

# report prints "demo: tick T, pio P, mmio M\n". Clobbers %eax-%edx, %esi.
	.globl	report
	.type	report, @function
report:
	movl	$tick_label, %esi
	call	puts
	movl	ticks, %eax
	call	put_dec
	movl	$pio_label, %esi
	call	puts
	movl	pio_count, %eax
	call	put_dec
	movl	$mmio_label, %esi
	call	puts
	movl	mmio_count, %eax
	call	put_dec
	movb	$'\n', %al
	call	putc
	ret
	.size	report, . - report

# puts prints the NUL-terminated string at %esi. Clobbers %eax, %esi.
	.globl	puts
	.type	puts, @function
puts:
1:	lodsb
	testb	%al, %al
	jz	2f
	call	putc
	jmp	1b
2:	ret
	.size	puts, . - puts

# put_dec prints %eax as an unsigned decimal. Clobbers %eax, %ecx, %edx.
	.globl	put_dec
	.type	put_dec, @function
put_dec:
	pushl	%ebx
	movl	$10, %ebx
	xorl	%ecx, %ecx
1:	xorl	%edx, %edx		# push the digits, lowest first
	divl	%ebx
	pushl	%edx
	incl	%ecx
	testl	%eax, %eax
	jnz	1b
2:	popl	%eax			# pop them, highest first
	addb	$'0', %al
	call	putc
	loop	2b
	popl	%ebx
	ret
	.size	put_dec, . - put_dec

# putc prints the byte in %al on COM1, once the LSR says the transmit
# holding register is empty. Preserves every register.
	.globl	putc
	.type	putc, @function
putc:
	pushl	%edx
	pushl	%eax
	movw	$COM1_LSR, %dx
1:	inb	%dx, %al
	testb	$LSR_THRE, %al
	jz	1b
	popl	%eax
	movw	$COM1, %dx
	outb	%al, %dx
	popl	%edx
	ret
	.size	putc, . - putc

# ---- setup ----

# setup_idt fills the IDT at 0x1000: vectors 0x00-0x1f not present (an
# exception ends in a triple fault), 0x20 the timer, 0x21-0x2f spurious.
	.globl	setup_idt
	.type	setup_idt, @function
setup_idt:
	movl	$IDT, %edi
	xorl	%eax, %eax
	movl	$TIMER_VECTOR * 2, %ecx
	rep stosl
	movl	$timer_handler, %eax	# 0x20: the timer
	call	set_gate
	movl	$IDT_GATES - TIMER_VECTOR - 1, %ecx
1:	movl	$spurious_handler, %eax	# 0x21-0x2f: masked lines, spurious
	call	set_gate
	loop	1b
	lidt	idt_desc
	ret
	.size	setup_idt, . - setup_idt

# set_gate writes a 32-bit interrupt gate (present, DPL 0) for the handler
# at %eax into the IDT entry at %edi and advances %edi to the next entry.
# Clobbers %eax.
	.globl	set_gate
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

# setup_pic remaps the 8259 pair (IRQ0-7 at vectors 0x20-0x27, IRQ8-15 at
# 0x28-0x2f) and masks every line but IRQ0.
	.globl	setup_pic
	.type	setup_pic, @function
setup_pic:
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
	ret
	.size	setup_pic, . - setup_pic

# setup_lapic puts the local APIC in virtual-wire mode, so that the PIC's
# interrupts reach the CPU, rather than relying on KVM's reset quirk.
	.globl	setup_lapic
	.type	setup_lapic, @function
setup_lapic:
	movl	$0x100 + SPURIOUS_VECTOR, LAPIC_SVR	# APIC software-enabled
	movl	$LVT_EXTINT, LAPIC_LVT0			# virtual wire: the PIC drives LINT0
	ret
	.size	setup_lapic, . - setup_lapic

# setup_pit starts PIT channel 0 as a rate generator at about 100 Hz.
	.globl	setup_pit
	.type	setup_pit, @function
setup_pit:
	movb	$0x34, %al		# channel 0, low then high byte, mode 2, binary
	outb	%al, $PIT_MODE
	movb	$PIT_DIVISOR & 0xff, %al
	outb	%al, $PIT_CH0
	movb	$PIT_DIVISOR >> 8, %al
	outb	%al, $PIT_CH0
	ret
	.size	setup_pit, . - setup_pit

# ---- data ----

	.type	banner, @object
banner:
	.asciz	"demo: kvmscope's demo guest, 100 Hz timer, a line every 50 ticks\n"
	.size	banner, . - banner

	.type	tick_label, @object
tick_label:
	.asciz	"demo: tick "
	.size	tick_label, . - tick_label

	.type	pio_label, @object
pio_label:
	.asciz	", pio "
	.size	pio_label, . - pio_label

	.type	mmio_label, @object
mmio_label:
	.asciz	", mmio "
	.size	mmio_label, . - mmio_label

# The GDT: flat 4 GiB 32-bit code and data.
	.balign	8
	.globl	gdt
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

	.type	idt_desc, @object
idt_desc:				# lidt operand: limit, 32-bit base
	.word	IDT_GATES * 8 - 1
	.long	IDT
	.size	idt_desc, . - idt_desc

# The reset vector, at F000:FFF0 (linear 0xFFFFFFF0): reload CS with F000h
# and continue in the copy below 1 MiB.
	.section .reset, "ax", @progbits
	.code16
	.globl	reset_vector
	.type	reset_vector, @function
reset_vector:
	ljmp	$0xf000, $start - FW_BASE
	.size	reset_vector, . - reset_vector
