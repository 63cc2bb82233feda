# modes: a 64 KiB firmware image that walks the CPU from the reset vector
# through real mode, 32-bit protected mode and 64-bit long mode, doing a
# little work in each, with a symbol at every stage for the debugger.
#
# Linked by fw.ld so that every symbol is the linear address where the CPU
# runs it: the reset vector at 0xFFFFFFF0 (the copy at the top of 4 GiB),
# everything else in the copy at 0xF0000-0xFFFFF. Real-mode code runs with
# CS = F000h (base 0xF0000), so its IP is the symbol minus 0xF0000; the
# protected-mode and long-mode code runs with flat segments (and, in long
# mode, identity-mapped pages), so EIP/RIP equals the symbol.
#
# Each stage counts from 1 to COUNT, storing the counter at a fixed RAM
# address with a store as wide as the mode's registers, for debugger tests
# to watch: a 16-bit word at 0x7000 (real), a 32-bit dword at 0x7004
# (protected), a 64-bit qword at 0x7008 (long). Long mode then checks all
# three, prints "modes: real protected long\n" on COM1 and exits with
# status 0; if a counter is wrong it prints "modes: bad counter\n" and
# exits with status 1.
#
# Nothing is assumed of the machine but the CPU's reset state and RAM at
# 0x7000-0x7bff (counters, stack) and 0x10000-0x15fff (page tables).

	.equ	FW_BASE, 0xf0000	# linear address of image offset 0 (CS = F000h)
	.equ	COM1, 0x3f8		# 8250 UART transmit holding register
	.equ	COM1_LSR, COM1 + 5	# line status register
	.equ	LSR_THRE, 0x20		# THR empty: ready for the next byte
	.equ	DEBUG_EXIT, 0xf4	# a write ends the VM; the byte is the exit status

	.equ	REAL_COUNTER, 0x7000	# 16-bit, written in real mode
	.equ	PROT_COUNTER, 0x7004	# 32-bit, written in protected mode
	.equ	LONG_COUNTER, 0x7008	# 64-bit, written in long mode
	.equ	COUNT, 16		# each stage counts 1..COUNT
	.equ	STACK_TOP, 0x7c00	# the stack grows down from here in every mode

	.equ	PML4, 0x10000		# page tables: PML4, PDPT, then four page
	.equ	PDPT, 0x11000		# directories identity-mapping 0-4 GiB
	.equ	PD, 0x12000		# with 2 MiB pages (0x12000-0x15fff)

	.equ	CODE32, 0x08		# GDT selectors
	.equ	DATA, 0x10
	.equ	CODE64, 0x18

	.equ	CR0_PE, 1 << 0
	.equ	CR0_PG, 1 << 31
	.equ	CR4_PAE, 1 << 5
	.equ	MSR_EFER, 0xc0000080
	.equ	EFER_LME, 1 << 8
	.equ	PTE_P_RW, 0x03		# present, writable
	.equ	PTE_PS, 0x80		# page-directory entry maps a 2 MiB page

	.text

# ---- real mode: CS = F000h, IP = symbol - FW_BASE ----
	.code16

	.globl	start
	.type	start, @function
start:
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ds		# DS = 0: the counters are at 0000:7000
	movw	%ax, %ss
	movw	$STACK_TOP, %sp
	.size	start, . - start

# real_mode_work stores 1, 2, ..., COUNT to the word at 0x7000.
	.globl	real_mode_work
	.type	real_mode_work, @function
real_mode_work:
	xorw	%cx, %cx
1:	incw	%cx
	movw	%cx, REAL_COUNTER
	cmpw	$COUNT, %cx
	jb	1b
	.size	real_mode_work, . - real_mode_work

# to_prot_mode loads the GDT (lgdtl: a 32-bit base) and sets CR0.PE; the
# far jump loads CS with the flat 32-bit code segment.
	.globl	to_prot_mode
	.type	to_prot_mode, @function
to_prot_mode:
	lgdtl	%cs:gdt_desc - FW_BASE
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$CODE32, $prot_mode_entry
	.size	to_prot_mode, . - to_prot_mode

# ---- 32-bit protected mode: flat segments, paging off ----
	.code32

	.globl	prot_mode_entry
	.type	prot_mode_entry, @function
prot_mode_entry:
	movw	$DATA, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$STACK_TOP, %esp
	.size	prot_mode_entry, . - prot_mode_entry

# prot_mode_work stores 1, 2, ..., COUNT to the dword at 0x7004.
	.globl	prot_mode_work
	.type	prot_mode_work, @function
prot_mode_work:
	xorl	%ecx, %ecx
1:	incl	%ecx
	movl	%ecx, PROT_COUNTER
	cmpl	$COUNT, %ecx
	jb	1b
	.size	prot_mode_work, . - prot_mode_work

# to_long_mode builds the page tables, then enables PAE, loads CR3, sets
# EFER.LME and turns paging on (which activates long mode, still running
# 32-bit code), and far-jumps into the 64-bit code segment.
	.globl	to_long_mode
	.type	to_long_mode, @function
to_long_mode:
	movl	$PML4, %edi		# clear PML4 and PDPT
	xorl	%eax, %eax
	movl	$(PD - PML4) / 4, %ecx
	rep stosl
	movl	$PDPT + PTE_P_RW, PML4
	movl	$PDPT, %edi		# PDPT[0..3] -> the four page directories
	movl	$PD + PTE_P_RW, %eax
	movl	$4, %ecx
1:	movl	%eax, (%edi)
	movl	$0, 4(%edi)
	addl	$0x1000, %eax
	addl	$8, %edi
	loop	1b
	movl	$PD, %edi		# 2048 entries of 2 MiB: 0-4 GiB
	movl	$PTE_P_RW + PTE_PS, %eax
	movl	$2048, %ecx
2:	movl	%eax, (%edi)
	movl	$0, 4(%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	2b

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$PML4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$CR0_PG, %eax
	movl	%eax, %cr0
	ljmpl	$CODE64, $long_mode_entry
	.size	to_long_mode, . - to_long_mode

# ---- 64-bit long mode: identity-mapped, RIP = linear = physical ----
	.code64

	.globl	long_mode_entry
	.type	long_mode_entry, @function
long_mode_entry:
	movw	$DATA, %ax		# the data segments keep their flat 32-bit selectors
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$STACK_TOP, %esp	# zero-extends into %rsp
	.size	long_mode_entry, . - long_mode_entry

# long_mode_work stores 1, 2, ..., COUNT to the qword at 0x7008.
	.globl	long_mode_work
	.type	long_mode_work, @function
long_mode_work:
	xorq	%rcx, %rcx
1:	incq	%rcx
	movq	%rcx, LONG_COUNTER
	cmpq	$COUNT, %rcx
	jb	1b
	.size	long_mode_work, . - long_mode_work

# finish checks the three counters, reports on COM1 and exits.
	.globl	finish
	.type	finish, @function
finish:
	movl	$message, %esi
	xorl	%ebx, %ebx		# exit status 0
	cmpw	$COUNT, REAL_COUNTER
	jne	1f
	cmpl	$COUNT, PROT_COUNTER
	jne	1f
	cmpq	$COUNT, LONG_COUNTER
	je	2f
1:	movl	$bad_message, %esi
	movl	$1, %ebx		# exit status 1
2:	call	puts
	movl	%ebx, %eax
	outb	%al, $DEBUG_EXIT
halt:	hlt				# not reached under kvmscope
	jmp	halt
	.size	finish, . - finish

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

	.type	message, @object
message:
	.asciz	"modes: real protected long\n"
	.size	message, . - message

	.type	bad_message, @object
bad_message:
	.asciz	"modes: bad counter\n"
	.size	bad_message, . - bad_message

# The GDT: flat 4 GiB 32-bit code and data, and a 64-bit code segment.
	.balign	8
	.globl	gdt
	.type	gdt, @object
gdt:
	.quad	0			# null
	.quad	0x00cf9b000000ffff	# 0x08: code, base 0, limit 4 GiB, 32-bit, present, DPL 0
	.quad	0x00cf93000000ffff	# 0x10: data, base 0, limit 4 GiB, writable
	.quad	0x00af9b000000ffff	# 0x18: code, 64-bit (L=1, D=0)
	.size	gdt, . - gdt

	.type	gdt_desc, @object
gdt_desc:				# lgdtl operand: limit, 32-bit linear base
	.word	gdt_desc - gdt - 1
	.long	gdt
	.size	gdt_desc, . - gdt_desc

# The reset vector: the CPU starts here, at F000:FFF0 with CS.base
# 0xFFFF0000, i.e. linear 0xFFFFFFF0 in the copy at the top of 4 GiB. The
# far jump reloads CS with F000h (base 0xF0000) and moves execution into
# the copy below 1 MiB.
	.section .reset, "ax", @progbits
	.code16
	.globl	reset_vector
	.type	reset_vector, @function
reset_vector:
	ljmp	$0xf000, $start - FW_BASE
	.size	reset_vector, . - reset_vector
