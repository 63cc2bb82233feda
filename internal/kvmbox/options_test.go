package kvmbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Options{Command: []string{"true"}, Memory: "512M", CPUs: 1, Timeout: time.Second, Env: []string{"A_1=x=y", "B="}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid options rejected: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no command", func(o *Options) { o.Command = nil }, "no command"},
		{"shell and command", func(o *Options) { o.Shell = true }, "takes no command"},
		{"memory", func(o *Options) { o.Memory = "4 GB" }, "bad memory"},
		{"zero memory", func(o *Options) { o.Memory = "0" }, "bad memory"},
		{"cpus", func(o *Options) { o.CPUs = 1000 }, "bad CPU"},
		{"env without =", func(o *Options) { o.Env = []string{"A"} }, "bad environment"},
		{"env bad name", func(o *Options) { o.Env = []string{"1A=x"} }, "bad environment"},
		{"newline in path", func(o *Options) { o.Writable = []string{"a\nb"} }, "bad path"},
	} {
		o := ok
		tc.edit(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := (Options{Shell: true}).Validate(); err != nil {
		t.Errorf("shell alone rejected: %v", err)
	}
}

func TestDefaultDir(t *testing.T) {
	w := []share{{"kvmboxw0", "/tmp/work"}, {"kvmboxw1", "/srv/out"}}
	for _, tc := range []struct {
		pwd    string
		shares []share
		want   string
	}{
		{"/work/main", nil, "/work/main"},
		{"/work/main", w, "/work/main"}, // visible read-only: stays
		{"/tmp/work/sub", w, "/tmp/work/sub"},
		{"/tmp/other", w, "/tmp/work"}, // hidden by tmpfs: first share
		{"/tmp/other", nil, "/"},
		{"/run/user/1000", nil, "/"},
		{"/var/tmpx", nil, "/var/tmpx"}, // not under /var/tmp
		{"/srv/out", w, "/srv/out"},
	} {
		if got := defaultDir(tc.pwd, tc.shares); got != tc.want {
			t.Errorf("defaultDir(%q, %v) = %q, want %q", tc.pwd, tc.shares, got, tc.want)
		}
	}
}

func TestResolveShares(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o755)
	link := filepath.Join(base, "link")
	os.Symlink(real, link)
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o644)
	shares, err := resolveShares([]string{link, real})
	if err != nil {
		t.Fatal(err)
	}
	realResolved, _ := filepath.EvalSymlinks(real)
	if len(shares) != 2 || shares[0].Path != realResolved || shares[0].Tag != "kvmboxw0" || shares[1].Tag != "kvmboxw1" {
		t.Fatalf("shares = %+v", shares)
	}
	for _, bad := range []string{file, filepath.Join(base, "missing"), "/"} {
		if _, err := resolveShares([]string{bad}); err == nil {
			t.Errorf("share %s accepted", bad)
		}
	}
}
