package vmm_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples"
	"github.com/kvmscope/kvmscope/vmm"
	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

func benchImage(t *testing.T, name string, n uint64) []byte {
	t.Helper()
	img, err := samples.Image(name)
	if err != nil {
		t.Fatal(err)
	}
	img, err = samples.PatchIterations(img, n)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func count(rows []exitstats.Row, name string) uint64 {
	if r := row(rows, name); r != nil {
		return r.Count
	}
	return 0
}

// TestExtensionsMoveExits checks that each live extension moves its exits
// out of user space, as its mechanism says it must.
func TestExtensionsMoveExits(t *testing.T) {
	const n = 400
	for _, c := range []struct {
		sample, ext, row string
		wantOff          uint64 // user-space exits in that row without the extension
	}{
		{"bench-doorbell", "ioeventfd", "IO 0x500 doorbell", n},
		{"bench-window", "coalesced-mmio", "MMIO 0xd0001000 data window", n},
		{"bench-piowindow", "coalesced-pio", "IO 0x508 pio window", n},
	} {
		t.Run(c.ext, func(t *testing.T) {
			img := benchImage(t, c.sample, n)
			stopOn, _, on := runImage(t, vmm.Config{}, img, time.Minute)
			stopOff, _, off := runImage(t, vmm.Config{Ext: "-" + c.ext}, img, time.Minute)
			if stopOn.Kind != vmm.StopGuestExit || stopOff.Kind != vmm.StopGuestExit {
				t.Fatalf("stops: on %v, off %v", &stopOn, &stopOff)
			}
			if got := count(off, c.row); got != c.wantOff {
				t.Errorf("%s off: %d user-space exits in %q, want %d", c.ext, got, c.row, c.wantOff)
			}
			if got := count(on, c.row); got != 0 {
				t.Errorf("%s on: %d user-space exits in %q, want 0", c.ext, got, c.row)
			}
			if strings.HasPrefix(c.ext, "coalesced") {
				if got := count(on, "coalesced writes (no exit)"); got != n {
					t.Errorf("coalesced writes drained: %d, want %d", got, n)
				}
			}
			if c.ext == "ioeventfd" {
				noDoorbellReader(t)
			}
		})
	}
}

// noDoorbellReader fails the test if a closed machine's eventfd reader
// goroutine is still there: a read that Close cannot end keeps it, its
// thread and the eventfd for the life of the process.
func noDoorbellReader(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "doorbellReader") {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("the doorbell's eventfd reader outlived its machine:\n%s", stacks)
		}
	}
}

// TestUserSpaceIRQChip runs the timer-driven idle guest with every
// extension off: our PIC and PIT, interrupts injected from user space.
func TestUserSpaceIRQChip(t *testing.T) {
	img := benchImage(t, "bench-hlt", 20)
	stop, _, rows := runImage(t, vmm.Config{Ext: "none"}, img, time.Minute)
	if stop.Kind != vmm.StopGuestExit || stop.Status != 0 {
		t.Fatalf("stop %v", &stop)
	}
	// Ticks that land while the guest is not halted are taken without a
	// HLT exit, so only some ticks show one.
	if got := count(rows, "HLT"); got == 0 {
		t.Errorf("no HLT exits to user space")
	}
	if got := count(rows, "IO 0x20 pic master"); got < 20 {
		t.Errorf("%d PIC exits, want at least an EOI per tick", got)
	}
	// With the in-kernel irqchip, the same guest never shows us a HLT.
	stop, _, rows = runImage(t, vmm.Config{}, img, time.Minute)
	if stop.Kind != vmm.StopGuestExit || count(rows, "HLT") != 0 {
		t.Fatalf("in-kernel irqchip: stop %v, %d HLT exits", &stop, count(rows, "HLT"))
	}
}

func TestExtNoneRefusesSMP(t *testing.T) {
	if _, err := vmm.New(vmm.Config{MemSize: vmm.DefaultMemSize, CPUs: 2, Ext: "none"}); err == nil {
		t.Fatal("--ext none with 2 vCPUs accepted")
	}
}

// kernelCount runs an image and returns one of KVM's own counters.
func kernelCount(t *testing.T, cfg vmm.Config, img []byte, name string) uint64 {
	t.Helper()
	kvmtest.Available(t)
	cfg.MemSize, cfg.CPUs = vmm.DefaultMemSize, 1
	m, err := vmm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Load(img); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if stop := m.Run(ctx); stop.Kind != vmm.StopGuestExit {
		t.Fatalf("stop %v", &stop)
	}
	ks, err := m.KernelStats()
	if err != nil || len(ks) == 0 {
		t.Fatalf("no kernel stats (%v): this KVM lacks the binary stats fd", err)
	}
	return ks[name]
}

// TestHLTExtensions: with HLT passthrough the guest's HLTs never exit;
// with halt polling KVM polls before sleeping, and without it never does.
func TestHLTExtensions(t *testing.T) {
	img := benchImage(t, "bench-hlt", 20)
	if n := kernelCount(t, vmm.Config{Ext: "+hlt-passthrough"}, img, "halt_exits"); n != 0 {
		t.Errorf("hlt-passthrough on: %d HLT exits, want 0", n)
	}
	// About one HLT exit per tick; fewer when the host starves the
	// guest (under load, seen: 1), since KVM's PIT then delivers the late
	// ticks back to back and the guest counts them all without halting
	// again. What must hold is the contrast with hlt-passthrough: some.
	if n := kernelCount(t, vmm.Config{Ext: "-hlt-passthrough"}, img, "halt_exits"); n == 0 {
		t.Errorf("hlt-passthrough off: no HLT exits for 20 ticks")
	} else {
		t.Logf("hlt-passthrough off: %d HLT exits for 20 ticks", n)
	}
	if n := kernelCount(t, vmm.Config{Ext: "-halt-poll"}, img, "halt_attempted_poll"); n != 0 {
		t.Errorf("halt-poll off: %d polls attempted, want 0", n)
	}
	// A poll window longer than the guest's halts (a tick is 1-4 ms in the sandbox).
	if n := kernelCount(t, vmm.Config{Ext: "+halt-poll", HaltPollNS: 20_000_000}, img, "halt_attempted_poll"); n == 0 {
		t.Errorf("halt-poll on: KVM never polled")
	}
}
