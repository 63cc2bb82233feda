package boot

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Offsets in the Linux boot protocol's setup header, which starts at 0x1f1
// of both the bzImage and the zero page (struct boot_params)
// (Documentation/arch/x86/boot.rst).
const (
	bzSetupSectsOff  = 0x1f1 // uint8, 0 means 4
	bzSyssizeOff     = 0x1f4 // uint32, protected-mode code in 16-byte units (2.04+)
	bzVidModeOff     = 0x1fa // uint16
	bzBootFlagOff    = 0x1fe // uint16 0xAA55
	bzJumpOff        = 0x200 // short jump; its offset byte at 0x201 ends the header
	bzHeaderOff      = 0x202 // "HdrS"
	bzVersionOff     = 0x206 // uint16 protocol version, major in the high byte
	bzLoaderTypeOff  = 0x210 // uint8 type_of_loader
	bzLoadflagsOff   = 0x211 // uint8
	bzCode32Off      = 0x214 // uint32 code32_start
	bzRamdiskOff     = 0x218 // uint32 ramdisk_image
	bzRamdiskSizeOff = 0x21c // uint32 ramdisk_size
	bzHeapEndOff     = 0x224 // uint16 heap_end_ptr
	bzCmdlinePtrOff  = 0x228 // uint32 cmd_line_ptr (2.02+)
	bzInitrdMaxOff   = 0x22c // uint32 initrd_addr_max (2.03+)
	bzAlignOff       = 0x230 // uint32 kernel_alignment (2.05+)
	bzRelocOff       = 0x234 // uint8 relocatable_kernel (2.05+)
	bzXloadflagsOff  = 0x236 // uint16 xloadflags (2.12+)
	bzCmdlineSizeOff = 0x238 // uint32 cmdline_size (2.06+)
	bzPayloadOff     = 0x248 // uint32 payload_offset (2.08+)
	bzPayloadLenOff  = 0x24c // uint32 payload_length (2.08+)
	bzPrefAddrOff    = 0x258 // uint64 pref_address (2.10+)
	bzInitSizeOff    = 0x260 // uint32 init_size (2.10+)
	bzHeaderEnd      = 0x26c // end of the 2.15 header
	bzZeroPageHdrMax = 0x290 // where boot_params' next field (edd_mbr_sig_buffer) starts
	bzMinLen         = bzVersionOff + 2

	loadflagLoadedHigh = 0x01 // protected-mode code at 1 MiB: a bzImage, not a zImage
	loadflagCanUseHeap = 0x80
	xlfKernel64        = 0x01 // a 64-bit entry at the load address + 0x200
	entry64Offset      = 0x200

	// minProtocol is the oldest boot protocol Load boots: 2.10 (Linux
	// 2.6.31) is the first whose header says how much memory the kernel
	// needs to decompress itself (init_size) and where it wants to run
	// (pref_address).
	minProtocol = 0x020a
	// oldCmdlineSize is the limit before cmdline_size existed.
	oldCmdlineSize = 255
)

// isBzImage reports whether image carries a Linux setup header. Both the
// boot flag and the "HdrS" magic must be present: either alone is too weak
// a signature to take a firmware image for a kernel.
func isBzImage(image []byte) bool {
	if len(image) < bzMinLen {
		return false
	}
	return binary.LittleEndian.Uint16(image[bzBootFlagOff:]) == 0xaa55 &&
		string(image[bzHeaderOff:bzHeaderOff+4]) == "HdrS"
}

// setupHeader is what the loader reads from a bzImage's setup header,
// checked by parseSetupHeader.
type setupHeader struct {
	version     uint16
	setupSize   uint64 // bytes of real-mode setup code before the protected-mode kernel
	pmSize      uint64 // bytes of protected-mode kernel (syssize * 16)
	hdrEnd      uint64 // end of the header bytes copied into the zero page
	loadflags   uint8
	initrdMax   uint64 // highest address the initrd may reach (inclusive)
	align       uint64 // kernel_alignment
	relocatable bool
	entry64     bool
	cmdlineSize uint64 // longest command line, without its NUL
	prefAddress uint64
	initSize    uint64
}

func (h setupHeader) protocol() string {
	return fmt.Sprintf("%d.%02d", h.version>>8, h.version&0xff)
}

// parseSetupHeader reads and checks a bzImage's setup header, so that a
// truncated or corrupt file is refused with a message naming what is
// wrong rather than booted into a kernel that dies without a word.
func parseSetupHeader(image []byte) (setupHeader, error) {
	le := binary.LittleEndian
	n := uint64(len(image))
	var h setupHeader
	h.version = le.Uint16(image[bzVersionOff:])
	if h.version < minProtocol {
		return h, fmt.Errorf("Linux bzImage with boot protocol %s: kvmscope boots protocol 2.10 (Linux 2.6.31) and later: %w",
			h.protocol(), ErrNotSupported)
	}
	if n < bzHeaderEnd {
		return h, fmt.Errorf("truncated bzImage: %d bytes, shorter than its %#x-byte setup header", n, bzHeaderEnd)
	}
	sects := uint64(image[bzSetupSectsOff])
	if sects == 0 {
		sects = 4
	}
	h.setupSize = (sects + 1) * 512
	if h.setupSize > n {
		return h, fmt.Errorf("truncated bzImage: %d setup sectors end at %#x, the file has %d bytes", sects, h.setupSize, n)
	}
	h.hdrEnd = bzJumpOff + 2 + uint64(image[bzJumpOff+1])
	if image[bzJumpOff] != 0xeb || h.hdrEnd < bzHeaderEnd {
		return h, fmt.Errorf("corrupt bzImage: the jump at 0x200 (% x) does not skip the setup header", image[bzJumpOff:bzJumpOff+2])
	}
	h.hdrEnd = min(h.hdrEnd, bzZeroPageHdrMax)
	h.pmSize = uint64(le.Uint32(image[bzSyssizeOff:])) * 16
	if h.pmSize == 0 {
		return h, fmt.Errorf("corrupt bzImage: the setup header gives no protected-mode kernel (syssize 0)")
	}
	if h.pmSize > n-h.setupSize {
		return h, fmt.Errorf("truncated bzImage: the header promises %d bytes of kernel after the %d-byte setup, the file has %d",
			h.pmSize, h.setupSize, n-h.setupSize)
	}
	h.loadflags = image[bzLoadflagsOff]
	if h.loadflags&loadflagLoadedHigh == 0 {
		return h, fmt.Errorf("Linux zImage (loaded below 1 MiB): only bzImages are booted: %w", ErrNotSupported)
	}
	if err := checkPayload(image, h); err != nil {
		return h, err
	}
	if err := checkBuildCRC(image, h); err != nil {
		return h, err
	}
	h.initrdMax = uint64(le.Uint32(image[bzInitrdMaxOff:]))
	h.align = uint64(le.Uint32(image[bzAlignOff:]))
	if h.align == 0 || h.align&(h.align-1) != 0 || h.align > 1<<30 {
		return h, fmt.Errorf("corrupt bzImage: kernel_alignment %#x is not a power of two up to 1 GiB", h.align)
	}
	h.relocatable = image[bzRelocOff] != 0
	h.entry64 = h.version >= 0x020c && le.Uint16(image[bzXloadflagsOff:])&xlfKernel64 != 0
	h.cmdlineSize = uint64(le.Uint32(image[bzCmdlineSizeOff:]))
	h.prefAddress = le.Uint64(image[bzPrefAddrOff:])
	h.initSize = uint64(le.Uint32(image[bzInitSizeOff:]))
	switch {
	case h.prefAddress < kernelLoadAddr || h.prefAddress >= maxRAM || h.prefAddress%pageSize != 0:
		return h, fmt.Errorf("corrupt bzImage: pref_address %#x is not a page in RAM at or above 1 MiB", h.prefAddress)
	case h.initSize < h.pmSize:
		return h, fmt.Errorf("corrupt bzImage: init_size %#x is smaller than the %#x-byte kernel it decompresses", h.initSize, h.pmSize)
	}
	return h, nil
}

// Magic numbers of the compressed payloads a kernel may carry (the
// decompressors in lib/decompress_*.c).
var payloadMagics = []struct {
	magic string
	name  string
}{
	{"\x1f\x8b", "gzip"},
	{"\xfd7zXZ\x00", "xz"},
	{"\x28\xb5\x2f\xfd", "zstd"},
	{"BZh", "bzip2"},
	{"\x5d\x00\x00", "lzma"},
	{"\x89LZO", "lzo"},
	{"\x02\x21\x4c\x18", "lz4"},
}

// checkPayload checks, for protocol 2.08 and later, that the compressed
// kernel the header points at lies inside the protected-mode code and
// starts like a compressed stream. An xz stream, Debian's choice, also
// has its header and footer checked (magic and CRC32): a truncated or
// overwritten payload is refused here instead of failing with "crc error"
// in the guest's decompressor.
func checkPayload(image []byte, h setupHeader) error {
	le := binary.LittleEndian
	off, size := uint64(le.Uint32(image[bzPayloadOff:])), uint64(le.Uint32(image[bzPayloadLenOff:]))
	if size == 0 || off > h.pmSize || size > h.pmSize-off {
		return fmt.Errorf("corrupt bzImage: the compressed kernel (%d bytes at %#x) lies outside the %d-byte protected-mode code",
			size, off, h.pmSize)
	}
	p := image[h.setupSize+off : h.setupSize+off+size]
	name := ""
	for _, m := range payloadMagics {
		if bytes.HasPrefix(p, []byte(m.magic)) {
			name = m.name
			break
		}
	}
	switch name {
	case "":
		return fmt.Errorf("corrupt bzImage: the compressed kernel starts with % x, no compressor's magic", p[:min(len(p), 6)])
	case "xz":
		if err := checkXZ(p); err != nil {
			return fmt.Errorf("corrupt bzImage: compressed kernel: %w", err)
		}
	}
	return nil
}

// loadBzImage boots a bzImage by the Linux boot protocol: the
// protected-mode kernel at 1 MiB, a zero page with the setup header, the
// memory map, the command line and the initrd, then the 64-bit entry
// (load address + 0x200, paging on with the loader's identity map) when
// the kernel has one, else the 32-bit entry at code32_start. Both find
// the zero page in RSI. Every check runs before the first write.
func loadBzImage(image, ram []byte, opts Options) (*Image, error) {
	h, err := parseSetupHeader(image)
	if err != nil {
		return nil, err
	}
	lowRAM := uint64(len(ram))
	if err := checkMemoryMap(lowRAM, opts); err != nil {
		return nil, err
	}
	if lowRAM < kernelLoadAddr+h.pmSize {
		return nil, fmt.Errorf("Linux kernel of %s does not fit: the guest has %s of RAM (use --mem)",
			sizeString(h.pmSize), sizeString(lowRAM))
	}
	// The kernel decompresses itself to pref_address (or, relocatable and
	// loaded higher, its load address rounded up to kernel_alignment) and
	// needs init_size bytes from there.
	runAddr := h.prefAddress
	if aligned := alignUp(kernelLoadAddr, h.align); h.relocatable && aligned > runAddr {
		runAddr = aligned
	}
	kernelEnd := max(kernelLoadAddr+h.pmSize, runAddr+h.initSize)
	if kernelEnd > lowRAM {
		return nil, fmt.Errorf("Linux kernel needs %s of RAM (it decompresses to %#x and needs %s there), the guest has %s: use --mem %dM or more",
			sizeString(alignUp(kernelEnd, 1<<20)), runAddr, sizeString(alignUp(h.initSize, 1<<20)), sizeString(lowRAM), roundMiB(kernelEnd+uint64(len(opts.Initrd)), 64))
	}
	cmdline, cmdlineLimit := opts.cmdline(), min(h.cmdlineSize, cmdlineMax-1)
	if err := checkCmdline(cmdline, cmdlineLimit, "cmdline_size"); err != nil {
		return nil, err
	}
	initrdTop := min(lowRAM, h.initrdMax+1)
	initrd, err := placeInitrd(opts.Initrd, kernelEnd, initrdTop)
	if err != nil {
		return nil, err
	}
	acpi, err := opts.acpiTables()
	if err != nil {
		return nil, err
	}
	reserved := linuxReserved
	if h.entry64 {
		reserved = linuxReserved64
	}
	for _, r := range reserved {
		if lowRAM < r.end {
			return nil, fmt.Errorf("guest RAM of %s is too small for the loader's %s at [%#x-%#x)", sizeString(lowRAM), r.what, r.start, r.end)
		}
	}
	e820 := memoryMap(lowRAM, opts, uint64(len(acpi)))

	// Checks done: write.
	zp := ram[zeroPageAddr : zeroPageAddr+pageSize]
	clear(zp)
	copy(zp[bzSetupSectsOff:h.hdrEnd], image[bzSetupSectsOff:h.hdrEnd])
	le := binary.LittleEndian
	zp[bzLoaderTypeOff] = 0xff // no registered boot loader ID
	zp[bzLoadflagsOff] |= loadflagCanUseHeap
	le.PutUint16(zp[bzHeapEndOff:], 0xfe00)
	le.PutUint16(zp[bzVidModeOff:], 0xffff) // "normal": the setup code, if it ran, would not ask
	le.PutUint32(zp[bzCode32Off:], kernelLoadAddr)
	le.PutUint32(zp[bzCmdlinePtrOff:], cmdlineAddr)
	if initrd.size > 0 {
		le.PutUint32(zp[bzRamdiskOff:], uint32(initrd.addr))
		le.PutUint32(zp[bzRamdiskSizeOff:], uint32(initrd.size))
	}
	writeE820ZeroPage(zp, e820)
	rsdp := writeACPI(ram, acpi)
	le.PutUint64(zp[zpACPIRSDPOff:], rsdp)

	copy(ram[kernelLoadAddr:], image[h.setupSize:h.setupSize+h.pmSize])
	writeCmdline(ram, cmdline)
	copy(ram[initrd.addr:], opts.Initrd)

	var entry Entry
	proto := "boot protocol " + h.protocol()
	if h.entry64 {
		entry = setupLongMode(ram, kernelLoadAddr+entry64Offset, linuxSelectors)
		proto += ", 64-bit entry"
	} else {
		entry = setupProtMode(ram, kernelLoadAddr, linuxSelectors)
		proto += ", 32-bit entry"
	}
	entry.RSI = zeroPageAddr
	entry.NoLocalAPIC = !opts.APIC
	return &Image{
		Format: BzImage,
		Entry:  entry,
		Linux: &Linux{
			Protocol:    proto,
			KernelStart: kernelLoadAddr,
			KernelEnd:   kernelEnd,
			Cmdline:     cmdline,
			CmdlineAddr: cmdlineAddr,
			InitrdAddr:  initrd.addr,
			InitrdSize:  initrd.size,
			E820:        e820,
			RSDP:        rsdp,
		},
	}, nil
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) &^ (a - 1) }

// roundMiB rounds n bytes up to a multiple of step MiB, in MiB.
func roundMiB(n, step uint64) uint64 {
	mib := (n + 1<<20 - 1) >> 20
	return (mib + step - 1) / step * step
}
