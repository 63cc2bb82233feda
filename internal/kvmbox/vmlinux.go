package kvmbox

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Magic numbers of the compressors a Debian bzImage may use for its
// payload. Go's standard library has neither, so the xz and zstd tools
// (packages xz-utils and zstd, installed by setup) do the work.
var (
	xzMagic   = []byte("\xfd7zXZ\x00")
	zstdMagic = []byte("\x28\xb5\x2f\xfd")
)

// kernelPayload locates the compressed vmlinux inside a bzImage. It
// trusts the boot protocol header (payload_offset/payload_length, boot
// protocol 2.08+) when that is sane, and otherwise falls back to the first
// xz stream magic, which is what Debian's amd64 kernels use.
func kernelPayload(image []byte) (payload []byte, tool []string, err error) {
	if p, ok := headerPayload(image); ok {
		switch {
		case bytes.HasPrefix(p, xzMagic):
			return p, []string{"xz", "-dc", "--single-stream"}, nil
		case bytes.HasPrefix(p, zstdMagic):
			return p, []string{"zstd", "-qdc"}, nil
		}
	}
	i := bytes.Index(image, xzMagic)
	if i < 0 {
		return nil, nil, errors.New("no xz-compressed payload found in the kernel image")
	}
	// --single-stream stops at the end of the xz stream and ignores what
	// the bzImage has after it.
	return image[i:], []string{"xz", "-dc", "--single-stream"}, nil
}

// headerPayload reads the payload bounds from the x86 boot protocol
// header: "HdrS" at 0x202, version at 0x206, setup_sects at 0x1f1,
// payload_offset/length at 0x248/0x24c, relative to the protected-mode
// code that follows the (setup_sects+1) setup sectors.
func headerPayload(image []byte) ([]byte, bool) {
	if len(image) < 0x250 || string(image[0x202:0x206]) != "HdrS" {
		return nil, false
	}
	if binary.LittleEndian.Uint16(image[0x206:]) < 0x208 {
		return nil, false
	}
	setupSects := int(image[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	pm := (setupSects + 1) * 512
	off := int(binary.LittleEndian.Uint32(image[0x248:]))
	n := int(binary.LittleEndian.Uint32(image[0x24c:]))
	start := pm + off
	if off <= 0 || n <= 0 || start < pm || start+n > len(image) || start+n < start {
		return nil, false
	}
	return image[start : start+n], true
}

// extractVmlinux writes the uncompressed ELF kernel from the bzImage at
// vmlinuz to out and checks that QEMU can boot it through PVH: a PVH
// boot skips SeaBIOS and the kernel's self-decompression, which under a
// software CPU saves seconds on every boot.
func extractVmlinux(ctx context.Context, vmlinuz, out string) error {
	image, err := os.ReadFile(vmlinuz)
	if err != nil {
		return fmt.Errorf("read kernel image: %w", err)
	}
	payload, tool, err := kernelPayload(image)
	if err != nil {
		return fmt.Errorf("%s: %w", vmlinuz, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create vmlinux: %w", err)
	}
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, tool[0], tool[1:]...)
	cmd.Stdin = bytes.NewReader(payload)
	cmd.Stdout = tmp
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		tmp.Close()
		return fmt.Errorf("decompress kernel payload with %s: %w: %s", tool[0], err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write vmlinux: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write vmlinux: %w", err)
	}
	if err := checkPVH(tmp.Name()); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("write vmlinux: %w", err)
	}
	return nil
}

// xenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY, the note through
// which a kernel built with CONFIG_PVH advertises its 32-bit PVH entry.
const xenElfnotePhys32Entry = 18

// checkPVH tells whether the ELF kernel at path has a PVH entry note.
func checkPVH(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("decompressed kernel is not an ELF file: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		notes := make([]byte, p.Filesz)
		if _, err := p.ReadAt(notes, 0); err != nil {
			return fmt.Errorf("read kernel notes: %w", err)
		}
		if hasNote(notes, "Xen", xenElfnotePhys32Entry) {
			return nil
		}
	}
	return errors.New("kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): it needs CONFIG_PVH=y")
}

// hasNote walks an ELF note segment (namesz, descsz, type, name, desc,
// each padded to 4 bytes) looking for one note.
func hasNote(notes []byte, name string, typ uint32) bool {
	for len(notes) >= 12 {
		namesz := binary.LittleEndian.Uint32(notes[0:])
		descsz := binary.LittleEndian.Uint32(notes[4:])
		t := binary.LittleEndian.Uint32(notes[8:])
		if namesz > 1<<20 || descsz > 1<<20 {
			return false
		}
		nameEnd := 12 + int(namesz)
		descEnd := 12 + int(align4(namesz)) + int(descsz)
		if descEnd > len(notes) {
			return false
		}
		if t == typ && string(bytes.TrimRight(notes[12:nameEnd], "\x00")) == name {
			return true
		}
		next := 12 + int(align4(namesz)) + int(align4(descsz))
		if next >= len(notes) {
			return false
		}
		notes = notes[next:]
	}
	return false
}

func align4(n uint32) uint32 { return (n + 3) &^ 3 }
