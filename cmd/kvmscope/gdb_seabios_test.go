package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
)

// seabiosImage is Debian's SeaBIOS, the firmware QEMU boots: package
// seabios, which qemu-system-x86 (installed by kvmbox setup) depends on.
const seabiosImage = "/usr/share/seabios/bios.bin"

// seabiosStops are the places in SeaBIOS where TestGDBSeaBIOS stops. They
// are read from the image rather than written down, so that another
// SeaBIOS build moves them with it; the test fails if the image does not
// have the shape they are read from.
type seabiosStops struct {
	// steps are the linear PCs after each of three stepi from the reset
	// vector: its far jump's target (entry_post) and the two
	// instructions after it.
	steps [3]uint64
	// realBreak is the lgdt in transition32, the last real-mode code
	// before POST switches to 32-bit protected mode. Not real-mode code
	// that SeaBIOS reaches only after its 32-bit POST, such as int 19h's
	// entry at F000:E6F2: on QEMU TCG the debug session arms such a
	// breakpoint in a debug register once the vCPU leaves real mode, and
	// the emulator crashes when it hits with CS.base != 0.
	realBreak uint64
	// bootFail are the pushes of the "No bootable device." messages'
	// addresses for boot_fail's printf: reached when there is nothing
	// to boot, just before SeaBIOS resets the machine.
	bootFail []uint64
}

// findSeabiosStops reads image, mapped as kvmscope maps a firmware image:
// its last 128 KiB (all of bios.bin) end at linear 0xfffff.
func findSeabiosStops(image []byte) (seabiosStops, error) {
	var s seabiosStops
	n := len(image)
	if n < 16 || n > 128<<10 {
		return s, fmt.Errorf("image of %d bytes: want a 128 KiB SeaBIOS", n)
	}
	base := uint64(1<<20 - n)
	at := func(lin uint64) []byte {
		if lin < base || lin >= 1<<20 {
			return nil
		}
		return image[lin-base:]
	}
	// The reset vector, F000:FFF0, is a far jump: EA off16 seg16.
	rv := image[n-16:]
	if rv[0] != 0xea {
		return s, fmt.Errorf("reset vector starts % x, want a far jump (ea)", rv[:5])
	}
	seg, off := binary.LittleEndian.Uint16(rv[3:]), binary.LittleEndian.Uint16(rv[1:])
	csBase := uint64(seg) << 4
	// decode reads the 16-bit instruction at CS:ip.
	decode := func(ip uint16) (x86asm.Inst, error) {
		code := at(csBase + uint64(ip))
		if code == nil {
			return x86asm.Inst{}, fmt.Errorf("%04x:%04x is outside the image", seg, ip)
		}
		inst, err := x86asm.Decode(code, 16)
		if err != nil {
			return inst, fmt.Errorf("decode %04x:%04x: %w", seg, ip, err)
		}
		return inst, nil
	}
	// walk decodes from CS:ip until match says stop, at most 64
	// instructions, and returns where it stopped.
	walk := func(ip uint16, what string, match func(x86asm.Inst) bool) (uint16, x86asm.Inst, error) {
		for range 64 {
			inst, err := decode(ip)
			if err != nil {
				return 0, inst, err
			}
			if match(inst) {
				return ip, inst, nil
			}
			ip += uint16(inst.Len)
		}
		return 0, x86asm.Inst{}, fmt.Errorf("no %s within 64 instructions", what)
	}

	// entry_post: cmpl $0, %cs:HaveRunPost; jnz (not taken on the first
	// boot); then the set-up for the switch to 32-bit mode.
	ip := off
	for i := range s.steps {
		s.steps[i] = csBase + uint64(ip)
		inst, err := decode(ip)
		if err != nil {
			return s, err
		}
		if inst.Op == x86asm.JMP || inst.Op == x86asm.LJMP || inst.Op == x86asm.CALL {
			return s, fmt.Errorf("instruction %d of entry_post is %v: want straight-line code", i+1, inst)
		}
		ip += uint16(inst.Len)
	}
	// entry_post ends in a jmp to transition32.
	jmpIP, jmp, err := walk(off, "jmp to transition32", func(i x86asm.Inst) bool { return i.Op == x86asm.JMP })
	if err != nil {
		return s, err
	}
	rel, ok := jmp.Args[0].(x86asm.Rel)
	if !ok {
		return s, fmt.Errorf("%04x:%04x: %v is not a near jump", seg, jmpIP, jmp)
	}
	t32 := jmpIP + uint16(jmp.Len) + uint16(int16(rel))
	lgdt, _, err := walk(t32, "lgdt in transition32", func(i x86asm.Inst) bool { return i.Op == x86asm.LGDT })
	if err != nil {
		return s, err
	}
	s.realBreak = csBase + uint64(lgdt)

	// boot_fail's printf calls push the message's linear address.
	msg := []byte("No bootable device.")
	for i := 0; ; i++ {
		j := bytes.Index(image[i:], msg)
		if j < 0 {
			break
		}
		i += j
		push := binary.LittleEndian.AppendUint32([]byte{0x68}, uint32(base)+uint32(i))
		if k := bytes.Index(image, push); k >= 0 {
			s.bootFail = append(s.bootFail, base+uint64(k))
		}
	}
	if len(s.bootFail) == 0 {
		return s, fmt.Errorf("no push of a %q message's address", msg)
	}
	return s, nil
}

// TestGDBSeaBIOS is the acceptance run on a real-mode firmware
// image nobody here wrote: Debian's SeaBIOS, from the reset vector to its
// boot attempt, which finds nothing to boot and resets the machine (the
// reset control register at 0xcf9, after fw_cfg's etc/boot-fail-wait of
// 0 ms). Real gdb reads the registers, steps three instructions, stops at
// a hardware breakpoint in real-mode code, at a watchpoint on the BIOS
// data area's EBDA segment (0x40e, a 2-byte store of POST's init_bda),
// reads and writes memory, stops where SeaBIOS is about to print "No
// bootable device." and continues to the end: kvmscope exits with the
// guest-reset status.
func TestGDBSeaBIOS(t *testing.T) {
	image, err := os.ReadFile(seabiosImage)
	if err != nil {
		kvmtest.SkipHostLimit(t, "no "+seabiosImage+" (Debian's seabios, which qemu-system-x86 depends on) on this host")
	}
	stops, err := findSeabiosStops(image)
	if err != nil {
		t.Fatalf("%s: %v", seabiosImage, err)
	}
	hex := func(a uint64) string { return fmt.Sprintf("%#016x", a) }
	p := startStub(t, "--wait", seabiosImage)
	cmds := []string{
		"info registers rip cs eflags",
		"monitor regs",
		"stepi", "stepi", "stepi",
		"info registers rip cs",
		fmt.Sprintf("hbreak *%#x", stops.realBreak),
		"continue",
		"p/x $pc",
		"info registers cs",
		"info threads",
		"delete",
		"watch *(unsigned short *)0x40e",
		"continue",
		"info threads",
		"x/1hx 0x40e",
		"delete",
		"set var *(unsigned short *)0x4f0 = 0xbeef",
		"x/1hx 0x4f0",
		"set var *(unsigned short *)0x4f0 = 0",
		"x/1hx 0x4f0",
	}
	for _, a := range stops.bootFail {
		cmds = append(cmds, fmt.Sprintf("hbreak *%#x", a))
	}
	// At the push, the message is the instruction's operand.
	cmds = append(cmds, "continue", "p/x $pc", "x/s *(unsigned int *)($pc + 1)", "info threads", "delete", "continue")
	out := p.gdb(t, cmds...)

	mustContain(t, out,
		// At reset CS is F000 with its base 0xffff0000: the linear PC
		// is 0xfffffff0, the last 16 bytes of the firmware below 4 GiB.
		"rip            0xfffffff0",
		"cs             0xf000",
		"vCPU 0, real mode",
		// Each stepi moves one instruction: the far jump, then entry_post.
		fmt.Sprintf("%s in ?? ()\n%s in ?? ()\n%s in ?? ()", hex(stops.steps[0]), hex(stops.steps[1]), hex(stops.steps[2])),
		fmt.Sprintf("rip            %#x", stops.steps[2]),
		fmt.Sprintf("Breakpoint 1, %s in ?? ()", hex(stops.realBreak)),
		fmt.Sprintf("$1 = %#x", stops.realBreak),
		"Hardware watchpoint 2: *(unsigned short *)0x40e",
		"Old value = 0",
		"vCPU 0, 32-bit protected mode",
		"0x4f0:\t0xbeef",
		"0x4f0:\t0x0000",
		`"No bootable device.`,
		"Program terminated with signal SIGPWR",
	)
	// The watchpoint's new value is what memory holds: an EBDA segment
	// below 640 KiB.
	nv := regexp.MustCompile(`New value = (\d+)`).FindStringSubmatch(out)
	mem := regexp.MustCompile(`0x40e:\s+0x([0-9a-f]{4})`).FindStringSubmatch(out)
	if nv == nil || mem == nil {
		t.Fatalf("no watchpoint value or no x of 0x40e:\n%s", out)
	}
	newVal, _ := strconv.ParseUint(nv[1], 10, 16)
	memVal, _ := strconv.ParseUint(mem[1], 16, 16)
	if newVal != memVal || newVal == 0 || newVal > 0xa000 {
		t.Errorf("watchpoint new value %#x, memory %#x: want the same EBDA segment, below 0xa000", newVal, memVal)
	}
	hit := false
	for i, a := range stops.bootFail {
		if bytes.Contains([]byte(out), fmt.Appendf(nil, "Breakpoint %d, %s in ?? ()", 3+i, hex(a))) {
			hit = true
		}
	}
	if !hit {
		t.Errorf("gdb did not stop at boot_fail's message (%#x):\n%s", stops.bootFail, out)
	}
	if s := p.status(t); s != exitGuestReset {
		t.Fatalf("kvmscope exited %d, want the guest-reset status %d; stderr:\n%s", s, exitGuestReset, p.stderrText())
	}
	if want := "the guest wrote the reset control register (0xcf9)"; !bytes.Contains([]byte(p.stderrText()), []byte(want)) {
		t.Errorf("kvmscope's stderr lacks %q:\n%s", want, p.stderrText())
	}
	t.Logf("gdb (shown with -v or on failure):\n%s", out)
}

// TestRunSeaBIOS runs SeaBIOS without gdb: POST, no bootable device, and
// its reset through the reset control register end the run with the
// guest-reset status, long before the time limit.
func TestRunSeaBIOS(t *testing.T) {
	kvmtest.Available(t)
	if _, err := os.Stat(seabiosImage); err != nil {
		kvmtest.SkipHostLimit(t, "no "+seabiosImage+" (Debian's seabios, which qemu-system-x86 depends on) on this host")
	}
	_, stderr, status := kvmscope(t, "run", "--timeout", "90s", "--stats", seabiosImage)
	if status != exitGuestReset {
		t.Fatalf("status %d, want the guest-reset status %d; stderr:\n%s", status, exitGuestReset, stderr)
	}
	for _, want := range []string{
		"guest reset: the guest wrote the reset control register (0xcf9)",
		"IO 0x510 fw_cfg",        // SeaBIOS found fw_cfg and read etc/boot-fail-wait
		"IO 0xcf9 reset control", // its reset
		"IO 0x70 cmos",           // the RAM size
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestFindSeabiosStops checks the reading of the stops on the image
// without KVM, so that a SeaBIOS of another shape fails here first.
func TestFindSeabiosStops(t *testing.T) {
	image, err := os.ReadFile(seabiosImage)
	if err != nil {
		kvmtest.SkipHostLimit(t, "no "+seabiosImage+" on this host")
	}
	s, err := findSeabiosStops(image)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("steps %#x, real-mode break %#x, boot_fail %#x", s.steps, s.realBreak, s.bootFail)
	if s.steps[0] < 0xf0000 || s.realBreak < 0xf0000 || s.realBreak >= 1<<20 {
		t.Errorf("stops %+v outside the F000 segment", s)
	}
	if _, err := findSeabiosStops(make([]byte, 128<<10)); err == nil {
		t.Error("an image of zeros has stops")
	}
}
