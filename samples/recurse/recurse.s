# recurse: a recursive function for the debuggers' "step over" to get
# wrong: sum(n) = n + sum(n-1) calls itself from one call site, so a
# breakpoint after that call is reached first by the deeper calls
# returning, each with a lower stack pointer than the caller's own.
#
# ELF32 (EM_386), entered at _start (0x100000) in flat 32-bit protected
# mode with paging off and interrupts off. Exits with status sum(10) = 55.

	.equ	DEBUG_EXIT, 0xf4	# a write ends the VM; the low byte is the exit status
	.equ	DEPTH, 10

	.code32
	.text

	.globl	_start
	.type	_start, @function
_start:
	movl	$stack_top, %esp
	movl	$DEPTH, %eax
	call	sum
	outb	%al, $DEBUG_EXIT	# status 55
halt:	hlt				# not reached under kvmscope
	jmp	halt
	.size	_start, . - _start

# sum returns %eax + (%eax - 1) + ... + 1 in %eax. Clobbers nothing else.
	.globl	sum
	.type	sum, @function
sum:
	testl	%eax, %eax
	jz	2f
	pushl	%eax
	decl	%eax
	.globl	sum_call
sum_call:
	call	sum			# the recursive call
	.globl	sum_return
sum_return:
	addl	(%esp), %eax
	addl	$4, %esp
2:	ret
	.size	sum, . - sum

	.bss
	.balign	16
	.type	stack, @object
stack:
	.skip	4096
stack_top:
	.size	stack, . - stack
