# kut-mini: a multiboot guest that follows kvm-unit-tests' conventions, so
# that kvmscope's multiboot loader and its `kut` runner are tested without
# the suite itself (which CI cannot fetch):
#
#   - a multiboot (v1) header in the first 8 KiB; entered in flat 32-bit
#     protected mode with EAX = 0x2BADB002 and EBX = the multiboot info;
#   - the command line "NAME ARGS": the first word is the program name,
#     the first argument says what to do (below);
#   - fw_cfg at 0x510/0x511: the "QEMU" signature and the vCPU count;
#   - pc-testdev's read-back port 0xe0 and the ACPI PM timer at 0x608;
#   - module 1 (the initrd) is the environment: its first line is echoed;
#   - "PASS:", "FAIL:", "SKIP:" and "SUMMARY:" lines on COM1, then the end
#     through port 0xf4 with a 4-byte outl of the code, as kvm-unit-tests'
#     exit() does: 0 passed, 1 failed, 38 (77>>1) skipped. QEMU's
#     isa-debug-exit turns the code into (code<<1)|1: 1, 3 and 77.
#
# First argument: none or "pass": exit 0; "fail": exit 1; "skip": exit
# 38; "hang": never end (cli; hlt), for the runner's timeout; a digit N:
# pass if fw_cfg says N vCPUs, else fail.

	.equ	MB_MAGIC, 0x1badb002
	.equ	MB_FLAGS, 0x3		# page-aligned modules, memory information
	.equ	MB_BOOT_MAGIC, 0x2badb002
	.equ	MBI_FLAGS, 0
	.equ	MBI_CMDLINE, 16
	.equ	MBI_MODS_COUNT, 20
	.equ	MBI_MODS_ADDR, 24
	.equ	COM1, 0x3f8
	.equ	COM1_LSR, COM1 + 5
	.equ	LSR_THRE, 0x20
	.equ	DEBUG_EXIT, 0xf4
	.equ	FW_CFG_SEL, 0x510
	.equ	FW_CFG_DATA, 0x511
	.equ	FW_CFG_SIGNATURE, 0x00
	.equ	FW_CFG_NB_CPUS, 0x05
	.equ	TESTDEV, 0xe0
	.equ	PM_TMR, 0x608

	.code32
	.section .head, "ax"
	.globl	_start
	.type	_start, @function
_start:
	jmp	entry			# over the header, which must be 4-byte aligned
	.balign	4
	.globl	mb_header
mb_header:
	.long	MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
	.size	_start, . - _start

	.text
	.globl	entry
	.type	entry, @function
entry:
	movl	$stack_top, %esp
	movl	%ebx, mbi
	cmpl	$MB_BOOT_MAGIC, %eax
	je	1f
	movl	$msg_nomagic, %esi
	call	puts
	movl	$1, %eax
	jmp	exit
1:	movl	$msg_magic, %esi
	call	puts

	# fw_cfg: the signature, then the vCPU count.
	movw	$FW_CFG_SIGNATURE, %ax
	movl	$4, %ecx
	call	fwcfg
	cmpl	$0x554d4551, %eax	# "QEMU", little-endian
	jne	fail_fwcfg
	movw	$FW_CFG_NB_CPUS, %ax
	movl	$2, %ecx
	call	fwcfg
	movl	%eax, cpus
	movl	$msg_fwcfg, %esi
	call	puts
	movl	cpus, %eax
	call	putdec
	movl	$msg_cpus, %esi
	call	puts

	# pc-testdev: what goes out to 0xe0 comes back.
	movl	$0x1234abcd, %eax
	outl	%eax, $TESTDEV
	xorl	%eax, %eax
	inl	$TESTDEV, %eax
	movl	$msg_testdev, %esi
	cmpl	$0x1234abcd, %eax
	call	report

	# The PM timer moves (each read is a VM exit: it will within a few).
	movw	$PM_TMR, %dx
	inl	%dx, %eax
	movl	%eax, %ebx
	movl	$1000000, %ecx
2:	inl	%dx, %eax
	cmpl	%eax, %ebx
	jne	3f
	loop	2b
3:	movl	$msg_pmtimer, %esi
	cmpl	%eax, %ebx		# ZF clear: it moved
	setne	%al
	cmpb	$1, %al
	call	report

	# Module 1, the environment: echo its first line.
	movl	mbi, %ebx
	testl	$8, MBI_FLAGS(%ebx)
	jz	4f
	cmpl	$1, MBI_MODS_COUNT(%ebx)
	jne	4f
	movl	MBI_MODS_ADDR(%ebx), %ebx
	movl	$msg_initrd, %esi
	call	puts
	movl	(%ebx), %esi
	movl	4(%ebx), %edx
	call	putline
4:
	# The first argument: skip the program name and the blanks after it.
	movl	mbi, %ebx
	xorl	%esi, %esi
	testl	$4, MBI_FLAGS(%ebx)
	jz	do_pass
	movl	MBI_CMDLINE(%ebx), %esi
5:	movb	(%esi), %al
	testb	%al, %al
	jz	do_pass
	cmpb	$' ', %al
	je	6f
	incl	%esi
	jmp	5b
6:	incl	%esi
	movb	(%esi), %al
	cmpb	$' ', %al
	je	6b
	cmpb	$'f', %al
	je	do_fail
	cmpb	$'s', %al
	je	do_skip
	cmpb	$'h', %al
	je	do_hang
	cmpb	$'0', %al
	jb	do_pass
	cmpb	$'9', %al
	ja	do_pass
	movzbl	%al, %eax
	subl	$'0', %eax
	movl	$msg_smp, %esi
	cmpl	cpus, %eax
	call	report
	jmp	summary

do_fail:
	movl	$msg_fail, %esi
	call	puts
	incl	failures
	jmp	summary
do_skip:
	movl	$msg_skip, %esi
	call	puts
	movl	$msg_summary_skip, %esi
	call	puts
	movl	$38, %eax		# 77 >> 1: QEMU's (code<<1)|1 makes it 77
	jmp	exit
do_hang:
	movl	$msg_hang, %esi
	call	puts
	cli
7:	hlt
	jmp	7b
do_pass:
summary:
	movl	$msg_summary, %esi
	call	puts
	movl	failures, %eax
	call	putdec
	movl	$msg_failures, %esi
	call	puts
	xorl	%eax, %eax
	cmpl	$0, failures
	je	exit
	movl	$1, %eax
exit:
	outl	%eax, $DEBUG_EXIT
8:	hlt
	jmp	8b
fail_fwcfg:
	movl	$msg_nofwcfg, %esi
	call	puts
	movl	$1, %eax
	jmp	exit
	.size	entry, . - entry

# report prints "PASS: " or "FAIL: " (by ZF: set is a pass) and the
# NUL-terminated name at %esi, counting failures.
	.type	report, @function
report:
	pushl	%esi
	movl	$msg_passp, %esi
	je	1f
	movl	$msg_failp, %esi
	incl	failures
1:	call	puts
	popl	%esi
	call	puts
	ret
	.size	report, . - report

# fwcfg selects fw_cfg item %ax and reads %ecx (1-4) bytes of it into
# %eax, little-endian, through fwbuf. Clobbers %ecx, %edx, %edi.
	.type	fwcfg, @function
fwcfg:
	movw	$FW_CFG_SEL, %dx
	outw	%ax, %dx
	movw	$FW_CFG_DATA, %dx
	movl	$0, fwbuf
	movl	$fwbuf, %edi
1:	inb	%dx, %al
	movb	%al, (%edi)
	incl	%edi
	loop	1b
	movl	fwbuf, %eax
	ret
	.size	fwcfg, . - fwcfg

# putdec prints %eax (below 100) in decimal. Clobbers %eax, %ecx, %edx.
	.type	putdec, @function
putdec:
	xorl	%edx, %edx
	movl	$10, %ecx
	divl	%ecx
	testl	%eax, %eax
	jz	1f
	addb	$'0', %al
	call	putc
1:	movb	%dl, %al
	addb	$'0', %al
	call	putc
	ret
	.size	putdec, . - putdec

# putline prints the bytes from %esi up to %edx, the first newline or 64
# bytes, whichever comes first, then a newline. Clobbers %eax, %ecx, %esi.
	.type	putline, @function
putline:
	movl	$64, %ecx
1:	cmpl	%edx, %esi
	jae	2f
	movb	(%esi), %al
	cmpb	$'\n', %al
	je	2f
	pushl	%edx
	call	putc
	popl	%edx
	incl	%esi
	loop	1b
2:	movb	$'\n', %al
	call	putc
	ret
	.size	putline, . - putline

# puts writes the NUL-terminated string at %esi to COM1. Clobbers %eax,
# %edx, %esi.
	.type	puts, @function
puts:
	movb	(%esi), %al
	testb	%al, %al
	jz	1f
	call	putc
	incl	%esi
	jmp	puts
1:	ret
	.size	puts, . - puts

# putc writes %al to COM1 once the transmitter takes it. Clobbers %edx.
	.type	putc, @function
putc:
	pushl	%eax
	movw	$COM1_LSR, %dx
1:	inb	%dx, %al
	testb	$LSR_THRE, %al
	jz	1b
	popl	%eax
	movw	$COM1, %dx
	outb	%al, %dx
	ret
	.size	putc, . - putc

	.section .rodata
msg_magic:	.asciz	"kut-mini: multiboot magic ok\n"
msg_nomagic:	.asciz	"FAIL: multiboot magic not in EAX\n"
msg_nofwcfg:	.asciz	"FAIL: no fw_cfg signature\n"
msg_fwcfg:	.asciz	"kut-mini: fw_cfg says "
msg_cpus:	.asciz	" cpus\n"
msg_testdev:	.asciz	"testdev read-back\n"
msg_pmtimer:	.asciz	"pm timer advances\n"
msg_initrd:	.asciz	"kut-mini: initrd: "
msg_smp:	.asciz	"vCPU count\n"
msg_passp:	.asciz	"PASS: "
msg_failp:	.asciz	"FAIL: "
msg_fail:	.asciz	"FAIL: asked to fail\n"
msg_skip:	.asciz	"SKIP: asked to skip\n"
msg_hang:	.asciz	"kut-mini: hanging\n"
msg_summary:	.asciz	"SUMMARY: "
msg_failures:	.asciz	" unexpected failures\n"
msg_summary_skip: .asciz "SUMMARY: skipped\n"

	.data
	.balign	4
mbi:		.long	0
cpus:		.long	0
failures:	.long	0
fwbuf:		.long	0

	.bss
	.balign	16
stack:
	.skip	4096
stack_top:
