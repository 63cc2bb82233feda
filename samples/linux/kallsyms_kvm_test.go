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
// exit per byte — and start_kernel, each line marked "KS ". (No double
// quotes: they would end kvmscope.cmd="...".)
const kallsymsCmd = `grep -E ' [tTdDrRbB] ' /proc/kallsyms | grep -Fv '[' | awk 'NR%40==1' | sed 's/^/KS /'; ` +
	`grep ' start_kernel$' /proc/kallsyms | sed 's/^/KS /'; exit 11`

// The symbol table that kvmscope recovers from the kernel image alone
// (its kallsyms, no System.map) names what the running kernel's
// /proc/kallsyms names, at the same addresses, with the same types:
// booted with nokaslr, the kernel runs at its link addresses.
func TestLinuxKallsyms(t *testing.T) {
	kvmtest.Available(t)
	k := kernelFiles(t)
	tab := recoverKallsyms(t, k)
	stop, out := bootLinux(t, k.bzImage, vmm.Config{
		Initrd:  sampleInitrd(t, true),
		Cmdline: linux.CmdlineWith(kallsymsCmd),
	}, 8*time.Minute)
	checkExit(t, stop, out, 11)
	guest := guestKallsyms(t, out)
	if slide := guest["start_kernel"][0].Addr - mustLookup(t, tab, "start_kernel").Addr; slide != 0 {
		t.Errorf("booted with nokaslr, start_kernel moved by %#x", slide)
	}
	compareKallsyms(t, tab, guest)
}

// With KASLR the kernel moves by a multiple of 2 MiB; the recovered table
// moved by the same slide (start_kernel's) names every symbol the guest
// prints, and its per-CPU symbols stay where they are.
func TestLinuxKallsymsKASLR(t *testing.T) {
	kvmtest.Available(t)
	k := kernelFiles(t)
	tab := recoverKallsyms(t, k)
	cmd := strings.Replace(kallsymsCmd, "exit 11", `grep ' A fixed_percpu_data$' /proc/kallsyms | sed 's/^/KS /'; exit 11`, 1)
	cmdline := strings.Replace(linux.CmdlineWith(cmd), " nokaslr", "", 1)
	stop, out := bootLinux(t, k.bzImage, vmm.Config{
		Initrd:  sampleInitrd(t, true),
		Cmdline: cmdline,
	}, 8*time.Minute)
	checkExit(t, stop, out, 11)
	guest := guestKallsyms(t, out)
	slide := guest["start_kernel"][0].Addr - mustLookup(t, tab, "start_kernel").Addr
	t.Logf("KASLR slide %#x", slide)
	if slide%symbols.X86SlideAlign != 0 || slide >= symbols.X86SlideSpan {
		t.Errorf("slide %#x: not a multiple of 2 MiB below 1 GiB", slide)
	}
	if slide == 0 {
		t.Log("KASLR chose slide 0 this time (or is off): the check below is that of nokaslr")
	}
	compareKallsyms(t, tab.Slid(slide), guest)
}

// recoverKallsyms reads the table from the vmlinux that kvmbox setup
// unpacked from the bzImage the guest boots: decompressing the bzImage's
// xz here, under the sandbox's emulated CPU and the race detector, takes
// minutes (debug/symbols/kimage's TestDebianKernel shows, on the host,
// that the bzImage unpacks to exactly that vmlinux).
func recoverKallsyms(t *testing.T, k kernel) *symbols.Table {
	t.Helper()
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
	return tab
}

func mustLookup(t *testing.T, tab *symbols.Table, name string) symbols.Symbol {
	t.Helper()
	s, ok := tab.Lookup(name)
	if !ok {
		t.Fatalf("no %s in the recovered table", name)
	}
	return s
}

// guestKallsyms reads the "KS ADDRESS TYPE NAME" lines the guest printed.
func guestKallsyms(t *testing.T, out string) map[string][]symbols.Symbol {
	t.Helper()
	syms := map[string][]symbols.Symbol{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "KS ")
		f := strings.Fields(line)
		if !ok || len(f) != 3 || len(f[1]) != 1 {
			continue
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			t.Errorf("guest line %q: %v", sc.Text(), err)
			continue
		}
		syms[f[2]] = append(syms[f[2]], symbols.Symbol{Name: f[2], Addr: addr, Kind: f[1][0]})
	}
	if len(syms["start_kernel"]) == 0 {
		t.Fatalf("the guest printed no start_kernel")
	}
	return syms
}

// compareKallsyms checks that every symbol the guest printed is in tab
// at the same address with the same type (a name that occurs more than
// once matches any of its entries).
func compareKallsyms(t *testing.T, tab *symbols.Table, guest map[string][]symbols.Symbol) {
	t.Helper()
	ours := map[string][]symbols.Symbol{}
	for _, s := range tab.Symbols() {
		ours[s.Name] = append(ours[s.Name], s)
	}
	checked, percpu := 0, 0
	var bad []string
	for name, gs := range guest {
		for _, g := range gs {
			if g.Addr < 0x100000 && g.Kind != 'A' { // a per-CPU offset shown as an address
				percpu++
				continue
			}
			checked++
			ok := false
			for _, s := range ours[name] {
				ok = ok || s.Addr == g.Addr && s.Kind == g.Kind
			}
			if !ok {
				bad = append(bad, describe(g)+" (recovered: "+describeAll(ours[name])+")")
			}
		}
	}
	t.Logf("guest /proc/kallsyms: %d symbols checked, %d mismatched, %d per-CPU skipped", checked, len(bad), percpu)
	for i, b := range bad {
		if i == 20 {
			t.Errorf("... and %d more", len(bad)-20)
			break
		}
		t.Errorf("mismatch: guest %s", b)
	}
	if checked < 1000 {
		t.Errorf("the guest printed %d kernel symbols, want at least 1000", checked)
	}
}

func describe(s symbols.Symbol) string {
	return strconv.FormatUint(s.Addr, 16) + " " + string(s.Kind) + " " + s.Name
}

func describeAll(syms []symbols.Symbol) string {
	if len(syms) == 0 {
		return "none"
	}
	var parts []string
	for _, s := range syms {
		parts = append(parts, describe(s))
	}
	return strings.Join(parts, ", ")
}
