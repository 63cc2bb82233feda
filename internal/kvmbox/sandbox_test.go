package kvmbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequireEnv makes the boot tests fail, instead of skip, when the sandbox
// is not set up: CI sets it so that they can never silently not run.
const RequireEnv = "KVMSCOPE_REQUIRE_KVMBOX"

// helperEnv turns the test binary into a tiny kvmbox (see
// TestHelperKvmbox), so a test can start it with standard input closed.
const helperEnv = "KVMBOX_TEST_HELPER"

// requireSandbox skips the test when setup has not been run, and says
// how to run it; with KVMSCOPE_REQUIRE_KVMBOX=1 it fails instead.
func requireSandbox(t *testing.T) {
	t.Helper()
	if os.Getenv("KVMSCOPE_IN_KVMBOX") == "1" {
		t.Skip("already inside the sandbox: a sandbox in it would run on an emulated emulated CPU")
	}
	_, err := Cache{Dir: Dir()}.Ready()
	if err == nil {
		_, err = findQEMU()
	}
	if err == nil {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s=1 but the sandbox cannot boot: %v", RequireEnv, err)
	}
	t.Skipf("kvmbox sandbox not set up, boot tests skipped (run `sudo go run ./cmd/kvmbox setup`; set %s=1 to fail instead): %v", RequireEnv, err)
}

// runBoxed runs o in the sandbox with output captured.
func runBoxed(t *testing.T, o Options) (status int, stdout string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	o.Stdout, o.Stderr = &out, &errOut
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	o.Memory = "1G"
	start := time.Now()
	status, err = Run(context.Background(), o)
	t.Logf("%q: status %d, err %v, %.1f s; stdout: %q; stderr: %q", o.Command, status, err, time.Since(start).Seconds(), out.String(), errOut.String())
	return status, out.String(), err
}

func TestSandboxTrue(t *testing.T) {
	requireSandbox(t)
	status, out, err := runBoxed(t, Options{Command: []string{"true"}})
	if err != nil || status != 0 || out != "" {
		t.Fatalf("true: status %d, err %v, output %q", status, err, out)
	}
}

func TestSandboxExitStatusAndKVM(t *testing.T) {
	requireSandbox(t)
	status, out, err := runBoxed(t, Options{
		Command: []string{"sh", "-c", `test -c /dev/kvm || exit 99; echo "in=$KVMSCOPE_IN_KVMBOX x=$X"; exit 7`},
		Env:     []string{"X=a b"},
	})
	if err != nil || status != 7 {
		t.Fatalf("exit 7: status %d, err %v, output %q", status, err, out)
	}
	if out != "in=1 x=a b\n" {
		t.Fatalf("output %q, want %q", out, "in=1 x=a b\n")
	}
}

// TestSandboxStdinClosed starts a kvmbox (this test binary in helper
// mode) with standard input closed, as CI does.
func TestSandboxStdinClosed(t *testing.T) {
	requireSandbox(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := os.StartProcess(os.Args[0], []string{os.Args[0], "-test.run=^TestHelperKvmbox$"}, &os.ProcAttr{
		Env:   append(os.Environ(), helperEnv+"=1"),
		Files: []*os.File{nil, w, w}, // fd 0 closed
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := readAll(r)
	ps, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if ps.ExitCode() != 0 {
		t.Fatalf("kvmbox -- true <&-: exit %d, output:\n%s", ps.ExitCode(), out)
	}

	// The same through the API: a closed file as Stdin.
	closed, _ := os.Open(os.DevNull)
	closed.Close()
	status, _, err := runBoxed(t, Options{Command: []string{"sh", "-c", "exit 3"}, Stdin: closed})
	if err != nil || status != 3 {
		t.Fatalf("closed Stdin: status %d, err %v", status, err)
	}
}

func readAll(f *os.File) (string, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(f)
	return b.String(), err
}

// TestHelperKvmbox is not a test: in helper mode it is `kvmbox -- true`.
func TestHelperKvmbox(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper for TestSandboxStdinClosed")
	}
	status, err := Run(context.Background(), Options{Command: []string{"true"}, Memory: "1G", Timeout: 5 * time.Minute})
	if err != nil {
		os.Stdout.WriteString("kvmbox: " + err.Error() + "\n")
		os.Exit(125)
	}
	os.Exit(status)
}

func TestSandboxStdinPipe(t *testing.T) {
	requireSandbox(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.WriteString("line one\nline two without newline")
		w.Close()
	}()
	status, out, err := runBoxed(t, Options{Command: []string{"sh", "-c", "cat; echo; echo eof"}, Stdin: r})
	if err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	if want := "line one\nline two without newline\neof\n"; out != want {
		t.Fatalf("output %q, want %q", out, want)
	}
}

func TestSandboxWritableShare(t *testing.T) {
	requireSandbox(t)
	dir := t.TempDir()
	marker := "/etc/kvmbox-test-" + strconv.Itoa(os.Getpid())
	status, _, err := runBoxed(t, Options{
		Command:  []string{"sh", "-c", `echo written >"$0/f" && touch "$1" && pwd`, dir, marker},
		Writable: []string{dir},
	})
	if err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "f"))
	if err != nil || string(b) != "written\n" {
		t.Fatalf("share file: %q, %v", b, err)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		os.Remove(marker)
		t.Fatalf("a write outside the shares reached the host: %s (%v)", marker, err)
	}
}

func TestSandboxTimeout(t *testing.T) {
	requireSandbox(t)
	start := time.Now()
	_, _, err := runBoxed(t, Options{Command: []string{"sleep", "600"}, Timeout: 3 * time.Second})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if el := time.Since(start); el > 3*time.Second+stopGrace+2*time.Second {
		t.Fatalf("timeout took %v", el)
	}
	if !strings.Contains(err.Error(), "3s") {
		t.Errorf("timeout error %q does not say the limit", err)
	}
}
