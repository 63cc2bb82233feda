package kvmbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Defaults of the sandbox's size and time limit.
const (
	DefaultMemory  = "4G"
	DefaultCPUs    = 2
	DefaultTimeout = 1800 * time.Second
)

// Options describe one sandboxed command.
type Options struct {
	Command  []string      // program and arguments; empty when Shell
	Shell    bool          // an interactive shell instead of Command
	Writable []string      // host folders shared writable at the same path
	Dir      string        // working directory inside; "" picks one (see defaultDir)
	Env      []string      // extra VAR=VAL for the command
	Timeout  time.Duration // wall-clock limit of the whole sandbox
	Memory   string        // guest RAM in QEMU's -m syntax
	CPUs     int           // vCPUs
	Verbose  bool          // report timings on Stderr

	Stdin  *os.File  // nil: os.Stdin
	Stdout io.Writer // nil: os.Stdout
	Stderr io.Writer // nil: os.Stderr; QEMU's own messages and kvmbox's
}

var (
	memoryRE  = regexp.MustCompile(`^[1-9][0-9]*[kKmMgGtT]?$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// withDefaults fills what the caller left zero.
func (o Options) withDefaults() Options {
	if o.Memory == "" {
		o.Memory = DefaultMemory
	}
	if o.CPUs == 0 {
		o.CPUs = DefaultCPUs
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	return o
}

// Validate checks options before anything starts, so that a typo is
// reported as such and not as a failed boot.
func (o Options) Validate() error {
	if o.Shell && len(o.Command) > 0 {
		return errors.New("a shell (-s) takes no command")
	}
	if !o.Shell && len(o.Command) == 0 {
		return errors.New("no command to run")
	}
	if o.Memory != "" && !memoryRE.MatchString(o.Memory) {
		return fmt.Errorf("bad memory size %q (want e.g. 4G or 512M)", o.Memory)
	}
	if o.CPUs < 0 || o.CPUs > 64 {
		return fmt.Errorf("bad CPU count %d (want 1 to 64)", o.CPUs)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("bad timeout %v", o.Timeout)
	}
	for _, e := range o.Env {
		name, _, ok := strings.Cut(e, "=")
		if !ok || !envNameRE.MatchString(name) {
			return fmt.Errorf("bad environment variable %q (want VAR=VALUE)", e)
		}
	}
	for _, p := range append(append([]string{}, o.Writable...), o.Dir) {
		if strings.ContainsAny(p, "\n\x00") {
			return fmt.Errorf("bad path %q", p)
		}
	}
	return nil
}

// resolveShares turns -w folders into absolute, symlink-free paths (the
// init mounts each at the same path inside) with their mount tags.
func resolveShares(dirs []string) ([]share, error) {
	var shares []share
	for i, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("writable folder %s: %w", d, err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("writable folder %s: %w", d, err)
		}
		fi, err := os.Stat(real)
		if err != nil {
			return nil, fmt.Errorf("writable folder %s: %w", d, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("writable folder %s: not a directory", d)
		}
		if real == "/" {
			return nil, errors.New("writable folder /: the root cannot be shared writable")
		}
		shares = append(shares, share{Tag: fmt.Sprintf("kvmboxw%d", i), Path: real})
	}
	return shares, nil
}

// hiddenInside are host folders the sandbox covers with fresh tmpfs
// mounts: a working directory there would be empty inside.
var hiddenInside = []string{"/tmp", "/run", "/var/tmp"}

// defaultDir picks the working directory inside: the host's current
// directory when the sandbox shows it (shared writable, or part of the
// read-only root and not under a folder that is a fresh tmpfs inside),
// else the first writable folder, else /.
func defaultDir(pwd string, shares []share) string {
	for _, s := range shares {
		if within(pwd, s.Path) {
			return pwd
		}
	}
	hidden := false
	for _, h := range hiddenInside {
		if within(pwd, h) {
			hidden = true
		}
	}
	if !hidden && pwd != "" {
		return pwd
	}
	if len(shares) > 0 {
		return shares[0].Path
	}
	return "/"
}

// within tells whether path is dir or below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}
