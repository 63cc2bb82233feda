package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kvmscope/kvmscope/internal/kvmbox"
)

func TestParseArgs(t *testing.T) {
	o, err := parseArgs(strings.Fields("-w /a -w /b -t 90 -m 1G -c 1 -e A=1 -e B=x=y -C /w -v -- go test -run X ./..."), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := kvmbox.Options{
		Command:  []string{"go", "test", "-run", "X", "./..."},
		Writable: []string{"/a", "/b"},
		Dir:      "/w",
		Env:      []string{"A=1", "B=x=y"},
		Timeout:  90 * time.Second,
		Memory:   "1G",
		CPUs:     1,
		Verbose:  true,
	}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("got  %+v\nwant %+v", o, want)
	}

	o, err = parseArgs([]string{"--", "sh", "-c", "exit 42"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Timeout != 1800*time.Second || o.Memory != "4G" || o.CPUs != 2 || len(o.Command) != 3 || o.Command[2] != "exit 42" {
		t.Fatalf("defaults: %+v", o)
	}

	// Options stop at the first word that is not one, as with "--".
	if o, err := parseArgs([]string{"-v", "ls", "-l"}, io.Discard); err != nil || !reflect.DeepEqual(o.Command, []string{"ls", "-l"}) {
		t.Fatalf("no --: %+v %v", o, err)
	}
	if o, err := parseArgs([]string{"-s"}, io.Discard); err != nil || !o.Shell {
		t.Fatalf("-s: %+v %v", o, err)
	}
	for _, tc := range []struct{ args, want string }{
		{"-t 2m -- true", "2m0s"},
		{"-t 1.5 -- true", "1.5s"},
	} {
		o, err := parseArgs(strings.Fields(tc.args), io.Discard)
		if err != nil || o.Timeout.String() != tc.want {
			t.Errorf("%s: timeout %v %v, want %s", tc.args, o.Timeout, err, tc.want)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range []string{
		"",              // no command
		"--",            // no command
		"-s -- true",    // shell and command
		"-t 0 -- true",  // zero timeout
		"-t -5 -- true", // negative
		"-t soon -- true",
		"-c 0 -- true",
		"-c x -- true",
		"-m lots -- true",
		"-e NOVALUE -- true",
		"-x -- true", // unknown flag
		"-w",         // missing value
	} {
		if _, err := parseArgs(strings.Fields(args), io.Discard); err == nil {
			t.Errorf("parseArgs(%q) accepted", args)
		}
	}
	if _, err := parseArgs([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

// TestRunExitCodes boots the sandbox through the command line and checks
// the exit codes a caller sees: the command's own, and 124 on timeout.
func TestRunExitCodes(t *testing.T) {
	if _, err := (kvmbox.Cache{Dir: kvmbox.Dir()}).Ready(); err != nil {
		if os.Getenv("KVMSCOPE_REQUIRE_KVMBOX") == "1" {
			t.Fatalf("KVMSCOPE_REQUIRE_KVMBOX=1 but: %v", err)
		}
		t.Skipf("kvmbox sandbox not set up, boot tests skipped (run `sudo go run ./cmd/kvmbox setup`): %v", err)
	}
	if os.Getenv("KVMSCOPE_IN_KVMBOX") == "1" {
		t.Skip("already inside the sandbox")
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-m", "1G", "--", "sh", "-c", "exit 42"}, 42},
		{[]string{"-m", "1G", "-t", "2", "--", "sleep", "600"}, exitTimeout},
		{[]string{"-m", "1G", "-w", "/nonexistent/dir", "--", "true"}, exitSandbox},
	} {
		if got := run(tc.args); got != tc.want {
			t.Errorf("kvmbox %q: exit %d, want %d", tc.args, got, tc.want)
		}
	}
}
