// Package samples embeds the guest programs that kvmscope ships with.
//
// Each sample is a small assembly program in samples/<name>/, built by
// samples/Makefile (GNU as and ld) into samples/build/. The built images
// are committed, so building kvmscope needs no cross toolchain; a test
// rebuilds them and checks that the committed bytes are what the sources
// make.
//
// The samples are written for the VMM's loaders: ELF64 images are entered
// in long mode and ELF32 images in flat protected mode, both at 0x100000
// (each sets its own stack in its .bss); the raw 64 KiB firmware images are
// entered in real mode at the reset vector. They end through the
// debug-exit port 0xf4 (but triple-fault and runaway, which fault, and the
// demo and spin-cli, which never end)
// and print, if at all, on the COM1 UART at 0x3f8.
//
// A raw image may have an ELF beside it with the same bytes and the
// symbols (SymbolFile): the modes sample, which the debugger steps from
// real through protected to long mode, and the demo, the TUI's guest that
// runs until it is stopped (Outcome.Forever). The bench-* firmware images
// are the workloads of kvmscope bench; their count N is patched with
// PatchIterations.
package samples

import (
	"bytes"
	"debug/elf"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed build
var images embed.FS

// The pio-loop sample writes PIOLoopIterations times to PIOLoopPort, a port
// no device claims, then exits with status 0. The count is a 64-bit
// little-endian variable (symbol "iterations") at the guest-physical
// address PIOLoopIterationsAddr, which a VMM may overwrite after loading
// the image and before the vCPU first runs; PIOLoopImage patches it in a
// copy of the image instead.
const (
	PIOLoopPort              = 0x0401
	PIOLoopIterationsAddr    = 0x100008
	PIOLoopDefaultIterations = 100000
)

// The modes sample counts from 1 to ModesCount in each CPU mode, storing
// the counter at a fixed guest-physical address with a store as wide as
// the mode: a 16-bit word in real mode, a 32-bit dword in protected mode,
// a 64-bit qword in long mode. Debugger tests watch these addresses.
const (
	ModesRealCounter = 0x7000
	ModesProtCounter = 0x7004
	ModesLongCounter = 0x7008
	ModesCount       = 16
)

// The demo sample runs until it is stopped: a PIT timer at DemoTimerHz
// (divisor DemoPITDivisor) on IRQ0, a round of port, MMIO, doorbell,
// data-window and cpuid work on each tick, at the same ports and
// addresses as the bench-* workloads, and a status line on COM1 every
// DemoReportTicks ticks. Its tick count is a 32-bit variable at the
// guest-physical address DemoTicksAddr (symbol "ticks"), its other
// counters right after it (see demo/README.md).
const (
	DemoTimerHz     = 100
	DemoPITDivisor  = 11932 // 1193182 Hz / 11932 = 99.998 Hz
	DemoReportTicks = 50
	DemoTicksAddr   = 0x7000
)

// FirmwareSize is the size of every raw firmware sample. The VMM maps the
// image at 0xFFFF0000-0xFFFFFFFF and copies it to RAM at 0xF0000-0xFFFFF,
// where the code runs after the far jump from the reset vector.
const FirmwareSize = 64 << 10

// The bench-* firmware images run their workload N times, N being a
// 64-bit little-endian count at image offset BenchIterationsOffset, right
// after the 8 bytes BenchIterationsMagic. In guest RAM the count is at
// BenchIterationsAddr (the copy below 1 MiB, which is the one the code
// reads), where a VMM may overwrite it after loading and before the vCPU
// first runs; PatchIterations changes it in the image instead. N = 0 means
// no operations at all. For bench-hlt N counts timer ticks.
const (
	BenchIterationsMagic   = "BENCH:N="
	BenchMagicOffset       = 0x08
	BenchIterationsOffset  = 0x10
	BenchIterationsAddr    = 0xf0000 + BenchIterationsOffset
	BenchDefaultIterations = 10000
	BenchHLTDefaultTicks   = 100
)

// The ports and addresses the bench-* workloads write. No device claims
// BenchPIOPort or BenchMMIOAddr; the others are the VMM's doorbell, its
// two data windows (MMIO and PIO) and their flush port. Each access is an
// exit to the VMM unless a host extension takes it in the kernel:
// ioeventfd the doorbell, coalesced MMIO and PIO the windows' writes.
// bench-hlt instead drives the PIT and the PIC, which are KVM's in-kernel
// devices by default.
const (
	BenchPIOPort       = 0x0401     // bench-pio: 1-byte out
	BenchMMIOAddr      = 0xd0000000 // bench-mmio: 4-byte store
	BenchDoorbellPort  = 0x0500     // bench-doorbell: 4-byte out of BenchDoorbellValue
	BenchDoorbellValue = 1
	BenchWindowAddr    = 0xd0001000 // bench-window: 4-byte stores cycling through the window
	BenchWindowSize    = 64
	BenchFlushPort     = 0x0504 // bench-window: 1-byte out after every BenchFlushEvery stores; bench-piowindow too
	BenchFlushEvery    = BenchWindowSize / 4
	BenchPIOWindowPort = 0x0508 // bench-piowindow: 1-byte outs cycling through the BenchPIOWindowSize ports
	BenchPIOWindowSize = 8
	BenchPIOFlushEvery = BenchPIOWindowSize // bench-piowindow: a 1-byte out to BenchFlushPort after every 8 writes
	BenchPITDivisor    = 1193               // bench-hlt: PIT channel 0 at 1193182 Hz / 1193 = 1000.15 Hz
)

// KUTMiniSerial is what kut-mini prints with one vCPU, no initrd and no
// argument; it then passes (exit code 0).
const KUTMiniSerial = "kut-mini: multiboot magic ok\n" +
	"kut-mini: fw_cfg says 1 cpus\n" +
	"PASS: testdev read-back\n" +
	"PASS: pm timer advances\n" +
	"SUMMARY: 0 unexpected failures\n"

// KUTConfig is a kvm-unit-tests unittests.cfg for kut-mini (which it
// names kut-mini.flat), with a test for each way a test can end: what
// `kvmscope kut` is tested on where the suite itself is not at hand.
//
//go:embed kut-mini/unittests.cfg
var KUTConfig string

// ErrNoSymbols is returned by SymbolFile for a sample whose image has no
// symbols (a raw image with no ELF beside it).
var ErrNoSymbols = errors.New("no symbol file")

// Outcome is how a sample ends when it runs to completion under kvmscope,
// or, for a sample that runs Forever, how it begins.
type Outcome struct {
	// Serial is everything the sample writes to the COM1 UART; for a
	// Forever sample, what it writes first: its output begins with Serial
	// and goes on for as long as it runs.
	Serial string
	// ExitStatus is the byte the sample writes to the debug-exit port
	// 0xf4, which becomes kvmscope's exit status. It is 0 when TripleFault
	// is set.
	ExitStatus int
	// TripleFault is set when the sample ends in a triple fault (which KVM
	// reports as KVM_EXIT_SHUTDOWN) instead of writing to port 0xf4.
	TripleFault bool
	// Fault, when not empty, is part of how the VMM describes the fault
	// that ends the sample instead of a write to port 0xf4 (other than a
	// triple fault): e.g. "KVM internal error".
	Fault string
	// Forever is set when the sample never ends on its own (the demo): it
	// runs until the VMM stops it, by a time limit or because the user
	// quits, so a run of it ends in a timeout or a cancel. ExitStatus is
	// then 0 and TripleFault false, and mean nothing.
	Forever bool
}

type sample struct {
	desc    string
	outcome Outcome
}

var catalog = map[string]sample{
	"hello": {
		desc:    "ELF64, long mode: prints a greeting on COM1, polling the LSR before each byte, then exits with status 0",
		outcome: Outcome{Serial: "Hello from kvmscope guest!\n", ExitStatus: 0},
	},
	"pio-loop": {
		desc:    "ELF64, long mode: exit-cost workload, 100000 (patchable at 0x100008) byte writes to unclaimed port 0x401, silent, exits with status 0",
		outcome: Outcome{Serial: "", ExitStatus: 0},
	},
	"fw-realmode": {
		desc:    "64 KiB firmware, real mode from the reset vector: computes 6*7 with a call and a loop, prints it on COM1, exits with status 42",
		outcome: Outcome{Serial: "fw: 42\n", ExitStatus: 42},
	},
	"elf32-hello": {
		desc:    "ELF32, flat protected mode: prints a greeting on COM1, then exits with status 32 through a 4-byte outl",
		outcome: Outcome{Serial: "Hello from 32-bit protected mode\n", ExitStatus: 32},
	},
	"recurse": {
		desc:    "ELF32, flat protected mode: sum(10) by a function that calls itself from one call site (sum_call, returning to sum_return), for step-over; exits with status 55",
		outcome: Outcome{Serial: "", ExitStatus: 55},
	},
	"kut-mini": {
		desc:    "multiboot ELF32 in kvm-unit-tests' manner: checks EAX, reads fw_cfg, pc-testdev 0xe0 and the PM timer, echoes the initrd's first line; first argument pass/fail/skip/hang/N (vCPUs) picks the end; exits with outl of 0, 1 or 38 (77>>1)",
		outcome: Outcome{Serial: KUTMiniSerial, ExitStatus: 0},
	},
	"triple-fault": {
		desc:    "ELF64, long mode: prints a line on COM1, loads an empty IDT and executes ud2, so the CPU triple-faults",
		outcome: Outcome{Serial: "about to triple-fault\n", TripleFault: true},
	},
	"runaway": {
		desc:    "ELF64, long mode: prints a line, then jumps to the last 16 bytes of the default 64 MiB of RAM and runs off its end, which KVM cannot emulate (an internal error)",
		outcome: Outcome{Serial: "runaway: jumping to the end of RAM\n", Fault: "KVM internal error"},
	},
	"spin-cli": {
		desc:    "ELF64, long mode: prints a line, disables interrupts and spins forever with no exit (a deadlock); only a time limit or a debugger stops it",
		outcome: Outcome{Serial: "spin-cli: interrupts off, spinning\n", Forever: true},
	},
	"rom-write": {
		desc:    "64 KiB firmware, real mode running from the ROM copy at the top of 4 GiB: writes a byte of its ROM, a guest fault (with --rom-writes drop it prints whether the byte kept its value and exits with status 0 if it did)",
		outcome: Outcome{Fault: "read-only memory (ROM)"},
	},
	"modes": {
		desc:    "64 KiB firmware with an ELF of its symbols: real mode from the reset vector, then protected, then long mode, counting at 0x7000/0x7004/0x7008 in each; prints the modes, exits with status 0",
		outcome: Outcome{Serial: "modes: real protected long\n", ExitStatus: 0},
	},
	"demo": {
		desc:    "64 KiB firmware with an ELF of its symbols, protected mode: the TUI's demo, runs until stopped; 100 Hz PIT/PIC timer, each tick port 0x401, MMIO 0xd0000000, doorbell 0x500 and data-window (0x508, 0xd0001000, flush 0x504) writes and cpuid, then hlt; a status line on COM1 every 50 ticks",
		outcome: Outcome{Serial: "demo: kvmscope's demo guest, 100 Hz timer, a line every 50 ticks\n", Forever: true},
	},
	"bench-compute": {
		desc:    "64 KiB firmware, protected mode: bench baseline, N (10000, at 0xf0010) rounds of register arithmetic with no exits, exits with status 0",
		outcome: Outcome{ExitStatus: 0},
	},
	"bench-pio": {
		desc:    "64 KiB firmware, protected mode: bench, N (10000, at 0xf0010) byte writes to unclaimed port 0x401, exits with status 0",
		outcome: Outcome{ExitStatus: 0},
	},
	"bench-mmio": {
		desc:    "64 KiB firmware, protected mode: bench, N (10000, at 0xf0010) 4-byte writes to unclaimed MMIO at 0xd0000000, exits with status 0",
		outcome: Outcome{ExitStatus: 0},
	},
	"bench-doorbell": {
		desc:    "64 KiB firmware, protected mode: bench, N (10000, at 0xf0010) 4-byte writes of 1 to doorbell port 0x500 (ioeventfd's case), exits with status 0",
		outcome: Outcome{ExitStatus: 0},
	},
	"bench-window": {
		desc:    "64 KiB firmware, protected mode: bench, N (10000, at 0xf0010) 4-byte writes into a 64-byte MMIO window at 0xd0001000, a flush to port 0x504 every 16 (coalescing's case), exits with status 0",
		outcome: Outcome{ExitStatus: 0},
	},
	"bench-piowindow": {
		desc:    "64 KiB firmware, protected mode: bench, N (10000, at 0xf0010) byte writes cycling through the 8-port PIO window 0x508-0x50f, a flush to port 0x504 every 8 (coalesced PIO's case), exits with status 0",
		outcome: Outcome{ExitStatus: 0},
	},
	"bench-hlt": {
		desc:    "64 KiB firmware, protected mode: bench, idles with sti;hlt on PIT/PIC timer interrupts at 1 kHz until N (100, at 0xf0010) ticks, exits with status 0",
		outcome: Outcome{ExitStatus: 0},
	},
	"bench-cpuid": {
		desc:    "64 KiB firmware, protected mode: bench, N (10000, at 0xf0010) cpuid instructions (leaf 0), answered in the kernel, exits with status 0",
		outcome: Outcome{ExitStatus: 0},
	},
}

// Names lists the embedded samples, sorted.
func Names() []string {
	entries, err := images.ReadDir("build")
	if err != nil {
		panic(fmt.Sprintf("samples: read embedded build directory: %v", err))
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries { // ReadDir sorts by file name
		if e.Type().IsRegular() {
			names = append(names, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
		}
	}
	return slices.Compact(names) // a .bin and its symbol .elf are one sample
}

// Image returns the embedded image of the named sample ("hello",
// "pio-loop", ...), or an error listing the names when there is none. The
// returned slice is the caller's own copy. For a sample with both a raw
// image (build/NAME.bin) and an ELF (build/NAME.elf), the image is the raw
// one and the ELF is its SymbolFile.
func Image(name string) ([]byte, error) {
	if !slices.Contains(Names(), name) {
		return nil, noSample(name)
	}
	file := name + ".elf"
	if exists(name + ".bin") {
		file = name + ".bin"
	}
	return read(name, file)
}

// SymbolFile returns an ELF with the symbols of the named sample's image,
// at the addresses where the code runs: for an ELF sample the image
// itself, for a raw image the ELF beside it (the modes and demo samples),
// which holds the same bytes. A raw image with no ELF beside it gives an error
// wrapping ErrNoSymbols. The returned slice is the caller's own copy.
func SymbolFile(name string) ([]byte, error) {
	if !slices.Contains(Names(), name) {
		return nil, noSample(name)
	}
	if !exists(name + ".elf") {
		return nil, fmt.Errorf("sample %q: %w", name, ErrNoSymbols)
	}
	return read(name, name+".elf")
}

func exists(file string) bool {
	_, err := fs.Stat(images, "build/"+file)
	return err == nil
}

func read(name, file string) ([]byte, error) {
	data, err := images.ReadFile("build/" + file)
	if err != nil {
		return nil, fmt.Errorf("read sample %q: %w", name, err)
	}
	return data, nil
}

func noSample(name string) error {
	return fmt.Errorf("no sample %q (have %s)", name, strings.Join(Names(), ", "))
}

// Describe returns the one-line description of a sample, or "" when there
// is no such sample.
func Describe(name string) string {
	return catalog[name].desc
}

// Expect returns how the named sample ends when run to completion, or,
// when the Outcome says Forever, how it begins.
func Expect(name string) (Outcome, error) {
	s, ok := catalog[name]
	if !ok {
		return Outcome{}, noSample(name)
	}
	return s.outcome, nil
}

// PIOLoopImage returns a copy of the pio-loop image whose iteration count
// is n instead of PIOLoopDefaultIterations.
func PIOLoopImage(n uint64) ([]byte, error) {
	img, err := Image("pio-loop")
	if err != nil {
		return nil, err
	}
	off, err := fileOffset(img, PIOLoopIterationsAddr, 8)
	if err != nil {
		return nil, fmt.Errorf("patch pio-loop iterations: %w", err)
	}
	binary.LittleEndian.PutUint64(img[off:], n)
	return img, nil
}

// PatchIterations returns a copy of a bench-* firmware image whose count
// N is n. It refuses an image that lacks BenchIterationsMagic at
// BenchMagicOffset, so that it never overwrites 8 bytes of some other
// image.
func PatchIterations(image []byte, n uint64) ([]byte, error) {
	end := BenchIterationsOffset + 8
	if len(image) < end || string(image[BenchMagicOffset:BenchIterationsOffset]) != BenchIterationsMagic {
		return nil, fmt.Errorf("patch iterations: not a bench image (no %q at offset %#x)", BenchIterationsMagic, BenchMagicOffset)
	}
	out := slices.Clone(image)
	binary.LittleEndian.PutUint64(out[BenchIterationsOffset:end], n)
	return out, nil
}

// fileOffset returns where the size bytes at guest-physical address paddr
// are in the ELF image img.
func fileOffset(img []byte, paddr, size uint64) (int, error) {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return 0, err
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && paddr >= p.Paddr && paddr+size <= p.Paddr+p.Filesz {
			return int(p.Off + paddr - p.Paddr), nil
		}
	}
	return 0, fmt.Errorf("no PT_LOAD segment holds %d bytes at %#x", size, paddr)
}
