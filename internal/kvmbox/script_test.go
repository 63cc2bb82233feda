package kvmbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandScriptRunsOnHost runs the generated script with the host's
// sh: the arguments, working directory and environment must come out
// exactly as given, whatever the quoting.
func TestCommandScriptRunsOnHost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "it's a dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := commandScript(scriptConfig{
		Dir:  dir,
		Term: "xterm",
		Env:  []string{"A=x y", "B=$HOME 'q' \"d\"", "KVMSCOPE_IN_KVMBOX=0", "GOPROXY=direct"},
		Command: []string{"sh", "-c", `printf '%s|' "$@" "$(pwd)" "$A" "$B" "$TERM" "$KVMSCOPE_IN_KVMBOX" "$GOPROXY" "$GOTOOLCHAIN"`,
			"sh", "a b", "it's", "$HOME", "", "*", "\\n"},
	})
	path := filepath.Join(t.TempDir(), "cmd.sh")
	os.WriteFile(path, []byte(script), 0o600)
	out, err := exec.Command("/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=/root", "/bin/sh", path).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s\nscript:\n%s", err, out, script)
	}
	want := strings.Join([]string{"a b", "it's", "$HOME", "", "*", "\\n", dir, "x y", "$HOME 'q' \"d\"", "xterm", "1", "direct", "local"}, "|") + "|"
	if string(out) != want {
		t.Fatalf("got  %q\nwant %q\nscript:\n%s", out, want, script)
	}
}

func TestCommandScriptStatusAndCd(t *testing.T) {
	script := commandScript(scriptConfig{Dir: "/nonexistent/dir", Command: []string{"true"}})
	path := filepath.Join(t.TempDir(), "cmd.sh")
	os.WriteFile(path, []byte(script), 0o600)
	err := exec.Command("/bin/sh", path).Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 125 {
		t.Fatalf("missing directory: %v, want exit 125", err)
	}
	script = commandScript(scriptConfig{Dir: "/", Command: []string{"sh", "-c", "exit 201"}})
	os.WriteFile(path, []byte(script), 0o600)
	err = exec.Command("/bin/sh", path).Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 201 {
		t.Fatalf("exit 201: %v", err)
	}
}

func TestCommandScriptShellAndTerminal(t *testing.T) {
	s := commandScript(scriptConfig{Dir: "/", Shell: true, Rows: 40, Cols: 120})
	for _, want := range []string{"stty rows 40 cols 120", "exec bash", "exec sh", "export TERM=dumb", "export KVMSCOPE_IN_KVMBOX=1"} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain":     "plain",
		"":          "''",
		"a b":       "'a b'",
		"it's":      `'it'\''s'`,
		"A=1":       "A=1",
		"$x":        "'$x'",
		"/usr/bin/": "/usr/bin/",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
