// Package kimage turns a kernel file as distributions ship it — a bzImage,
// an ELF vmlinux, or a vmlinux compressed on its own — into the kernel's
// uncompressed bytes, so that its symbol table (kallsyms) can be read out
// of it when no System.map comes with it.
//
// A bzImage carries the kernel as one compressed stream (gzip, xz, zstd,
// lz4, lzma or bzip2) that its setup header points at. Decompression is
// bounded (Limit): a corrupt or hostile file gives an error, never a
// runaway allocation or a panic.
package kimage

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

// Limit bounds the uncompressed kernel. Distribution kernels decompress
// to 30-100 MiB; anything past this is a broken or hostile file.
const Limit = 512 << 20

// Image is a kernel's uncompressed bytes and where they came from.
type Image struct {
	// Data is the uncompressed kernel: an ELF vmlinux (what x86 bzImages
	// carry, with its symbol table stripped) or a raw image.
	Data []byte
	// Container is what the input was: "bzImage", "ELF", "compressed" (a
	// bare stream) or "raw".
	Container string
	// Compression names the decompressor used ("xz", "gzip", ...), or ""
	// when the input was not compressed.
	Compression string
}

func (im *Image) String() string {
	if im.Compression == "" {
		return im.Container
	}
	return im.Container + " (" + im.Compression + ")"
}

// ErrNotSupported marks inputs that are well-formed but that kimage
// cannot unpack (an LZO kernel, an old boot protocol).
var ErrNotSupported = errors.New("not supported")

// Open unpacks a kernel file: a bzImage's payload is decompressed, a bare
// compressed stream too, and an ELF or anything else is returned as it is
// (a raw image is still searched for kallsyms by the caller).
func Open(data []byte) (*Image, error) { return open(data, Limit) }

// open is Open with a bound on the output (the fuzz target's is small).
func open(data []byte, limit int64) (*Image, error) {
	switch {
	case len(data) == 0:
		return nil, errors.New("kernel image: empty")
	case IsBzImage(data):
		return openBzImage(data, limit)
	case bytes.HasPrefix(data, []byte(elf.ELFMAG)):
		return &Image{Data: data, Container: "ELF"}, nil
	}
	if f := detect(data); f != nil {
		out, err := decompress(f, data, -1, limit)
		if err != nil {
			return nil, fmt.Errorf("kernel image: %s stream: %w", f.name, err)
		}
		return &Image{Data: out, Container: "compressed", Compression: f.name}, nil
	}
	return &Image{Data: data, Container: "raw"}, nil
}

// Offsets in the boot protocol's setup header (Documentation/arch/x86/boot.rst).
const (
	setupSectsOff = 0x1f1 // uint8, 0 means 4
	syssizeOff    = 0x1f4 // uint32, protected-mode code in 16-byte units
	bootFlagOff   = 0x1fe // uint16 0xaa55
	headerOff     = 0x202 // "HdrS"
	versionOff    = 0x206 // uint16 protocol version
	payloadOff    = 0x248 // uint32 payload_offset (2.08+), from the protected-mode code's start
	payloadLenOff = 0x24c // uint32 payload_length (2.08+)
	headerEnd     = 0x250
)

// IsBzImage reports whether data starts with a Linux setup header (the
// boot flag and "HdrS").
func IsBzImage(data []byte) bool {
	return len(data) >= versionOff+2 &&
		binary.LittleEndian.Uint16(data[bootFlagOff:]) == 0xaa55 &&
		string(data[headerOff:headerOff+4]) == "HdrS"
}

// openBzImage finds the compressed kernel through the setup header and
// decompresses it. The kernel build appends the uncompressed size as a
// little-endian uint32 after every payload (gzip's own trailer ends the
// same way), which bounds and checks the result.
func openBzImage(data []byte, limit int64) (*Image, error) {
	le := binary.LittleEndian
	if v := le.Uint16(data[versionOff:]); v < 0x0208 {
		return nil, fmt.Errorf("bzImage: boot protocol %d.%02d has no payload fields (2.08+): %w", v>>8, v&0xff, ErrNotSupported)
	}
	if len(data) < headerEnd {
		return nil, fmt.Errorf("bzImage: truncated: %d bytes, shorter than the setup header", len(data))
	}
	sects := uint64(data[setupSectsOff])
	if sects == 0 {
		sects = 4
	}
	setup := (sects + 1) * 512
	pm := uint64(le.Uint32(data[syssizeOff:])) * 16
	off, size := uint64(le.Uint32(data[payloadOff:])), uint64(le.Uint32(data[payloadLenOff:]))
	n := uint64(len(data))
	switch {
	case setup > n:
		return nil, fmt.Errorf("bzImage: truncated: %d setup sectors end at %#x, the file has %d bytes", sects, setup, n)
	case size < 8 || off > n-setup || size > n-setup-off:
		return nil, fmt.Errorf("bzImage: truncated or corrupt: the payload (%d bytes at %#x after the %#x-byte setup) is not in the %d-byte file", size, off, setup, n)
	case pm != 0 && off+size > pm:
		return nil, fmt.Errorf("bzImage: corrupt: the payload (%d bytes at %#x) overruns the %d-byte protected-mode code", size, off, pm)
	}
	p := data[setup+off : setup+off+size]
	f := detect(p)
	if f == nil {
		return nil, fmt.Errorf("bzImage: the payload starts with % x, no known compressor's magic", p[:min(len(p), 6)])
	}
	want := int64(le.Uint32(p[len(p)-4:]))
	if want > limit {
		return nil, fmt.Errorf("bzImage: the payload says it decompresses to %d bytes, more than the %d-byte limit", want, limit)
	}
	if f.name != "gzip" { // the size is gzip's own ISIZE field
		p = p[:len(p)-4]
	}
	out, err := decompress(f, p, want, limit)
	if err != nil {
		return nil, fmt.Errorf("bzImage: %s payload: %w", f.name, err)
	}
	if int64(len(out)) != want {
		return nil, fmt.Errorf("bzImage: %s payload: decompressed to %d bytes, its trailer says %d", f.name, len(out), want)
	}
	return &Image{Data: out, Container: "bzImage", Compression: f.name}, nil
}
