package boot

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strconv"
)

// checkInitrd checks that an initrd is what the kernel's initramfs
// unpacker reads: one or more cpio "newc" archives, each plain or
// compressed, one after the other with zero padding between them. Plain
// archives are walked to their trailer and gzip members decompressed (the
// standard library checks their CRC32 and length); other compressors are
// recognised by their magic and, for xz, header and footer. What it
// catches is what a truncated or damaged file looks like; the kernel
// would otherwise report it, if at all, deep into its boot.
func checkInitrd(initrd []byte) error {
	if len(initrd) == 0 {
		return fmt.Errorf("initrd is empty")
	}
	rest := initrd
	for {
		// Zero padding between archives, as the kernel skips it.
		i := 0
		for i < len(rest) && rest[i] == 0 {
			i++
		}
		rest = rest[i:]
		if len(rest) == 0 {
			return nil
		}
		off := len(initrd) - len(rest)
		n, err := checkInitrdMember(rest, off)
		if err != nil {
			return fmt.Errorf("initrd at offset %d: %w", off, err)
		}
		if n == 0 { // compressed with a format that is checked whole: the rest is that stream
			return nil
		}
		rest = rest[n:]
	}
}

// checkInitrdMember checks the archive or compressed stream at the start
// of b and returns its length, or 0 when it takes the rest of b.
func checkInitrdMember(b []byte, off int) (int, error) {
	switch {
	case bytes.HasPrefix(b, []byte("07070")):
		if off%4 != 0 {
			// The kernel reads a header only at a multiple of four; there
			// it would take the archive for compressed data and fail.
			return 0, fmt.Errorf("cpio archive not 4-byte aligned (pad what comes before it)")
		}
		return walkCPIO(b)
	case bytes.HasPrefix(b, []byte("\x1f\x8b")):
		r := bytes.NewReader(b)
		z, err := gzip.NewReader(r)
		if err != nil {
			return 0, fmt.Errorf("gzip: %w", err)
		}
		z.Multistream(false)
		if _, err := io.Copy(io.Discard, z); err != nil {
			return 0, fmt.Errorf("gzip data is damaged or truncated: %w", err)
		}
		return len(b) - r.Len(), nil
	case bytes.HasPrefix(b, []byte("\xfd7zXZ\x00")):
		end := len(bytes.TrimRight(b, "\x00"))
		if err := checkXZ(b[:end]); err != nil {
			return 0, err
		}
		return 0, nil
	}
	for _, m := range payloadMagics {
		if bytes.HasPrefix(b, []byte(m.magic)) {
			return 0, nil // a compressor the kernel may know; its own checks apply
		}
	}
	return 0, fmt.Errorf("not a cpio archive or a compressed one (starts with % x)", b[:min(len(b), 8)])
}

// walkCPIO walks a newc (070701) or newc-with-CRC (070702) archive to its
// TRAILER!!! entry and returns the archive's length.
func walkCPIO(b []byte) (int, error) {
	const hdrLen = 110
	off := 0
	for {
		if off > len(b) || len(b)-off < hdrLen {
			return 0, fmt.Errorf("truncated cpio archive: it ends at offset %d without its trailer", min(off, len(b)))
		}
		h := b[off : off+hdrLen]
		if magic := string(h[:6]); magic != "070701" && magic != "070702" {
			return 0, fmt.Errorf("cpio archive: bad header magic %q at offset %d (only newc archives are read by the kernel)", magic, off)
		}
		size, err1 := strconv.ParseUint(string(h[54:62]), 16, 32)
		nameSize, err2 := strconv.ParseUint(string(h[94:102]), 16, 32)
		if err1 != nil || err2 != nil || nameSize == 0 {
			return 0, fmt.Errorf("cpio archive: damaged header at offset %d", off)
		}
		nameEnd := uint64(off) + hdrLen + nameSize
		if nameEnd > uint64(len(b)) {
			return 0, fmt.Errorf("truncated cpio archive: a name runs past the end at offset %d", off)
		}
		name := string(b[uint64(off)+hdrLen : nameEnd-1])
		dataEnd := alignUp(nameEnd, 4) + size
		if dataEnd > uint64(len(b)) {
			return 0, fmt.Errorf("truncated cpio archive: %q wants %d bytes, the file ends first", name, size)
		}
		off = int(alignUp(dataEnd, 4))
		if name == "TRAILER!!!" {
			return min(off, len(b)), nil
		}
	}
}
