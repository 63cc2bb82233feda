package linux_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/debug/symbols"
	"github.com/kvmscope/kvmscope/debug/symbols/kimage"
	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples/linux"
	"github.com/kvmscope/kvmscope/vmm"
)

// kallsymsCmd has the guest print a sample of its /proc/kallsyms: the
// kernel image's text, data, rodata and bss symbols (module and BPF
// symbols carry a [name] and are left out), every 40th of them — all
// ~90k would take minutes over the serial line under emulation, one VM
// exit per byte — and start_kernel, each line marked "KS ".
const kallsymsCmd = `grep -E ' [tTdDrRbB] ' /proc/kallsyms | grep -Fv '[' | awk 'NR%40==1' | sed 's/^/KS /'; ` +
	`grep ' start_kernel$' /proc/kallsyms | sed 's/^/KS /'; exit 11`

// The symbol table that kvmscope recovers from the kernel image alone
// (its kallsyms, no System.map) names what the running kernel's
// /proc/kallsyms names, at the same addresses, with the same types:
// booted with nokaslr, the kernel runs at its link addresses. The guest
// boots from the bzImage; the table is read from the vmlinux that
// kvmbox setup unpacked from it, since decompressing the bzImage's xz
// here, under the sandbox's emulated CPU and the race detector, takes
// minutes (debug/symbols/kimage's TestDebianKernel shows, on the host,
// that the bzImage unpacks to exactly that vmlinux).
func TestLinuxKallsyms(t *testing.T) {
	kvmtest.Available(t)
	k := kernelFiles(t)
	vmlinux, err := os.ReadFile(k.vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	im, err := kimage.Open(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := symbols.FromKallsyms(im.Data)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recovered %d symbols from %s (%s) in %.1fs", tab.Len(), k.vmlinux, im, time.Since(start).Seconds())
	byName := map[string][]symbols.Symbol{}
	for _, s := range tab.Symbols() {
		byName[s.Name] = append(byName[s.Name], s)
	}

	stop, out := bootLinux(t, k.bzImage, vmm.Config{
		Initrd:  sampleInitrd(t, true),
		Cmdline: linux.CmdlineWith(kallsymsCmd),
	}, 8*time.Minute)
	checkExit(t, stop, out, 11)

	checked, percpu, startKernel := 0, 0, false
	var bad []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "KS ")))
		if !strings.HasPrefix(strings.TrimSpace(sc.Text()), "KS ") || len(f) != 3 || len(f[1]) != 1 {
			continue
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			t.Errorf("guest line %q: %v", sc.Text(), err)
			continue
		}
		if addr < 0x100000 { // per-CPU: an offset in each CPU's area
			percpu++
			continue
		}
		checked++
		startKernel = startKernel || f[2] == "start_kernel"
		ok := false
		for _, s := range byName[f[2]] {
			ok = ok || s.Addr == addr && s.Kind == f[1][0]
		}
		if !ok {
			bad = append(bad, sc.Text()+" (recovered: "+describe(byName[f[2]])+")")
		}
	}
	t.Logf("guest /proc/kallsyms: %d symbols checked, %d mismatched, %d per-CPU skipped", checked, len(bad), percpu)
	for i, b := range bad {
		if i == 20 {
			t.Errorf("... and %d more", len(bad)-20)
			break
		}
		t.Errorf("mismatch: %s", b)
	}
	if checked < 1000 || !startKernel {
		t.Errorf("the guest printed %d kernel symbols (start_kernel among them: %v), want at least 1000 and start_kernel", checked, startKernel)
	}
}

func describe(syms []symbols.Symbol) string {
	if len(syms) == 0 {
		return "none"
	}
	var parts []string
	for _, s := range syms {
		parts = append(parts, strconv.FormatUint(s.Addr, 16)+" "+string(s.Kind))
	}
	return strings.Join(parts, ", ")
}
