package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kvmscope/kvmscope/internal/kvmtest"
	"github.com/kvmscope/kvmscope/samples/linux"
)

// useLinuxSample builds the Linux sample as `make linux-sample` does (the
// kernel of `kvmbox setup`, busybox-static) into a temporary folder and
// points linux.Find at it, so that the test runs this checkout's
// kvmscope-bench whatever samples/linux/build holds.
func useLinuxSample(t testing.TB) {
	t.Helper()
	bz, _ := kvmtest.GuestKernel(t)
	initrd, err := linux.HostInitramfs(true)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(bz, filepath.Join(dir, linux.KernelName)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, linux.InitrdName), initrd, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(linux.DirEnv, dir)
}

// TestLinuxRows runs the Linux rows small through what `kvmscope bench
// linux --format csv` runs and checks what the mechanisms guarantee, not
// times: every console byte is an OUT to kvmscope's UART, whatever the
// extensions; without the irqchip, kvmscope's own PIC and PIT deliver the
// timer interrupts, so a second of idle, and the boot, bring kvmscope far
// more exits than with it. Three boots; some 2 minutes inside kvmbox.
func TestLinuxRows(t *testing.T) {
	kvmtest.Available(t)
	useLinuxSample(t)
	ws, _, err := Select([]string{LinuxGroup})
	if err != nil {
		t.Fatal(err)
	}
	results, err := Run(context.Background(), ws, 0.25, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	WriteResults(&table, "table", results, nil)
	t.Logf("the Linux rows at --scale 0.25:\n%s", table.String())

	// The rows as the CSV gives them: workload/configuration -> row.
	var out bytes.Buffer
	if err := WriteResults(&out, "csv", results, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		n            uint64
		user, kernel float64
	}
	rows := map[string]row{}
	for _, r := range recs[1:] {
		n, _ := strconv.ParseUint(r[5], 10, 64)
		user, _ := strconv.ParseFloat(r[6], 64)
		kernel, _ := strconv.ParseFloat(r[7], 64)
		rows[r[1]+"/"+r[2]] = row{n, user, kernel}
	}
	get := func(key string) row {
		r, ok := rows[key]
		if !ok {
			t.Fatalf("no %s row in the CSV:\n%s", key, out.String())
		}
		return r
	}
	for _, ext := range []string{"default", "all", "none"} {
		if r := get("linux-console/" + ext); r.n != 8192 || r.user < 1 {
			t.Errorf("--ext %s: console: %d bytes, %.2f exits to kvmscope per byte; want 8192 bytes, each at least one exit (the OUT to the UART)",
				ext, r.n, r.user)
		}
		if r := get("linux-fork/" + ext); r.n != 25 {
			t.Errorf("--ext %s: fork: %d operations, want 25", ext, r.n)
		}
		get("linux-boot/" + ext)
	}
	idleDef, idleNone := get("linux-idle/default"), get("linux-idle/none")
	if idleNone.user < 50 || idleNone.user < 10*max(idleDef.user, 1) {
		t.Errorf("idle: %.1f exits to kvmscope per second with --ext none, %.1f with default; want far more without the irqchip (its timer interrupts and EOIs come to kvmscope)",
			idleNone.user, idleDef.user)
	}
	if bootDef, bootNone := get("linux-boot/default"), get("linux-boot/none"); bootNone.user < 2*bootDef.user {
		t.Errorf("boot: %.0f exits to kvmscope with --ext none, %.0f with default; want many more without the irqchip", bootNone.user, bootDef.user)
	}
}

// BenchmarkLinuxWorkloads is the Linux rows at full size as a Go
// benchmark (make bench), each row's exits per operation as metrics:
//
//	scripts/kvm-tests -bench LinuxWorkloads
//
// `kvmscope bench linux` prints the same rows as a table.
func BenchmarkLinuxWorkloads(b *testing.B) {
	kvmtest.Available(b)
	useLinuxSample(b)
	ws, _, err := Select([]string{LinuxGroup})
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		results, err := Run(context.Background(), ws, 1, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range results {
			b.ReportMetric(r.UserExitsPerOp, "user-exits/"+r.Workload+"-"+r.Config)
			b.ReportMetric(r.KernelExitsPerOp, "kernel-exits/"+r.Workload+"-"+r.Config)
		}
		var table bytes.Buffer
		WriteResults(&table, "table", results, nil)
		b.Logf("\n%s", table.String())
	}
}
