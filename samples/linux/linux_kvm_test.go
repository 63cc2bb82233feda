package linux_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples/linux"
	"github.com/kvmscope/kvmscope/vmm"
)

// The Linux boot tests boot the Debian kernel that `kvmbox setup` fetched
// (the sandbox's own) with the sample's initramfs, built here from
// busybox-static, and check that the kernel reaches the sample's /init and
// that kvmscope ends with the status /init chose. Under the nested
// sandbox's emulated CPU each boot takes some 10-40 s.

// kernel names the cached kernel files, skipping the test when `kvmbox
// setup` has not fetched them.
type kernel struct{ bzImage, vmlinux string }

func kernelFiles(t testing.TB) kernel {
	t.Helper()
	bz, vmlinux := kvmtest.GuestKernel(t)
	return kernel{bzImage: bz, vmlinux: vmlinux}
}

var initramfs = struct {
	sync.Mutex
	data map[bool][]byte
}{data: map[bool][]byte{}}

// sampleInitrd builds the sample's initramfs once per compression.
func sampleInitrd(t testing.TB, compress bool) []byte {
	t.Helper()
	initramfs.Lock()
	defer initramfs.Unlock()
	if b := initramfs.data[compress]; b != nil {
		return b
	}
	b, err := linux.HostInitramfs(compress)
	if err != nil {
		t.Fatal(err)
	}
	initramfs.data[compress] = b
	return b
}

// lockedBuffer is the console: the vCPU threads write, the test reads
// after the run.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// bootLinux boots kernelFile with cfg (its Console is set here) and
// returns how the run ended and the console output.
func bootLinux(t *testing.T, kernelFile string, cfg vmm.Config, timeout time.Duration) (vmm.Stop, string) {
	t.Helper()
	image, err := os.ReadFile(kernelFile)
	if err != nil {
		t.Fatal(err)
	}
	var console lockedBuffer
	cfg.Console = &console
	if cfg.MemSize == 0 {
		cfg.MemSize = linux.MemSize
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = 1
	}
	m, err := vmm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	img, err := m.Load(image)
	if err != nil {
		t.Fatalf("load %s: %v", kernelFile, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	stop := m.Run(ctx)
	out := console.String()
	t.Logf("%s (%s), %d vCPU(s), --ext %s: %v after %.1fs (guest %.1fs)",
		kernelFile, img.Linux.Protocol, cfg.CPUs, m.ActiveExtensions(), &stop, time.Since(start).Seconds(), m.GuestTime().Seconds())
	if i := strings.Index(out, "kvmscope-linux: init at"); i >= 0 {
		t.Logf("%s", strings.TrimSpace(strings.SplitN(out[i:], "\n", 2)[0]))
	}
	return stop, out
}

// checkExit insists on the guest exit with status want and on init's
// banner and the command's output on the console.
func checkExit(t *testing.T, stop vmm.Stop, out string, want uint8, lines ...string) {
	t.Helper()
	if stop.Kind != vmm.StopGuestExit || stop.Status != want {
		t.Errorf("stop %v, want a guest exit with status %d", &stop, want)
	}
	for _, l := range append([]string{"kvmscope-linux: init at", fmt.Sprintf("kvmscope-linux: exit status %d", want)}, lines...) {
		if !strings.Contains(out, l) {
			t.Errorf("console lacks %q", l)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}

// The bzImage through the 64-bit boot protocol, the sample's gzip
// initramfs, one vCPU: init runs the command and its status ends the run.
func TestLinuxBzImage(t *testing.T) {
	kvmtest.Available(t)
	k := kernelFiles(t)
	stop, out := bootLinux(t, k.bzImage, vmm.Config{
		Initrd:  sampleInitrd(t, true),
		Cmdline: linux.CmdlineWith("echo cpus=$(nproc) on $(uname -m); exit 42"),
	}, 4*time.Minute)
	checkExit(t, stop, out, 42, "cpus=1 on x86_64")
}

// Two vCPUs: the kernel brings up the second through the ACPI MADT and
// INIT/SIPI, and the guest's nproc says 2.
func TestLinuxSMP(t *testing.T) {
	kvmtest.Available(t)
	k := kernelFiles(t)
	stop, out := bootLinux(t, k.bzImage, vmm.Config{
		CPUs:    2,
		Initrd:  sampleInitrd(t, true),
		Cmdline: linux.CmdlineWith("echo cpus=$(nproc); exit $(nproc)"),
	}, 4*time.Minute)
	checkExit(t, stop, out, 2, "cpus=2")
}

// The vmlinux through its PVH entry, with a plain (uncompressed) cpio.
func TestLinuxPVH(t *testing.T) {
	kvmtest.Available(t)
	k := kernelFiles(t)
	stop, out := bootLinux(t, k.vmlinux, vmm.Config{
		Initrd:  sampleInitrd(t, false),
		Cmdline: linux.CmdlineWith("echo pvh-ok; exit 7"),
	}, 4*time.Minute)
	checkExit(t, stop, out, 7, "pvh-ok")
}

// Without host extensions: no in-kernel irqchip, so no local APIC, no
// IOAPIC and no ACPI tables; the kernel runs on kvmscope's own 8259 PIC
// and 8254 PIT, every interrupt injected from user space.
func TestLinuxExtNone(t *testing.T) {
	kvmtest.Available(t)
	k := kernelFiles(t)
	stop, out := bootLinux(t, k.bzImage, vmm.Config{
		Ext:     "none",
		Initrd:  sampleInitrd(t, true),
		Cmdline: linux.CmdlineWith("grep -q ' 0:.*XT-PIC.*timer' /proc/interrupts && echo pic-timer; exit 9"),
	}, 5*time.Minute)
	checkExit(t, stop, out, 9, "pic-timer")
}

// A kernel panic with panic=-1 reboots at once; reboot=k resets through
// the i8042, which ends the run as a guest reset.
func TestLinuxPanicResets(t *testing.T) {
	kvmtest.Available(t)
	k := kernelFiles(t)
	stop, out := bootLinux(t, k.vmlinux, vmm.Config{
		Initrd:  sampleInitrd(t, false),
		Cmdline: linux.CmdlineWith("echo c >/proc/sysrq-trigger"),
	}, 4*time.Minute)
	if stop.Kind != vmm.StopReset {
		t.Errorf("stop %v, want a guest reset\nconsole:\n%s", &stop, out)
	}
	if !strings.Contains(out, "Kernel panic") {
		t.Errorf("console lacks the panic\n%s", out)
	}
}

// `poweroff -f` powers off through ACPI: the kernel finds \_S5 in the DSDT
// and the hardware-reduced FADT's sleep control register, writes S5's
// type with SLP_EN there, and the run ends as a power-off.
func TestLinuxPowerOff(t *testing.T) {
	kvmtest.Available(t)
	k := kernelFiles(t)
	stop, out := bootLinux(t, k.bzImage, vmm.Config{
		Initrd:  sampleInitrd(t, true),
		Cmdline: linux.CmdlineWith("poweroff -f"),
	}, 4*time.Minute)
	if stop.Kind != vmm.StopPowerOff || !strings.Contains(stop.Detail, "S5") {
		t.Errorf("stop %v, want the power-off through ACPI S5\nconsole:\n%s", &stop, out)
	}
	if !strings.Contains(out, "reboot: Power down") {
		t.Errorf("console lacks the kernel's power-down\n%s", out)
	}
}
