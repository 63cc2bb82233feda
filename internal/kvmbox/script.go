package kvmbox

import (
	"fmt"
	"strings"
)

// scriptConfig is what the command script inside needs to know.
type scriptConfig struct {
	Dir        string   // working directory inside
	Term       string   // host's TERM
	Env        []string // -e VAR=VAL, in order
	Rows, Cols int      // host terminal size; 0 when not a terminal
	Shell      bool     // interactive shell instead of Command
	Command    []string
}

// defaultEnv are set before the user's -e variables (which may override
// them): there is no network inside, so the go command must neither fetch
// modules nor toolchains, and tests that need KVM must fail rather than
// skip, since the sandbox exists to provide it.
var defaultEnv = []string{"GOTOOLCHAIN=local", "GOPROXY=off", "KVMSCOPE_REQUIRE_KVM=1"}

// inKvmboxEnv is always set, after everything else, so that a program can
// tell it runs in the sandbox.
const inKvmboxEnv = "KVMSCOPE_IN_KVMBOX=1"

// commandScript writes the POSIX sh script that the init runs inside the
// sandbox's root (with PATH and HOME already set). Every word is quoted,
// so the command's arguments arrive exactly as given on the host.
func commandScript(c scriptConfig) string {
	var b strings.Builder
	b.WriteString("# written by kvmbox: runs as root in the sandbox\n")
	fmt.Fprintf(&b, "cd %s || { echo %s >&2; exit 125; }\n",
		shellQuote(c.Dir), shellQuote("kvmbox: cannot enter "+c.Dir+" inside the sandbox"))
	term := c.Term
	if term == "" {
		term = "dumb"
	}
	vars := append([]string{"TERM=" + term}, defaultEnv...)
	vars = append(vars, c.Env...)
	vars = append(vars, inKvmboxEnv)
	for _, v := range vars {
		fmt.Fprintf(&b, "export %s\n", shellQuote(v))
	}
	if c.Rows > 0 && c.Cols > 0 {
		fmt.Fprintf(&b, "stty rows %d cols %d 2>/dev/null\n", c.Rows, c.Cols)
	}
	if c.Shell {
		b.WriteString("if command -v bash >/dev/null 2>&1; then exec bash; fi\nexec sh\n")
		return b.String()
	}
	b.WriteString("exec")
	for _, a := range c.Command {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString("\n")
	return b.String()
}

// shellQuote quotes s as one word for sh.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("_-./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
