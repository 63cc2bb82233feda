package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/samples/linux"
)

// TestLinuxConsole feeds the console what the guest writes and checks
// which readings it passes on: the banner's at its end, a marker's where
// its line starts, and nothing for other lines.
func TestLinuxConsole(t *testing.T) {
	c := newLinuxConsole()
	var reads uint64
	c.read = func() reading { reads++; return reading{user: reads} }
	write := func(s string) {
		for i := range len(s) { // one byte at a time, as the UART writes
			c.Write([]byte{s[i]})
		}
	}
	write("[    1.0] some kernel line @@ not a marker\r\n")
	write("kvmscope-linux: init at 6.34s uptime, kernel 6.1.0, 1 CPUs\r\n")
	write("\r\n@@kvmscope-bench console 32768\r\n")
	write("....@@kvmscope-bench idle 1\r\n") // no newline before it
	write("@@kvmscope-bench fork x\r\n")     // bad count: ignored
	write("@@kvmscope-bench end 0\r\n")
	want := []consoleEvent{
		{name: "boot", n: 1, r: reading{user: 1}},
		{name: "console", n: 32768, r: reading{user: 2}},
		{name: "idle", n: 1, r: reading{user: 3}}, // read at the line's end
		{name: "end", n: 0, r: reading{user: 5}},  // 4 was the bad marker's start
	}
	for _, w := range want {
		select {
		case got := <-c.events:
			if got != w {
				t.Errorf("event %+v, want %+v", got, w)
			}
		default:
			t.Fatalf("no event; want %+v", w)
		}
	}
	select {
	case got := <-c.events:
		t.Errorf("an extra event %+v", got)
	default:
	}
	if tail := c.Tail(); !strings.HasSuffix(tail, "end 0\r\n") {
		t.Errorf("Tail() = %q", tail)
	}
	// A guest that writes without end: a bounded tail, no events.
	write(strings.Repeat("x", 3*tailSize))
	if n := len(c.Tail()); n != tailSize {
		t.Errorf("tail of %d bytes, want %d", n, tailSize)
	}
}

// TestSelect checks what workload names choose, and that a bare bench has
// Linux rows exactly when the sample is built.
func TestSelect(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(linux.DirEnv, dir)
	names := func(ws []Workload) string {
		var s []string
		for _, w := range ws {
			s = append(s, w.Name)
		}
		return strings.Join(s, " ")
	}
	ws, note, err := Select(nil)
	if err != nil || strings.Contains(names(ws), "linux") || !strings.Contains(note, "make linux-sample") {
		t.Errorf("no sample built: Select() = %s, %q, %v; want the firmware rows and a note on make linux-sample", names(ws), note, err)
	}
	for _, f := range []string{linux.KernelName, linux.InitrdName} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if ws, note, err = Select(nil); err != nil || note != "" || !strings.HasSuffix(names(ws), "cpuid linux-boot linux-console linux-idle linux-fork") {
		t.Errorf("sample built: Select() = %s, %q, %v; want every row", names(ws), note, err)
	}
	if ws, _, err = Select([]string{"linux-idle", "linux", "pio"}); err != nil || names(ws) != "linux-idle linux-boot linux-console linux-fork pio" {
		t.Errorf(`Select(linux-idle linux pio) = %s, %v`, names(ws), err)
	}
	if _, _, err = Select([]string{"linux-nope"}); err == nil || !strings.Contains(err.Error(), "linux-boot") {
		t.Errorf("Select(linux-nope): %v, want an error that lists the workloads", err)
	}
}

// TestSlowdowns: firmware rows against the compute loop, Linux rows
// against the same workload under the default extensions.
func TestSlowdowns(t *testing.T) {
	rs := []Result{
		{Workload: "compute", Config: "default", TimePerOp: 10},
		{Workload: "pio", Config: "default", TimePerOp: 50},
		{Workload: "linux-idle", Config: "default", TimePerOp: time.Second},
		{Workload: "linux-idle", Config: "none", TimePerOp: 2 * time.Second},
		{Workload: "linux-fork", Config: "none", TimePerOp: 7}, // no baseline
	}
	setSlowdowns(rs)
	for i, want := range []float64{1, 5, 1, 2, 0} {
		if rs[i].Slowdown != want {
			t.Errorf("%s %s: slowdown %v, want %v", rs[i].Workload, rs[i].Config, rs[i].Slowdown, want)
		}
	}
}

// TestTableLegend: the table says what an operation of each of its
// workloads is, and what the Linux rows' configurations are.
func TestTableLegend(t *testing.T) {
	rs := []Result{
		{Workload: "pio", Config: "default", N: 2000, UserExitsPerOp: 1},
		{Workload: "linux-console", Config: "none", N: 32768, UserExitsPerOp: 1.2},
	}
	var out strings.Builder
	if err := WriteResults(&out, "table", rs, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"out to an unclaimed port", "byte written to the console", "none (no irqchip"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "second asleep") {
		t.Errorf("the legend names a workload the table lacks:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
}
