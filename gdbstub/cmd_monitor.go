package gdbstub

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/kvmscope/kvmscope/debug"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

// qRcmd,HEX — gdb's `monitor` command. The output goes back as O packets
// (hex text gdb prints as it comes) and the command ends with OK.

// monitorCmd is one parsed monitor command line.
type monitorCmd struct {
	name string
	args []string
}

// monitorCommand is one row of the monitor's table.
type monitorCommand struct {
	name, usage, help string
	run               func(s *session, w *bytes.Buffer, args []string) error
}

// monitorCommands lists the commands with their help line.
var monitorCommands []monitorCommand

func init() {
	monitorCommands = []monitorCommand{
		{"help", "help", "this list", monHelp},
		{"regs", "regs", "the current vCPU's full state: registers, segments with their hidden parts, control and debug registers", monRegs},
		{"code", "code [N]", "disassemble N (default 8) instructions at the current vCPU's pc", monCode},
		{"phys", "phys ADDR LEN", "hex dump of guest-physical memory (numbers in C syntax: 0x10 is hex)", monPhys},
		{"exits", "exits", "VM exits so far: count and KVM_RUN round trip per reason", monExits},
		{"probe", "probe", "how breakpoints are implemented on this host", monProbe},
		{"step-irq", "step-irq [on|off]", "show or set whether single-steps block interrupt injection", monStepIRQ},
		{"sym", "sym NAME[+OFF]|ADDR...", "resolve a symbol to its address, or name an address as func+off", monSym},
	}
}

// parseMonitor splits a command line into a command and its words.
func parseMonitor(line string) (monitorCmd, bool) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return monitorCmd{name: "help"}, true
	}
	return monitorCmd{name: f[0], args: f[1:]}, true
}

// maxPhysDump bounds `monitor phys`.
const maxPhysDump = 64 << 10

func cmdMonitor(s *session, arg []byte) reply {
	raw, ok := decodeHex(arg)
	if !ok {
		return errInval
	}
	cmd, _ := parseMonitor(string(raw))
	var out bytes.Buffer
	found := false
	for _, c := range monitorCommands {
		if c.name == cmd.name {
			found = true
			if err := c.run(s, &out, cmd.args); err != nil {
				fmt.Fprintf(&out, "monitor %s: %v\n", cmd.name, err)
			}
			break
		}
	}
	if !found {
		fmt.Fprintf(&out, "unknown monitor command %q; try 'monitor help'\n", cmd.name)
	}
	if err := s.console(out.Bytes()); err != nil {
		return replyErrno(syscall.EIO)
	}
	return replyOK()
}

// console sends text to gdb's console as O packets.
func (s *session) console(text []byte) error {
	chunk := (s.srv.packetMax - 1) / 2
	for len(text) > 0 {
		n := min(chunk, len(text))
		if s.out != nil {
			if err := s.out(appendHex([]byte("O"), text[:n])); err != nil {
				return err
			}
		}
		text = text[n:]
	}
	return nil
}

func monHelp(s *session, w *bytes.Buffer, args []string) error {
	fmt.Fprintln(w, "kvmscope monitor commands:")
	for _, c := range monitorCommands {
		fmt.Fprintf(w, "  %-18s %s\n", c.usage, c.help)
	}
	return nil
}

// stoppedRegs reads the current vCPU's registers for a monitor command.
func (s *session) stoppedRegs() (*debug.Registers, error) {
	if s.srv.running {
		return nil, fmt.Errorf("the machine is running")
	}
	r, err := s.srv.t.Registers(s.gVCPU)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("no registers")
	}
	return r, nil
}

func monRegs(s *session, w *bytes.Buffer, args []string) error {
	r, err := s.stoppedRegs()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "vCPU %d\n", s.gVCPU)
	debug.WriteCPUState(w, &r.Regs, &r.Sregs)
	if m := r.Mode(); m == debug.ModeReal || m == debug.ModeVM86 {
		fmt.Fprintf(w, "  cs:ip %04x:%04x (linear %#x)\n", r.Sregs.CS.Selector, r.Regs.RIP&0xffff, r.PC())
	}
	fmt.Fprintf(w, "  fs_base %016x gs_base %016x kernel_gs_base %016x\n", r.Sregs.FS.Base, r.Sregs.GS.Base, r.KernelGSBase)
	d := &r.Debug
	fmt.Fprintf(w, "  dr0 %016x dr1 %016x dr2 %016x dr3 %016x\n", d.DB[0], d.DB[1], d.DB[2], d.DB[3])
	fmt.Fprintf(w, "  dr6 %016x dr7 %016x\n", d.DR6, d.DR7)
	return nil
}

func monCode(s *session, w *bytes.Buffer, args []string) error {
	n := 8
	if len(args) > 0 {
		v, err := strconv.ParseUint(args[0], 0, 8)
		if err != nil || v == 0 {
			return fmt.Errorf("bad count %q (1-255)", args[0])
		}
		n = int(v)
	}
	r, err := s.stoppedRegs()
	if err != nil {
		return err
	}
	pc := r.PC()
	code := make([]byte, 15*n)
	got, err := s.srv.t.ReadVirtual(s.gVCPU, pc, code)
	got = max(0, min(got, len(code)))
	if got == 0 {
		return fmt.Errorf("code at %#x unreadable: %v", pc, err)
	}
	var sym debug.Symbolizer
	if t := s.srv.symbolTable(); t != nil {
		sym = t.At
	}
	mode := r.Mode()
	fmt.Fprintf(w, "code at %#x (%v):\n", pc, mode)
	for i, l := range debug.Disassemble(code[:got], pc, mode.Bits(), n, sym) {
		mark := "   "
		if i == 0 {
			mark = "=> "
		}
		fmt.Fprintf(w, "%s%s\n", mark, l)
	}
	return nil
}

func monPhys(s *session, w *bytes.Buffer, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: phys ADDR LEN")
	}
	addr, err := strconv.ParseUint(args[0], 0, 64)
	if err != nil {
		return fmt.Errorf("bad address %q", args[0])
	}
	n, err := strconv.ParseUint(args[1], 0, 64)
	if err != nil || n == 0 || n > maxPhysDump {
		return fmt.Errorf("bad length %q (1 to %d)", args[1], maxPhysDump)
	}
	buf := make([]byte, n)
	got, err := s.srv.t.ReadPhys(addr, buf)
	got = max(0, min(got, len(buf)))
	hexDump(w, addr, buf[:got])
	if err != nil || got < len(buf) {
		return fmt.Errorf("read %d of %d bytes at %#x: %v", got, n, addr+uint64(got), err)
	}
	return nil
}

// hexDump prints 16 bytes a line with their address and ASCII.
func hexDump(w *bytes.Buffer, addr uint64, b []byte) {
	for off := 0; off < len(b); off += 16 {
		line := b[off:min(off+16, len(b))]
		fmt.Fprintf(w, "%016x: ", addr+uint64(off))
		for i := range 16 {
			if i < len(line) {
				fmt.Fprintf(w, "%02x ", line[i])
			} else {
				w.WriteString("   ")
			}
			if i == 7 {
				w.WriteByte(' ')
			}
		}
		w.WriteString(" |")
		for _, c := range line {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			w.WriteByte(c)
		}
		w.WriteString("|\n")
	}
}

func monExits(s *session, w *bytes.Buffer, args []string) error {
	exitstats.WriteTable(w, s.srv.t.ExitStats())
	return nil
}

func monProbe(s *session, w *bytes.Buffer, args []string) error {
	text := strings.TrimRight(s.srv.t.BreakpointStrategy(), "\n")
	fmt.Fprintln(w, text)
	return nil
}

func monStepIRQ(s *session, w *bytes.Buffer, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("usage: step-irq [on|off]")
	}
	if len(args) == 1 {
		var block bool
		switch args[0] {
		case "on":
			block = true
		case "off":
		default:
			return fmt.Errorf("usage: step-irq [on|off]")
		}
		if err := s.srv.t.SetStepIRQ(block); err != nil {
			return err
		}
	}
	state := "off: interrupts may be delivered during a single-step"
	if s.srv.t.StepIRQ() {
		state = "on: single-steps block interrupt injection"
	}
	fmt.Fprintf(w, "step-irq %s\n", state)
	return nil
}
