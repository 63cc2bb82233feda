package devices

import "testing"

// kbdStep is one access to the i8042: a write or read at the data (0x60)
// or command (0x64) port.
type kbdStep struct {
	write bool
	cmd   bool // command/status port rather than data port
	val   byte // written, or expected on read
	mask  byte // if not 0, only these bits of a read are compared
}

func kbdCmd(v byte) kbdStep    { return kbdStep{write: true, cmd: true, val: v} }
func kbdData(v byte) kbdStep   { return kbdStep{write: true, val: v} }
func kbdRead(v byte) kbdStep   { return kbdStep{val: v} }
func kbdStatus(v byte) kbdStep { return kbdStep{cmd: true, val: v} }
func kbdOBF(full bool) kbdStep {
	st := kbdStep{cmd: true, mask: kbdStatOBF}
	if full {
		st.val = kbdStatOBF
	}
	return st
}

// kbdReply expects the output buffer to hold v, and to be empty once read.
func kbdReply(v byte) []kbdStep { return []kbdStep{kbdOBF(true), kbdRead(v), kbdOBF(false)} }

var portName = map[bool]string{true: "command", false: "data"}

func TestI8042(t *testing.T) {
	join := func(parts ...[]kbdStep) (all []kbdStep) {
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	tests := []struct {
		name   string
		steps  []kbdStep
		resets int
		missed uint64
	}{
		{"idle status", []kbdStep{kbdStatus(0x14)}, 0, 0},
		{"self test", join([]kbdStep{kbdCmd(0xaa)}, kbdReply(0x55)), 0, 0},
		{"interface test", join([]kbdStep{kbdCmd(0xab)}, kbdReply(0x00)), 0, 0},
		{"read command byte", join([]kbdStep{kbdCmd(0x20)}, kbdReply(0x05)), 0, 0},
		{"write command byte", join(
			[]kbdStep{kbdCmd(0x60), kbdData(0x65), kbdStatus(0x14)},
			[]kbdStep{kbdCmd(0x20)}, kbdReply(0x65)), 0, 0},
		{"system flag follows command byte", []kbdStep{
			kbdCmd(0x60), kbdData(0x00), kbdStatus(0x10), kbdCmd(0x60), kbdData(0x04), kbdStatus(0x14),
		}, 0, 0},
		{"controller RAM", join(
			[]kbdStep{kbdCmd(0x7f), kbdData(0xa5), kbdCmd(0x3f)}, kbdReply(0xa5)), 0, 0},
		{"disable and enable keyboard", join(
			[]kbdStep{kbdCmd(0xad), kbdCmd(0x20)}, kbdReply(0x15),
			[]kbdStep{kbdCmd(0xae), kbdCmd(0x20)}, kbdReply(0x05)), 0, 0},
		{"reply replaces unread byte", join(
			[]kbdStep{kbdCmd(0xaa), kbdCmd(0xab)}, kbdReply(0x00)), 0, 0},
		{"stale data read", []kbdStep{kbdCmd(0xaa), kbdRead(0x55), kbdRead(0x55), kbdStatus(0x1c)}, 0, 0},
		{"no AUX port", join(
			[]kbdStep{kbdCmd(0xd3), kbdData(0x5a)}, kbdReply(0x5a),
			[]kbdStep{kbdCmd(0xa9)}, kbdReply(0x02),
			[]kbdStep{kbdCmd(0xa7), kbdCmd(0x20)}, kbdReply(0x05)), 0, 0},
		{"bytes to absent devices vanish", []kbdStep{
			kbdData(0xff), kbdStatus(0x14), kbdCmd(0xd4), kbdData(0xf4), kbdStatus(0x14),
		}, 0, 0},
		{"write keyboard output buffer", join([]kbdStep{kbdCmd(0xd2), kbdData(0x1e)}, kbdReply(0x1e)), 0, 0},
		{"read output port", join([]kbdStep{kbdCmd(0xd0)}, kbdReply(0x03)), 0, 0},
		{"pulse reset", []kbdStep{kbdCmd(0xfe)}, 1, 0},
		{"pulse other lines", []kbdStep{kbdCmd(0xff), kbdCmd(0xfd)}, 0, 0},
		{"pulse all lines", []kbdStep{kbdCmd(0xf0)}, 1, 0},
		{"output port A20 only", []kbdStep{kbdCmd(0xd1), kbdData(0xdf)}, 0, 0},
		{"output port reset", []kbdStep{kbdCmd(0xd1), kbdData(0xde)}, 1, 0},
		{"output port reads back", join(
			[]kbdStep{kbdCmd(0xd1), kbdData(0x01), kbdCmd(0xd0)}, kbdReply(0x01)), 0, 0},
		{"data after command is not for the command", []kbdStep{
			kbdCmd(0xd1), kbdCmd(0xaa), kbdData(0x00), kbdRead(0x55),
		}, 0, 0},
		{"unknown command", []kbdStep{kbdCmd(0xc7), kbdStatus(0x1c)}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resets := 0
			c := NewI8042(func() { resets++ })
			data, cmd := c.DataPort(), c.CommandPort()
			for i, st := range tt.steps {
				d := data
				if st.cmd {
					d = cmd
				}
				if st.write {
					out8(d, 0, st.val)
					continue
				}
				got := in8(d, 0)
				if st.mask != 0 {
					got &= st.mask
				}
				if got != st.val {
					t.Fatalf("step %d: read %s port = %#02x, want %#02x", i, portName[st.cmd], got, st.val)
				}
			}
			if resets != tt.resets {
				t.Errorf("reset called %d times, want %d", resets, tt.resets)
			}
			if got := c.Missed.Load(); got != tt.missed {
				t.Errorf("Missed = %d, want %d", got, tt.missed)
			}
		})
	}
}

func TestI8042BadAccess(t *testing.T) {
	resets := 0
	c := NewI8042(func() { resets++ })
	for _, d := range []Device{c.DataPort(), c.CommandPort()} {
		if got := in(d, 0, 2); got != 0xffff {
			t.Errorf("word read = %#x, want 0xffff", got)
		}
		if got := in(d, 1, 1); got != 0xff {
			t.Errorf("read at offset 1 = %#x, want 0xff", got)
		}
		out(d, 0, 4, 0xfe)
		out(d, 1, 1, 0xfe)
	}
	if resets != 0 {
		t.Errorf("bad accesses reset the machine %d times", resets)
	}
	if got := c.Missed.Load(); got != 8 {
		t.Errorf("Missed = %d, want 8", got)
	}
}

func TestI8042NilReset(t *testing.T) {
	c := NewI8042(nil)
	out8(c.CommandPort(), 0, 0xfe) // must not panic
}

// TestI8042LinuxProbe replays what Linux's i8042 driver does at boot and
// checks each step answers at once (OBF already set when it waits).
func TestI8042LinuxProbe(t *testing.T) {
	c := NewI8042(nil)
	data, cmd := c.DataPort(), c.CommandPort()
	command := func(op byte, params ...byte) (reply byte, ok bool) {
		if in8(cmd, 0)&0x02 != 0 {
			t.Fatalf("command %#x: input buffer full", op)
		}
		out8(cmd, 0, op)
		for _, p := range params {
			out8(data, 0, p)
		}
		if in8(cmd, 0)&kbdStatOBF == 0 {
			return 0, false
		}
		return in8(data, 0), true
	}
	// i8042_flush: nothing to drain.
	if in8(cmd, 0)&kbdStatOBF != 0 {
		t.Fatal("output buffer full at reset")
	}
	if r, ok := command(0xaa); !ok || r != 0x55 {
		t.Fatalf("self test = %#x, %v", r, ok)
	}
	ctr, ok := command(0x20)
	if !ok {
		t.Fatal("no command byte")
	}
	if again, _ := command(0x20); again != ctr {
		t.Fatalf("unstable command byte %#x, %#x", ctr, again)
	}
	ctr = ctr&^0x03 | 0x10 // interrupts off, keyboard disabled
	if _, ok := command(0x60, ctr); ok {
		t.Fatal("write command byte left a reply")
	}
	// i8042_check_aux: the loopback comes back without the AUX flag and the
	// AUX test reports a fault, so the driver gives up on AUX at once.
	out8(cmd, 0, 0xd3)
	out8(data, 0, 0x5a)
	if st := in8(cmd, 0); st&kbdStatOBF == 0 || st&0x20 != 0 {
		t.Fatalf("status after AUX loop = %#x, want OBF without AUXDATA", st)
	}
	if r, ok := command(0xa9); !ok || r == 0 || r == 0xfa || r == 0xff {
		t.Fatalf("AUX test = %#x, %v; want a fault code", r, ok)
	}
}
