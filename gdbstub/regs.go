package gdbstub

import (
	"encoding/binary"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// The register table: the one place that says which registers gdb sees,
// in which order (gdb's register numbers are the table's indices), how
// wide they are and how each maps to and from debug.Registers. The target
// description XML, g, G, p and P are all derived from it. The layout is
// always x86-64's, whatever mode the vCPU is in, so the `g` reply has the
// same size from the reset vector to long mode.

// feature is one <feature> of the target description, served as its own
// file and included from target.xml.
type feature struct {
	name  string // e.g. org.gnu.gdb.i386.core
	file  string // the annex gdb asks for with qXfer:features:read
	types string // type definitions the registers use, in XML
}

const (
	featCore = iota
	featSSE
	featSegments
	featSys
	featState
)

var features = [...]feature{
	featCore:     {"org.gnu.gdb.i386.core", "64bit-core.xml", eflagsType},
	featSSE:      {"org.gnu.gdb.i386.sse", "64bit-sse.xml", sseTypes},
	featSegments: {"org.gnu.gdb.i386.segments", "64bit-segments.xml", ""},
	featSys:      {"org.kvmscope.x86.sys", "kvmscope-sys.xml", sysTypes},
	featState:    {"org.kvmscope.x86.state", "kvmscope-state.xml", stateTypes},
}

// register is one row of the table.
type register struct {
	name  string
	bits  int    // a multiple of 8
	typ   string // gdb type: int64, code_ptr, i387_ext, vec128, a flags id...
	group string // gdb register group, "" for the type's default
	feat  int
	// get writes the register's bits/8 bytes, little-endian, into b.
	get func(r *debug.Registers, b []byte)
	// set stores b (bits/8 bytes, little-endian) into r.
	set func(r *debug.Registers, b []byte)
}

func (g *register) size() int { return g.bits / 8 }

// regRIP is rip's number; it is special: see pcGet and pcSet.
const regRIP = 16

// registers is the table. Its order is the regnum order of the `g`
// packet; see the package documentation for the list.
var registers = buildRegisters()

// regsSize is the byte size of the `g` reply (before hex encoding).
var regsSize = func() int {
	n := 0
	for i := range registers {
		n += registers[i].size()
	}
	return n
}()

func buildRegisters() []register {
	var t []register
	gpr := func(name, typ string, f func(*kvm.Regs) *uint64) {
		t = append(t, u64(name, typ, "", featCore, func(r *debug.Registers) *uint64 { return f(&r.Regs) }))
	}
	gpr("rax", "int64", func(r *kvm.Regs) *uint64 { return &r.RAX })
	gpr("rbx", "int64", func(r *kvm.Regs) *uint64 { return &r.RBX })
	gpr("rcx", "int64", func(r *kvm.Regs) *uint64 { return &r.RCX })
	gpr("rdx", "int64", func(r *kvm.Regs) *uint64 { return &r.RDX })
	gpr("rsi", "int64", func(r *kvm.Regs) *uint64 { return &r.RSI })
	gpr("rdi", "int64", func(r *kvm.Regs) *uint64 { return &r.RDI })
	gpr("rbp", "data_ptr", func(r *kvm.Regs) *uint64 { return &r.RBP })
	gpr("rsp", "data_ptr", func(r *kvm.Regs) *uint64 { return &r.RSP })
	gpr("r8", "int64", func(r *kvm.Regs) *uint64 { return &r.R8 })
	gpr("r9", "int64", func(r *kvm.Regs) *uint64 { return &r.R9 })
	gpr("r10", "int64", func(r *kvm.Regs) *uint64 { return &r.R10 })
	gpr("r11", "int64", func(r *kvm.Regs) *uint64 { return &r.R11 })
	gpr("r12", "int64", func(r *kvm.Regs) *uint64 { return &r.R12 })
	gpr("r13", "int64", func(r *kvm.Regs) *uint64 { return &r.R13 })
	gpr("r14", "int64", func(r *kvm.Regs) *uint64 { return &r.R14 })
	gpr("r15", "int64", func(r *kvm.Regs) *uint64 { return &r.R15 })
	t = append(t, register{name: "rip", bits: 64, typ: "code_ptr", feat: featCore,
		get: func(r *debug.Registers, b []byte) { binary.LittleEndian.PutUint64(b, pcGet(r)) },
		set: func(r *debug.Registers, b []byte) { pcSet(r, binary.LittleEndian.Uint64(b)) },
	})
	t = append(t, register{name: "eflags", bits: 32, typ: "i386_eflags", feat: featCore,
		get: func(r *debug.Registers, b []byte) { binary.LittleEndian.PutUint32(b, uint32(r.Regs.RFLAGS)) },
		set: func(r *debug.Registers, b []byte) {
			r.Regs.RFLAGS = r.Regs.RFLAGS&^0xffffffff | uint64(binary.LittleEndian.Uint32(b))
		},
	})
	for _, s := range segments[:6] {
		t = append(t, selector(s.name, "int32", "", featCore, s.seg))
	}
	for i := range 8 {
		t = append(t, register{name: "st" + itoa(i), bits: 80, typ: "i387_ext", feat: featCore,
			get: func(r *debug.Registers, b []byte) { copy(b, r.FPU.FPR[i][:10]) },
			set: func(r *debug.Registers, b []byte) { copy(r.FPU.FPR[i][:10], b) },
		})
	}
	fpu32 := func(name string, get func(f *kvm.FPU) uint32, set func(f *kvm.FPU, v uint32)) {
		t = append(t, register{name: name, bits: 32, typ: "int", group: "float", feat: featCore,
			get: func(r *debug.Registers, b []byte) { binary.LittleEndian.PutUint32(b, get(&r.FPU)) },
			set: func(r *debug.Registers, b []byte) { set(&r.FPU, binary.LittleEndian.Uint32(b)) },
		})
	}
	fpu32("fctrl", func(f *kvm.FPU) uint32 { return uint32(f.FCW) }, func(f *kvm.FPU, v uint32) { f.FCW = uint16(v) })
	fpu32("fstat", func(f *kvm.FPU) uint32 { return uint32(f.FSW) }, func(f *kvm.FPU, v uint32) { f.FSW = uint16(v) })
	fpu32("ftag", func(f *kvm.FPU) uint32 { return uint32(fullTag(f)) }, func(f *kvm.FPU, v uint32) { f.FTWX = abridgedTag(uint16(v)) })
	// FXSAVE's 64-bit layout keeps the last instruction and operand
	// pointers as 64 bits; gdb's fiseg:fioff and foseg:fooff split them
	// as the 32-bit layout does (selector in bits 32-47).
	fpu32("fiseg", func(f *kvm.FPU) uint32 { return uint32(f.LastIP>>32) & 0xffff }, func(f *kvm.FPU, v uint32) { f.LastIP = setHigh(f.LastIP, v) })
	fpu32("fioff", func(f *kvm.FPU) uint32 { return uint32(f.LastIP) }, func(f *kvm.FPU, v uint32) { f.LastIP = setLow(f.LastIP, v) })
	fpu32("foseg", func(f *kvm.FPU) uint32 { return uint32(f.LastDP>>32) & 0xffff }, func(f *kvm.FPU, v uint32) { f.LastDP = setHigh(f.LastDP, v) })
	fpu32("fooff", func(f *kvm.FPU) uint32 { return uint32(f.LastDP) }, func(f *kvm.FPU, v uint32) { f.LastDP = setLow(f.LastDP, v) })
	fpu32("fop", func(f *kvm.FPU) uint32 { return uint32(f.LastOpcode) }, func(f *kvm.FPU, v uint32) { f.LastOpcode = uint16(v) })

	for i := range 16 {
		t = append(t, register{name: "xmm" + itoa(i), bits: 128, typ: "vec128", feat: featSSE,
			get: func(r *debug.Registers, b []byte) { copy(b, r.FPU.XMM[i][:]) },
			set: func(r *debug.Registers, b []byte) { copy(r.FPU.XMM[i][:], b) },
		})
	}
	t = append(t, u32("mxcsr", "i386_mxcsr", "vector", featSSE, func(r *debug.Registers) *uint32 { return &r.FPU.MXCSR }))

	t = append(t, u64("fs_base", "int", "", featSegments, func(r *debug.Registers) *uint64 { return &r.Sregs.FS.Base }))
	t = append(t, u64("gs_base", "int", "", featSegments, func(r *debug.Registers) *uint64 { return &r.Sregs.GS.Base }))

	sys := func(name, typ string, f func(*debug.Registers) *uint64) {
		t = append(t, u64(name, typ, "system", featSys, f))
	}
	sys("k_gs_base", "uint64", func(r *debug.Registers) *uint64 { return &r.KernelGSBase })
	sys("cr0", "x86_cr0", func(r *debug.Registers) *uint64 { return &r.Sregs.CR0 })
	sys("cr2", "uint64", func(r *debug.Registers) *uint64 { return &r.Sregs.CR2 })
	sys("cr3", "uint64", func(r *debug.Registers) *uint64 { return &r.Sregs.CR3 })
	sys("cr4", "x86_cr4", func(r *debug.Registers) *uint64 { return &r.Sregs.CR4 })
	sys("cr8", "uint64", func(r *debug.Registers) *uint64 { return &r.Sregs.CR8 })
	sys("efer", "x86_efer", func(r *debug.Registers) *uint64 { return &r.Sregs.EFER })

	state64 := func(name string, f func(*debug.Registers) *uint64) {
		t = append(t, u64(name, "uint64", "system", featState, f))
	}
	for _, s := range segments {
		if s.name == "tr" || s.name == "ldt" {
			t = append(t, selector(s.name, "int32", "system", featState, s.seg))
		}
		if s.name != "fs" && s.name != "gs" { // fs_base, gs_base: org.gnu.gdb.i386.segments
			state64(s.name+"_base", func(r *debug.Registers) *uint64 { return &s.seg(r).Base })
		}
		t = append(t, u32(s.name+"_limit", "uint32", "system", featState, func(r *debug.Registers) *uint32 { return &s.seg(r).Limit }))
		t = append(t, register{name: s.name + "_attr", bits: 32, typ: "x86_seg_attr", group: "system", feat: featState,
			get: func(r *debug.Registers, b []byte) { binary.LittleEndian.PutUint32(b, segAttr(s.seg(r))) },
			set: func(r *debug.Registers, b []byte) { setSegAttr(s.seg(r), binary.LittleEndian.Uint32(b)) },
		})
	}
	for _, d := range []struct {
		name string
		tab  func(*debug.Registers) *kvm.DTable
	}{
		{"gdtr", func(r *debug.Registers) *kvm.DTable { return &r.Sregs.GDT }},
		{"idtr", func(r *debug.Registers) *kvm.DTable { return &r.Sregs.IDT }},
	} {
		state64(d.name+"_base", func(r *debug.Registers) *uint64 { return &d.tab(r).Base })
		t = append(t, register{name: d.name + "_limit", bits: 32, typ: "uint32", group: "system", feat: featState,
			get: func(r *debug.Registers, b []byte) { binary.LittleEndian.PutUint32(b, uint32(d.tab(r).Limit)) },
			set: func(r *debug.Registers, b []byte) { d.tab(r).Limit = uint16(binary.LittleEndian.Uint32(b)) },
		})
	}
	for i := range 4 {
		state64("dr"+itoa(i), func(r *debug.Registers) *uint64 { return &r.Debug.DB[i] })
	}
	state64("dr6", func(r *debug.Registers) *uint64 { return &r.Debug.DR6 })
	state64("dr7", func(r *debug.Registers) *uint64 { return &r.Debug.DR7 })
	return t
}

// segments names the segment registers in gdb's order (cs ss ds es fs gs)
// and then tr and ldt.
var segments = []struct {
	name string
	seg  func(*debug.Registers) *kvm.Segment
}{
	{"cs", func(r *debug.Registers) *kvm.Segment { return &r.Sregs.CS }},
	{"ss", func(r *debug.Registers) *kvm.Segment { return &r.Sregs.SS }},
	{"ds", func(r *debug.Registers) *kvm.Segment { return &r.Sregs.DS }},
	{"es", func(r *debug.Registers) *kvm.Segment { return &r.Sregs.ES }},
	{"fs", func(r *debug.Registers) *kvm.Segment { return &r.Sregs.FS }},
	{"gs", func(r *debug.Registers) *kvm.Segment { return &r.Sregs.GS }},
	{"tr", func(r *debug.Registers) *kvm.Segment { return &r.Sregs.TR }},
	{"ldt", func(r *debug.Registers) *kvm.Segment { return &r.Sregs.LDT }},
}

func u64(name, typ, group string, feat int, f func(*debug.Registers) *uint64) register {
	return register{name: name, bits: 64, typ: typ, group: group, feat: feat,
		get: func(r *debug.Registers, b []byte) { binary.LittleEndian.PutUint64(b, *f(r)) },
		set: func(r *debug.Registers, b []byte) { *f(r) = binary.LittleEndian.Uint64(b) },
	}
}

func u32(name, typ, group string, feat int, f func(*debug.Registers) *uint32) register {
	return register{name: name, bits: 32, typ: typ, group: group, feat: feat,
		get: func(r *debug.Registers, b []byte) { binary.LittleEndian.PutUint32(b, *f(r)) },
		set: func(r *debug.Registers, b []byte) { *f(r) = binary.LittleEndian.Uint32(b) },
	}
}

// selector is a segment register's visible part, as 32 bits. In real and
// virtual-8086 mode, writing a different selector also loads the base
// (selector × 16) as the CPU does on a segment load; in protected mode
// only the selector changes (set the descriptor cache with *_base,
// *_limit, *_attr).
func selector(name, typ, group string, feat int, f func(*debug.Registers) *kvm.Segment) register {
	return register{name: name, bits: 32, typ: typ, group: group, feat: feat,
		get: func(r *debug.Registers, b []byte) { binary.LittleEndian.PutUint32(b, uint32(f(r).Selector)) },
		set: func(r *debug.Registers, b []byte) {
			seg := f(r)
			sel := uint16(binary.LittleEndian.Uint32(b))
			if sel == seg.Selector {
				return
			}
			seg.Selector = sel
			if m := r.Mode(); m == debug.ModeReal || m == debug.ModeVM86 {
				seg.Base = uint64(sel) << 4
			}
		},
	}
}

// Segment attributes in gdb's view use VMX's access-rights layout: type
// in bits 0-3, S 4, DPL 5-6, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16.
func segAttr(s *kvm.Segment) uint32 {
	a := uint32(s.Type&15) | uint32(s.S&1)<<4 | uint32(s.DPL&3)<<5 | uint32(s.Present&1)<<7
	a |= uint32(s.AVL&1)<<12 | uint32(s.L&1)<<13 | uint32(s.DB&1)<<14 | uint32(s.G&1)<<15
	return a | uint32(s.Unusable&1)<<16
}

func setSegAttr(s *kvm.Segment, a uint32) {
	s.Type = uint8(a & 15)
	s.S = uint8(a >> 4 & 1)
	s.DPL = uint8(a >> 5 & 3)
	s.Present = uint8(a >> 7 & 1)
	s.AVL = uint8(a >> 12 & 1)
	s.L = uint8(a >> 13 & 1)
	s.DB = uint8(a >> 14 & 1)
	s.G = uint8(a >> 15 & 1)
	s.Unusable = uint8(a >> 16 & 1)
}

// pcGet is what gdb sees as rip: the linear address of the next
// instruction. Outside 64-bit mode that is CS.base + IP (truncated as the
// CPU does), so $pc, breakpoints (which are linear) and `x/i $pc` agree
// even in real mode.
func pcGet(r *debug.Registers) uint64 { return r.PC() }

// pcSet is the inverse of pcGet: IP = value − CS.base, in the width of the
// mode. (A linear address CS cannot reach wraps, as it would on the CPU.)
func pcSet(r *debug.Registers, v uint64) {
	switch r.Mode() {
	case debug.ModeLong64:
		r.Regs.RIP = v
	case debug.ModeReal, debug.ModeVM86, debug.ModeProtected16, debug.ModeCompat16:
		r.Regs.RIP = (v - r.Sregs.CS.Base) & 0xffff
	default:
		r.Regs.RIP = (v - r.Sregs.CS.Base) & 0xffffffff
	}
}

// fullTag builds the x87 tag word gdb shows (two bits per physical
// register: 0 valid, 1 zero, 2 special, 3 empty) from FXSAVE's abridged
// tag byte (one bit per physical register: 1 = not empty) and the
// register contents.
func fullTag(f *kvm.FPU) uint16 {
	top := int(f.FSW>>11) & 7
	var tag uint16
	for phys := range 8 {
		t := uint16(3)
		if f.FTWX&(1<<phys) != 0 {
			st := &f.FPR[(phys-top+8)&7] // physical register phys is ST((phys-top) mod 8)
			mant := binary.LittleEndian.Uint64(st[:8])
			exp := binary.LittleEndian.Uint16(st[8:10]) & 0x7fff
			switch {
			case exp == 0x7fff:
				t = 2
			case exp == 0 && mant == 0:
				t = 1
			case exp == 0 || mant>>63 == 0:
				t = 2
			default:
				t = 0
			}
		}
		tag |= t << (2 * phys)
	}
	return tag
}

// abridgedTag is FXSAVE's tag byte for a full tag word.
func abridgedTag(tag uint16) uint8 {
	var a uint8
	for phys := range 8 {
		if tag>>(2*phys)&3 != 3 {
			a |= 1 << phys
		}
	}
	return a
}

func setHigh(v uint64, seg uint32) uint64 {
	return v&^(0xffff<<32) | uint64(seg&0xffff)<<32
}

func setLow(v uint64, off uint32) uint64 {
	return v&^0xffffffff | uint64(off)
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}

// regNumber finds a register by name (for tests and `monitor`).
func regNumber(name string) int {
	for i := range registers {
		if registers[i].name == name {
			return i
		}
	}
	return -1
}

// encodeRegs appends every register of r, hex-encoded, in table order:
// the `g` reply.
func encodeRegs(dst []byte, r *debug.Registers) []byte {
	var b [16]byte
	for i := range registers {
		g := &registers[i]
		g.get(r, b[:g.size()])
		dst = appendHex(dst, b[:g.size()])
	}
	return dst
}

// decodeRegs applies a `G` payload (raw bytes, table order) to r. Only
// registers whose value differs from r's are set, and rip last, so that a
// G that changes CS and keeps $pc, or changes only CS, does what it says.
func decodeRegs(r *debug.Registers, raw []byte) bool {
	if len(raw) != regsSize {
		return false
	}
	var cur [16]byte
	off := 0
	ripOff := 0
	for i := range registers {
		g := &registers[i]
		n := g.size()
		if i == regRIP {
			ripOff = off
			off += n
			continue
		}
		g.get(r, cur[:n])
		if string(cur[:n]) != string(raw[off:off+n]) {
			g.set(r, raw[off:off+n])
		}
		off += n
	}
	g := &registers[regRIP]
	g.get(r, cur[:8])
	if string(cur[:8]) != string(raw[ripOff:ripOff+8]) {
		g.set(r, raw[ripOff:ripOff+8])
	}
	return true
}
