package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/kvmscope/kvmscope/debug/symbols"
	"github.com/kvmscope/kvmscope/debug/symbols/kimage"
)

// cmdSymbols prints a kernel's symbols as /proc/kallsyms does, from
// --symbols, a System.map beside the kernel, or the kernel's own kallsyms
// when it came with no map at all (distribution kernels).
func cmdSymbols(args []string) int {
	fs := newFlagSet("symbols", "--kernel FILE [--symbols FILE] [NAME...]")
	kernel := fs.String("kernel", "", "the kernel: a bzImage, an ELF vmlinux or a compressed vmlinux")
	symFile := fs.String("symbols", "", "read the symbols from this System.map or ELF file instead")
	names, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	if *kernel == "" && *symFile == "" {
		return badInput("symbols: no kernel: give --kernel FILE (or --symbols FILE)")
	}
	var tab *symbols.Table
	if *symFile != "" {
		k, err := loadSymbolFile(*symFile)
		if err != nil {
			return badInput("%v", err)
		}
		tab = k.Table
	} else {
		image, err := readImage(*kernel)
		if err != nil {
			return badInput("%v", err)
		}
		k, err := symbols.ForKernel(*kernel, image)
		if err != nil {
			return badInput("%v", err)
		}
		for _, n := range k.Notes {
			fmt.Fprintf(os.Stderr, "kvmscope: %s\n", n)
		}
		tab = k.Table
	}

	w := bufio.NewWriter(os.Stdout)
	want := map[string]bool{}
	for _, n := range names {
		want[n] = false
	}
	for _, s := range tab.Symbols() {
		if seen, asked := want[s.Name]; len(names) > 0 && !asked {
			continue
		} else if asked && !seen {
			want[s.Name] = true
		}
		fmt.Fprintf(w, "%016x %c %s\n", s.Addr, s.Kind, s.Name)
	}
	if err := w.Flush(); err != nil {
		return failure("symbols: %v", err)
	}
	var missing []string
	for _, n := range names {
		if !want[n] && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "kvmscope: symbols: no symbol named %s\n", strings.Join(missing, ", "))
		return exitFailure
	}
	return 0
}

// loadSymbolFile reads --symbols: a System.map, an ELF file with a symbol
// table, or a kernel image whose own kallsyms name its symbols (a stripped
// vmlinux, a bzImage).
func loadSymbolFile(file string) (*symbols.Kernel, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("--symbols %s: no such file", file)
		}
		return nil, fmt.Errorf("--symbols: %w", err)
	}
	t, err := symbols.Load(data)
	if err != nil && isKernelImage(data) {
		if k, kerr := symbols.ForKernel(file, data); kerr == nil {
			return k, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("--symbols %s: %w", file, err)
	}
	return &symbols.Kernel{Table: t, From: file}, nil
}

// kernelSymbols finds symbols for a kernel given without --symbols: a
// System.map beside it or the kernel's own kallsyms (see
// symbols.ForKernel). Images that are no kernel get none, silently; a
// bzImage whose symbols cannot be found gets a warning, not a refusal:
// the guest still runs, without names.
func kernelSymbols(name string, image []byte) *symbols.Kernel {
	if !isKernelImage(image) {
		return nil
	}
	bz := kimage.IsBzImage(image)
	if bz { // unpacking a bzImage takes seconds (most of a minute under emulation): say why we wait
		fmt.Fprintf(os.Stderr, "kvmscope: looking for the symbols of %s: a System.map beside it, else its kallsyms (--symbols FILE names them)\n", name)
	}
	k, err := symbols.ForKernel(name, image)
	if err != nil {
		if bz || !errors.Is(err, symbols.ErrNoKallsyms) {
			fmt.Fprintf(os.Stderr, "kvmscope: warning: no symbols: %v\n", err)
		}
		return nil
	}
	for _, n := range k.Notes {
		fmt.Fprintf(os.Stderr, "kvmscope: %s\n", n)
	}
	return k
}

// isKernelImage says whether data may hold a kernel's symbols: a bzImage
// or an ELF file.
func isKernelImage(data []byte) bool {
	return kimage.IsBzImage(data) || bytes.HasPrefix(data, []byte(elf.ELFMAG))
}
