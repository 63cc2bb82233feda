package kut

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Test is one [section] of unittests.cfg.
type Test struct {
	Name   string
	File   string   // the .flat, relative to the x86 directory
	SMP    int      // vCPUs; 1 when not given
	Args   []string // test_args: the kernel's arguments (QEMU's -append)
	Params []string // qemu_params or extra_params, split as the shell would
	Arch   string   // "", "x86_64" or "i386"
	Groups []string
	// Timeout is the test's time limit; DefaultTimeout when not given.
	Timeout time.Duration
	Accel   string // "", "kvm" or "tcg"
	Check   []string
	// DisabledIf is a bash condition the suite evaluates; kvmscope does
	// not run bash, so such a test is reported, not run.
	DisabledIf string
	// Unusable says why a value of the test could not be read (one that
	// needs the shell to run a command, like test_args = "`date +%s`"):
	// such a test is reported, not run; the other tests still are.
	Unusable string
	Line     int // of the section header, for messages
}

// DefaultTimeout is scripts/runtime.bash's, for a test without timeout=.
const DefaultTimeout = 90 * time.Second

// InGroup reports whether the test is in group g.
func (t *Test) InGroup(g string) bool {
	for _, x := range t.Groups {
		if x == g {
			return true
		}
	}
	return false
}

var (
	sectionRE = regexp.MustCompile(`^\[(.*)\]$`)
	keyRE     = regexp.MustCompile(`^([a-z_]+) *= *(.*)$`)
)

// Parse reads unittests.cfg as for_each_unittest does: a line "[name]"
// starts a test, "key = value" lines set its fields, anything else
// (comments, blank lines) is ignored. A qemu_params or extra_params value
// that starts with """ runs to the line that ends with """; one never
// closed is an error. A value kvmscope cannot read makes its test
// Unusable, naming the line.
func Parse(r io.Reader) ([]Test, error) {
	var tests []Test
	var cur *Test
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if m := sectionRE.FindStringSubmatch(text); m != nil {
			tests = append(tests, Test{Name: m[1], SMP: 1, Timeout: DefaultTimeout, Line: line})
			cur = &tests[len(tests)-1]
			continue
		}
		m := keyRE.FindStringSubmatch(text)
		if m == nil || cur == nil {
			continue
		}
		key, val := m[1], m[2]
		if (key == "qemu_params" || key == "extra_params") && strings.HasPrefix(val, `"""`) {
			val = strings.TrimPrefix(val, `"""`)
			start := line
			for !strings.HasSuffix(strings.TrimSpace(val), `"""`) {
				if !sc.Scan() {
					return nil, fmt.Errorf("line %d: %s = \"\"\" is never closed", start, key)
				}
				line++
				val = strings.TrimSuffix(val, `\`) + "\n" + sc.Text()
			}
			val = strings.TrimSuffix(strings.TrimSpace(val), `"""`)
		}
		if err := cur.set(key, val); err != nil && cur.Unusable == "" {
			cur.Unusable = fmt.Sprintf("line %d: %s: %v", line, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return tests, nil
}

// set applies one key. Unknown keys are ignored, as the suite does.
func (t *Test) set(key, val string) error {
	var err error
	switch key {
	case "file":
		t.File = val
	case "smp":
		words, err := Split(val)
		if err != nil {
			return err
		}
		if len(words) != 1 {
			return fmt.Errorf("%q is not a number of vCPUs", val)
		}
		n, err := strconv.Atoi(words[0])
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a number of vCPUs (kvmscope does not evaluate shell expressions)", val)
		}
		t.SMP = n
	case "test_args":
		t.Args, err = Split(val)
	case "qemu_params", "extra_params":
		t.Params, err = Split(val)
	case "arch":
		t.Arch = val
	case "groups":
		t.Groups = strings.Fields(val)
	case "timeout":
		t.Timeout, err = parseTimeout(val)
	case "accel":
		t.Accel = val
	case "check":
		t.Check = strings.Fields(val)
	case "disabled_if":
		t.DisabledIf = val
	}
	return err
}

// parseTimeout reads timeout(1)'s durations: a number with an optional
// s, m, h or d suffix (seconds when none).
func parseTimeout(s string) (time.Duration, error) {
	unit := time.Second
	num := s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 's':
			num = s[:n-1]
		case 'm':
			unit, num = time.Minute, s[:n-1]
		case 'h':
			unit, num = time.Hour, s[:n-1]
		case 'd':
			unit, num = 24*time.Hour, s[:n-1]
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a duration like 90s or 2m", s)
	}
	return time.Duration(f * float64(unit)), nil
}
