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
// (each sets its own stack in its .bss); the raw firmware image is entered
// in real mode at the reset vector. They talk to the VMM only through
// port I/O: the COM1 UART at 0x3f8 and the debug-exit port 0xf4.
package samples

import (
	"bytes"
	"debug/elf"
	"embed"
	"encoding/binary"
	"fmt"
	"path"
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

// Outcome is how a sample ends when it runs to completion under kvmscope.
type Outcome struct {
	// Serial is everything the sample writes to the COM1 UART.
	Serial string
	// ExitStatus is the byte the sample writes to the debug-exit port
	// 0xf4, which becomes kvmscope's exit status. It is 0 when TripleFault
	// is set.
	ExitStatus int
	// TripleFault is set when the sample ends in a triple fault (which KVM
	// reports as KVM_EXIT_SHUTDOWN) instead of writing to port 0xf4.
	TripleFault bool
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
	"triple-fault": {
		desc:    "ELF64, long mode: prints a line on COM1, loads an empty IDT and executes ud2, so the CPU triple-faults",
		outcome: Outcome{Serial: "about to triple-fault\n", TripleFault: true},
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
	return names
}

// Image returns the embedded image of the named sample ("hello",
// "pio-loop", ...), or an error listing the names when there is none. The
// returned slice is the caller's own copy.
func Image(name string) ([]byte, error) {
	entries, err := images.ReadDir("build")
	if err != nil {
		return nil, fmt.Errorf("read embedded build directory: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.TrimSuffix(e.Name(), path.Ext(e.Name())) == name {
			data, err := images.ReadFile("build/" + e.Name())
			if err != nil {
				return nil, fmt.Errorf("read sample %q: %w", name, err)
			}
			return data, nil
		}
	}
	return nil, fmt.Errorf("no sample %q (have %s)", name, strings.Join(Names(), ", "))
}

// Describe returns the one-line description of a sample, or "" when there
// is no such sample.
func Describe(name string) string {
	return catalog[name].desc
}

// Expect returns how the named sample ends when run to completion.
func Expect(name string) (Outcome, error) {
	s, ok := catalog[name]
	if !ok {
		return Outcome{}, fmt.Errorf("no sample %q (have %s)", name, strings.Join(Names(), ", "))
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
