package kut

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/samples"
)

func TestParseSampleConfig(t *testing.T) {
	tests, err := Parse(strings.NewReader(samples.KUTConfig))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Test{}
	for _, tt := range tests {
		byName[tt.Name] = tt
	}
	if len(byName) != 8 {
		t.Fatalf("%d tests, want 8: %v", len(byName), tests)
	}
	if p := byName["mini-pass"]; p.File != "kut-mini.flat" || p.SMP != 1 || p.Timeout != DefaultTimeout || len(p.Args)+len(p.Params) != 0 {
		t.Errorf("mini-pass %+v", p)
	}
	if f := byName["mini-fail"]; !slices.Equal(f.Params, []string{"-append", "fail"}) {
		t.Errorf("mini-fail params %q", f.Params)
	}
	if s := byName["mini-skip"]; !slices.Equal(s.Args, []string{"skip"}) || !s.InGroup("mini") {
		t.Errorf("mini-skip %+v", s)
	}
	if s := byName["mini-smp"]; s.SMP != 2 || !slices.Equal(s.Params, []string{"-append", "2"}) {
		t.Errorf("mini-smp %+v", s)
	}
	if h := byName["mini-timeout"]; h.Timeout != 3*time.Second || !slices.Equal(h.Args, []string{"hang"}) {
		t.Errorf("mini-timeout %+v", h)
	}
	if a := byName["mini-i386"]; a.Arch != "i386" {
		t.Errorf("mini-i386 %+v", a)
	}
}

func TestParseMultiLineAndErrors(t *testing.T) {
	cfg := "# comment\n[a]\nfile = a.flat\nqemu_params = \"\"\"-cpu max \\\n  -m 2048\"\"\"\ntimeout = 2m\n[b]\nfile=b.flat\nsmp = 4\n"
	tests, err := Parse(strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if len(tests) != 2 || !slices.Equal(tests[0].Params, []string{"-cpu", "max", "-m", "2048"}) || tests[0].Timeout != 2*time.Minute {
		t.Fatalf("tests %+v", tests)
	}
	if tests[1].File != "b.flat" || tests[1].SMP != 4 {
		t.Errorf("b %+v", tests[1])
	}
	if _, err := Parse(strings.NewReader("[x]\nqemu_params = \"\"\"-cpu max\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("an unclosed \"\"\" gave %v, want an error naming line 2", err)
	}
	for _, bad := range []string{
		"[x]\nsmp = $MAX_SMP\n",
		"[x]\ntimeout = soon\n",
		"[x]\ntest_args = 'open\n",
		"[x]\ntest_args = \"\\\"10000000 `date +%s`\\\"\"\n",
	} {
		tests, err := Parse(strings.NewReader(bad + "[y]\nfile = y.flat\n"))
		if err != nil || len(tests) != 2 || !strings.Contains(tests[0].Unusable, "line 2: ") || tests[1].Unusable != "" {
			t.Errorf("Parse(%q) = %+v, %v; want x unusable, naming line 2, and y fine", bad, tests, err)
		}
		if skip := Prepare(&tests[0], t.TempDir(), Options{Arch: "x86_64"}).Skip; !strings.HasPrefix(skip, "not run: line 2") {
			t.Errorf("unusable test's skip %q", skip)
		}
	}
}

func TestSplit(t *testing.T) {
	for in, want := range map[string][]string{
		`-append 'a b' c`:           {"-append", "a b", "c"},
		`-append "x \"y\" z"`:       {"-append", `x "y" z`},
		`a\ b  c`:                   {"a b", "c"},
		`''`:                        {""},
		`-cpu qemu64,+x2apic -m 2g`: {"-cpu", "qemu64,+x2apic", "-m", "2g"},
		``:                          nil,
	} {
		got, err := Split(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Split(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestPrepare(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t.flat"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Arch: "x86_64", Mem: "128M"}
	tt := &Test{Name: "t", File: "t.flat", SMP: 2, Args: []string{"ipi"},
		Params: []string{"-cpu", "qemu64,+x2apic", "-m", "2g", "-machine", "pit=off"}}
	p := Prepare(tt, dir, o)
	kernel := filepath.Join(dir, "t.flat")
	if p.Skip != "" {
		t.Fatalf("skipped: %s", p.Skip)
	}
	if want := []string{"--cpus", "2", "--mem", "2G", "--append", "ipi", kernel}; !slices.Equal(p.KvmscopeArgs, want) {
		t.Errorf("kvmscope args %q, want %q", p.KvmscopeArgs, want)
	}
	if want := []string{"-cpu qemu64,+x2apic", "-machine pit=off"}; !slices.Equal(p.Ignored, want) {
		t.Errorf("ignored %q, want %q", p.Ignored, want)
	}
	q := strings.Join(p.QEMUArgs, " ")
	for _, want := range []string{"-nodefaults", "-device pc-testdev", "-device isa-debug-exit,iobase=0xf4,iosize=0x4",
		"-serial stdio", "-machine accel=kvm", "-kernel " + kernel + " -smp 2 -append ipi -cpu qemu64,+x2apic -m 2g"} {
		if !strings.Contains(q, want) {
			t.Errorf("QEMU args %q lack %q", q, want)
		}
	}

	for _, tc := range []struct {
		t    Test
		want string
	}{
		{Test{File: "t.flat", Arch: "i386"}, "i386 only"},
		{Test{File: "t.flat", Groups: []string{"vmx", "nodefault"}}, "manual run only"},
		{Test{File: "t.flat", Accel: "tcg"}, "tcg only"},
		{Test{File: "t.flat", DisabledIf: "[[ x ]]"}, "does not evaluate"},
		{Test{File: "t.flat", Check: []string{"/no/such/param=Y"}}, "/no/such/param not equal to Y"},
		{Test{File: "none.flat"}, "not found"},
	} {
		if got := Prepare(&tc.t, dir, o).Skip; !strings.Contains(got, tc.want) {
			t.Errorf("%+v: skip %q, want %q", tc.t, got, tc.want)
		}
	}
	if got := Prepare(&Test{File: "t.flat", Groups: []string{"nodefault"}}, dir, Options{Arch: "x86_64", All: true}).Skip; got != "" {
		t.Errorf("with All, nodefault skipped: %s", got)
	}
}

func TestVerdicts(t *testing.T) {
	for _, tc := range []struct {
		status int
		stderr string
		want   Verdict
	}{
		{0, "", Pass},
		{1, "", Fail},
		{38, "", Skip},
		{0, "kvmscope: warning: no halt polling\n", Pass},
		{124, "kvmscope: timeout: the guest was still running after 3s\n", Timeout},
		{3, "kvmscope: triple fault ...\n", Fail},
		{1, "kvmscope: create vcpu 1: ...\n", Fail},
	} {
		if got, _ := FromKvmscope(tc.status, tc.stderr); got != tc.want {
			t.Errorf("FromKvmscope(%d, %q) = %v, want %v", tc.status, tc.stderr, got, tc.want)
		}
	}
	for _, tc := range []struct {
		status int
		stderr string
		want   Verdict
	}{
		{1, "", Pass},
		{1, "qemu-system-x86_64: warning: host doesn't support requested feature\n", Pass},
		{1, "qemu-system-x86_64: -device foo: not found\n", Fail},
		{3, "", Fail},
		{77, "", Skip},
		{0, "", Fail},
		{137, "", Fail},
	} {
		if got, _ := FromQEMU(tc.status, tc.stderr); got != tc.want {
			t.Errorf("FromQEMU(%d, %q) = %v, want %v", tc.status, tc.stderr, got, tc.want)
		}
	}
	if s := Summary("x\nSUMMARY: 3 tests, 1 unexpected failures\r\nEXIT\n"); s != "3 tests, 1 unexpected failures" {
		t.Errorf("Summary = %q", s)
	}
}
