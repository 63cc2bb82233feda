package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/kvmscope/kvmscope/internal/kut"
	"github.com/kvmscope/kvmscope/vmm"
)

// cmdKUT runs a kvm-unit-tests build's x86 tests under kvmscope, each in
// its own "kvmscope run" process (the same binary), and with
// --compare-qemu under QEMU too, and prints a verdict per test as it goes
// and a summary. The verdicts are the suite's: kvmscope's exit status is
// the guest's debug-exit code, which is read as the suite's scripts read
// QEMU's (code<<1)|1 (internal/kut).
func cmdKUT(args []string) int {
	fs := newFlagSet("kut", "[flags] DIR   (a kvm-unit-tests build: DIR/x86/unittests.cfg and DIR/x86/*.flat)")
	compare := fs.Bool("compare-qemu", false, "run each test under qemu-system-x86_64 -accel kvm too, with the suite's x86/run options, and print both verdicts")
	qemu := fs.String("qemu", "qemu-system-x86_64", "the QEMU binary for --compare-qemu")
	noQEMU := fs.String("no-qemu", "", "with --compare-qemu, do not run the tests whose names match this regular expression under QEMU\n(one that brings down a nested sandbox: emulator in kvmbox, see docs/kut.md)")
	timeout := fs.Duration("timeout", 0, "every test's time limit, instead of unittests.cfg's (the suite's TIMEOUT=)")
	only := fs.String("run", "", "only the tests whose names match this regular expression")
	group := fs.String("group", "", "only the tests of this group (run_tests.sh -g)")
	all := fs.Bool("all", false, "also the tests marked nodefault (run_tests.sh -a)")
	mem := fs.String("mem", "128M", "guest memory for a test that names none (QEMU's default is 128M)")
	ext := fs.String("ext", "", "kvmscope's host extensions (as run --ext); its default when empty")
	logs := fs.String("logs", "", "write each run's output to DIR/NAME.kvmscope.log and DIR/NAME.qemu.log")
	verbose := fs.Bool("v", false, "print each command and the QEMU options kvmscope has no counterpart for")
	pos, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	if len(pos) != 1 {
		return badInput("kut: give one DIR, the kvm-unit-tests build (kvmscope kut -h for help)")
	}
	x86, cfgPath, err := findKUTConfig(pos[0])
	if err != nil {
		return badInput("kut: %v", err)
	}
	f, err := os.Open(cfgPath)
	if err != nil {
		return badInput("kut: %v", err)
	}
	tests, err := kut.Parse(f)
	f.Close()
	if err != nil {
		return badInput("kut: %s: %v", cfgPath, err)
	}
	var match *regexp.Regexp
	if *only != "" {
		if match, err = regexp.Compile(*only); err != nil {
			return badInput("kut: --run %q: %v", *only, err)
		}
	}
	var skipQEMU *regexp.Regexp
	if *noQEMU != "" {
		if skipQEMU, err = regexp.Compile(*noQEMU); err != nil {
			return badInput("kut: --no-qemu %q: %v", *noQEMU, err)
		}
	}
	if *timeout < 0 {
		return badInput("kut: --timeout %v: negative", *timeout)
	}
	if _, err := vmm.ParseSize(*mem); err != nil {
		return badInput("kut: --mem: %v", err)
	}
	if *logs != "" {
		if err := os.MkdirAll(*logs, 0o755); err != nil {
			return badInput("kut: --logs: %v", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return failure("kut: find kvmscope's own binary: %v", err)
	}
	if *compare {
		if _, err := exec.LookPath(*qemu); err != nil {
			return badInput("kut: --compare-qemu: %s: %v", *qemu, err)
		}
	}

	var plans []kut.Plan
	for i := range tests {
		t := &tests[i]
		if (match != nil && !match.MatchString(t.Name)) || (*group != "" && !t.InGroup(*group)) {
			continue
		}
		if *timeout > 0 {
			t.Timeout = *timeout
		}
		plans = append(plans, kut.Prepare(t, x86, kut.Options{Arch: "x86_64", All: *all || *group == "nodefault", Mem: *mem, Ext: *ext}))
	}
	if len(plans) == 0 {
		return badInput("kut: no test of %s matches", cfgPath)
	}

	if err := kvmUsable(); err != nil {
		return failure("kut: %v", err)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	r := kutRunner{self: self, qemu: *qemu, compare: *compare, noQEMU: skipQEMU, logs: *logs, verbose: *verbose, out: os.Stdout}
	return r.runAll(ctx, plans, cfgPath)
}

// kvmUsable says, once rather than for every test, that the tests cannot
// run here.
func kvmUsable() error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("%w: kvm-unit-tests need KVM; run kvmscope kut inside kvmbox (see README)", err)
	}
	return f.Close()
}

// findKUTConfig finds unittests.cfg in DIR/x86 (a build's top directory)
// or in DIR itself (its x86 directory).
func findKUTConfig(dir string) (x86, cfg string, err error) {
	for _, d := range []string{filepath.Join(dir, "x86"), dir} {
		c := filepath.Join(d, "unittests.cfg")
		if _, err := os.Stat(c); err == nil {
			return d, c, nil
		}
	}
	return "", "", fmt.Errorf("%s: no x86/unittests.cfg (give the top directory of a kvm-unit-tests build)", dir)
}

// kutRunner runs the planned tests one after the other.
type kutRunner struct {
	self, qemu string
	compare    bool
	noQEMU     *regexp.Regexp // tests not to run under QEMU
	logs       string
	verbose    bool
	out        io.Writer
}

// kutResult is one run's outcome.
type kutResult struct {
	verdict kut.Verdict
	reason  string // why it failed or skipped, or its SUMMARY line
	took    time.Duration
}

// column is the result as the table shows it.
func (r kutResult) column() string { return r.verdict.String() }

func (k *kutRunner) runAll(ctx context.Context, plans []kut.Plan, cfgPath string) int {
	w := k.out
	fmt.Fprintf(w, "kvmscope kut: %d tests of %s\n", len(plans), cfgPath)
	if k.compare {
		fmt.Fprintf(w, "%-8s %-8s %s\n", "kvmscope", "qemu", "test")
	}
	var ks, qs []kutResult
	for i, p := range plans {
		if ctx.Err() != nil {
			fmt.Fprintln(w, "kvmscope kut: interrupted")
			return exitInterrupted
		}
		var kr, qr kutResult
		if p.Skip != "" {
			kr = kutResult{verdict: kut.Skip, reason: p.Skip}
			qr = kr
		} else {
			if k.verbose {
				fmt.Fprintf(w, "  $ kvmscope run --timeout %v %s\n", p.Test.Timeout, strings.Join(p.KvmscopeArgs, " "))
				if len(p.Ignored) > 0 {
					fmt.Fprintf(w, "  kvmscope has no counterpart for: %s\n", strings.Join(p.Ignored, "; "))
				}
			}
			kr = k.runKvmscope(ctx, p)
			switch {
			case k.compare && k.noQEMU != nil && k.noQEMU.MatchString(p.Test.Name):
				qr = kutResult{reason: "not run under QEMU (--no-qemu)"}
			case k.compare:
				if k.verbose {
					fmt.Fprintf(w, "  $ %s %s\n", k.qemu, strings.Join(p.QEMUArgs, " "))
				}
				qr = k.runQEMU(ctx, p)
			}
		}
		ks, qs = append(ks, kr), append(qs, qr)
		k.printRow(i, len(plans), p, kr, qr)
	}
	return k.summary(plans, ks, qs)
}

// printRow prints one test's line: its verdicts, name, and the reason or
// summary of the verdict that needs one (kvmscope's first).
func (k *kutRunner) printRow(i, n int, p kut.Plan, kr, qr kutResult) {
	note := kr.reason
	if k.compare && kr.verdict != qr.verdict && qr.reason != "" {
		note = strings.TrimSpace(note + "; qemu: " + qr.reason)
	}
	if note != "" {
		note = " (" + note + ")"
	}
	times := ""
	if kr.took > 0 {
		times = fmt.Sprintf(" [%.1fs", kr.took.Seconds())
		if k.compare {
			times += fmt.Sprintf(", qemu %.1fs", qr.took.Seconds())
		}
		times += "]"
	}
	prefix := fmt.Sprintf("%-8s", kr.column())
	if k.compare {
		prefix += fmt.Sprintf(" %-8s", qr.column())
	}
	fmt.Fprintf(k.out, "%s %s%s%s  %d/%d\n", prefix, p.Test.Name, note, times, i+1, n)
}

// summary prints the counts and, with QEMU, how many of the tests QEMU
// passes kvmscope passes too and which differ. It returns kut's exit
// status: 1 when a test failed or timed out under kvmscope.
func (k *kutRunner) summary(plans []kut.Plan, ks, qs []kutResult) int {
	count := func(rs []kutResult) string {
		c := map[kut.Verdict]int{}
		for _, r := range rs {
			c[r.verdict]++
		}
		return fmt.Sprintf("%d PASS, %d FAIL, %d SKIP, %d TIMEOUT", c[kut.Pass], c[kut.Fail], c[kut.Skip], c[kut.Timeout])
	}
	fmt.Fprintf(k.out, "\nkvmscope: %s\n", count(ks))
	if k.compare {
		fmt.Fprintf(k.out, "qemu:     %s\n", count(qs))
		qpass, both := 0, 0
		var diffs []string
		for i := range plans {
			if qs[i].verdict == kut.Pass {
				qpass++
				if ks[i].verdict == kut.Pass {
					both++
				}
			}
			if ks[i].verdict != qs[i].verdict && qs[i].verdict != 0 {
				diffs = append(diffs, fmt.Sprintf("  %s: kvmscope %v, qemu %v", plans[i].Test.Name, ks[i].verdict, qs[i].verdict))
			}
		}
		pct := 0.0
		if qpass > 0 {
			pct = 100 * float64(both) / float64(qpass)
		}
		fmt.Fprintf(k.out, "of the %d tests QEMU passes, kvmscope passes %d (%.0f%%)\n", qpass, both, pct)
		if len(diffs) > 0 {
			fmt.Fprintf(k.out, "differences:\n%s\n", strings.Join(diffs, "\n"))
		}
	}
	for _, r := range ks {
		if r.verdict == kut.Fail || r.verdict == kut.Timeout {
			return exitFailure
		}
	}
	return 0
}

// runKvmscope runs the test as "kvmscope run --timeout T ARGS". kvmscope
// enforces the limit itself; a process that outlives it by a minute is
// killed and counted as a timeout too.
func (k *kutRunner) runKvmscope(ctx context.Context, p kut.Plan) kutResult {
	args := append([]string{"run", "--timeout", p.Test.Timeout.String()}, p.KvmscopeArgs...)
	status, stdout, stderr, took, killed := k.exec(ctx, p.Test.Timeout+time.Minute, k.self, args)
	k.log(p.Test.Name, "kvmscope", stdout, stderr, status)
	if killed {
		return kutResult{verdict: kut.Timeout, reason: "kvmscope did not stop at its --timeout", took: took}
	}
	v, reason := kut.FromKvmscope(status, stderr)
	return withSummary(kutResult{verdict: v, reason: reason, took: took}, stdout)
}

// runQEMU runs the test under QEMU with the suite's options, killing it
// at the test's time limit as the suite's timeout(1) does.
func (k *kutRunner) runQEMU(ctx context.Context, p kut.Plan) kutResult {
	status, stdout, stderr, took, killed := k.exec(ctx, p.Test.Timeout, k.qemu, p.QEMUArgs)
	k.log(p.Test.Name, "qemu", stdout, stderr, status)
	if killed {
		return kutResult{verdict: kut.Timeout, reason: fmt.Sprintf("still running after %v", p.Test.Timeout), took: took}
	}
	v, reason := kut.FromQEMU(status, stderr)
	return withSummary(kutResult{verdict: v, reason: reason, took: took}, stdout)
}

// withSummary gives a passing or skipped test the test's own SUMMARY
// line as its note, and a failing one too when it has no other reason.
func withSummary(r kutResult, stdout string) kutResult {
	s := kut.Summary(stdout)
	switch {
	case s == "":
	case r.verdict == kut.Pass || r.verdict == kut.Skip:
		r.reason = s
	case strings.HasPrefix(r.reason, "exit code"):
		r.reason = s
	}
	return r
}

// exec runs one command with standard input empty, collecting its output,
// and kills it (and reports killed) when limit passes.
func (k *kutRunner) exec(ctx context.Context, limit time.Duration, name string, args []string) (status int, stdout, stderr string, took time.Duration, killed bool) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		killed = true
		status = -1
	case errors.As(err, &exit):
		status = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			status = 128 + int(ws.Signal())
		}
	case err != nil:
		status = -1
		errb.WriteString("kvmscope: " + err.Error() + "\n")
	}
	return status, out.String(), errb.String(), took, killed
}

// log writes one run's output under --logs.
func (k *kutRunner) log(test, vmm, stdout, stderr string, status int) {
	if k.logs == "" {
		return
	}
	name := filepath.Join(k.logs, strings.NewReplacer("/", "_", " ", "_").Replace(test)+"."+vmm+".log")
	text := fmt.Sprintf("%s\n--- stderr ---\n%s--- status %d ---\n", stdout, stderr, status)
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "kvmscope: warning: --logs: %v\n", err)
	}
}
