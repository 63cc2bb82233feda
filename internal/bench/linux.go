package bench

// The Linux rows: the Linux sample (samples/linux) boots once per
// extension set and its init runs /bin/kvmscope-bench, which writes a
// marker line on the console before each in-guest workload and waits for
// the host's go-ahead. The host reads the exit counters at the go-ahead
// and again where the next marker line starts, so each workload's window
// holds its own exits and neither the markers' console bytes nor the
// host's reaction time. What remains of the handshake (the go-ahead's
// receive interrupt, the shell's loop, the newline before the next marker:
// some 20 exits to kvmscope) is measured by itself as the "null" step and
// subtracted from each workload's window, as the firmware rows subtract a
// run with no operations. Boot is the window from power-on to init's
// banner.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kvmscope/kvmscope/samples/linux"
	"github.com/kvmscope/kvmscope/vmm"
)

// linuxConfigs are the extension sets the Linux rows run under: what
// kvmscope does by default; all of them, which adds hlt-passthrough; and
// none, where kvmscope's own PIC and PIT deliver every interrupt (and,
// without a local APIC, one vCPU only).
var linuxConfigs = []Config{
	{Name: "default", Ext: "default"},
	{Name: "all", Ext: "all"},
	{Name: "none", Ext: "none"},
}

// linuxBaseline is the config a Linux row's slowdown is measured against:
// kvmscope's default, so that the slowdown says what switching the rest
// on (all) or everything off (none) costs. (All is no steadier a base:
// with hlt-passthrough an idle guest keeps its host CPU busy.)
const linuxBaseline = "default"

// LinuxGroup names all the Linux workloads at once.
const LinuxGroup = "linux"

// linuxBoot is the Linux workload that is no step of the script.
const linuxBoot = "boot"

// nullStep is the script's step that does nothing: the cost of a window.
const nullStep = "null"

// bannerPrefix starts the line init prints when it starts (samples/linux/init).
const bannerPrefix = "kvmscope-linux: init at "

// markerPrefix starts kvmscope-bench's marker lines: "@@kvmscope-bench NAME N".
const markerPrefix = "@@kvmscope-bench "

// linuxTimeout bounds one boot with its workloads at --scale 1; the
// sandbox's emulated CPU needs under a minute.
const linuxTimeout = 5 * time.Minute

// reading is the exit counters at one moment.
type reading struct {
	at          time.Time
	user, total uint64 // exits to kvmscope; all exits (KVM's count)
	err         error
}

// readCounters reads a machine's exit counters now.
func readCounters(m *vmm.Machine) reading {
	user, total, err := exitCounts(m)
	return reading{at: time.Now(), user: user, total: total, err: err}
}

// consoleEvent is a line of interest on the guest's console: init's banner
// (name "boot") or a marker, with the counters where its line started
// (a marker) or ended (the banner).
type consoleEvent struct {
	name string
	n    uint64
	r    reading
}

// linuxConsole is the guest's console during a Linux run. The UART writes
// each byte on the vCPU thread while it handles the guest's OUT, so a
// reading taken in Write sees the guest stopped exactly there.
type linuxConsole struct {
	read   func() reading // the machine's counters; set before the run
	events chan consoleEvent

	mu        sync.Mutex
	line      []byte  // the current line, its first maxLine bytes
	lineStart reading // taken at a '@' that starts a line
	started   bool    // lineStart belongs to the current line
	tail      []byte  // the last tailSize bytes, for error messages
}

const (
	maxLine  = 256
	tailSize = 4096
)

func newLinuxConsole() *linuxConsole {
	return &linuxConsole{events: make(chan consoleEvent, 16)}
}

func (c *linuxConsole) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tail = append(c.tail, p...)
	if len(c.tail) > 2*tailSize {
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-tailSize:]...)
	}
	for _, ch := range p {
		if ch == '@' && len(c.line) == 0 {
			c.lineStart, c.started = c.read(), true
		}
		if ch != '\n' {
			if len(c.line) < maxLine {
				c.line = append(c.line, ch)
			}
			continue
		}
		line := strings.TrimSpace(string(c.line))
		start, started := c.lineStart, c.started
		c.line, c.started = c.line[:0], false
		if strings.HasPrefix(line, bannerPrefix) {
			c.send(consoleEvent{name: linuxBoot, n: 1, r: c.read()})
			continue
		}
		i := strings.Index(line, markerPrefix)
		if i < 0 {
			continue
		}
		f := strings.Fields(line[i+len(markerPrefix):])
		if len(f) != 2 {
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			continue
		}
		if !started || i > 0 {
			// Something else began the line: count the marker's bytes
			// rather than lose the reading.
			start = c.read()
		}
		c.send(consoleEvent{name: f[0], n: n, r: start})
	}
	return len(p), nil
}

// send never blocks the vCPU: the script waits after each marker, so a
// full channel means the host has stopped listening.
func (c *linuxConsole) send(e consoleEvent) {
	select {
	case c.events <- e:
	default:
	}
}

// Tail returns the end of the console output.
func (c *linuxConsole) Tail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.tail[max(0, len(c.tail)-tailSize):])
}

// window is one workload's share of a Linux run.
type window struct {
	n           uint64
	time        time.Duration
	user, total uint64
}

// runLinux boots the Linux sample once per config and returns a row for
// each Linux workload under each config, workload by workload.
func runLinux(ctx context.Context, s linux.Sample, ws []Workload, scale float64, progress io.Writer) ([]Result, error) {
	kernel, err := os.ReadFile(s.Kernel)
	if err != nil {
		return nil, fmt.Errorf("read the Linux sample's kernel: %w", err)
	}
	initrd, err := os.ReadFile(s.Initrd)
	if err != nil {
		return nil, fmt.Errorf("read the Linux sample's initramfs: %w", err)
	}
	steps := []string{nullStep, "0"}
	var configs []Config
	for _, w := range ws {
		if w.Linux != linuxBoot {
			steps = append(steps, w.Linux, strconv.FormatUint(scaled(w.N, scale), 10))
		}
		for _, c := range w.Configs {
			if !containsConfig(configs, c) {
				configs = append(configs, c)
			}
		}
	}
	cmd := linux.BenchCommand(steps...)
	timeout := time.Duration(float64(linuxTimeout) * max(scale, 1))
	byConfig := map[string]map[string]window{}
	for _, c := range configs {
		wins, err := bootLinux(ctx, kernel, initrd, c, cmd, timeout, progress)
		if err != nil {
			return nil, fmt.Errorf("linux, --ext %s: %w", c.Ext, err)
		}
		byConfig[c.Name] = wins
	}
	var out []Result
	for _, w := range ws {
		for _, c := range w.Configs {
			win, ok := byConfig[c.Name][w.Linux]
			null, nullOK := byConfig[c.Name][nullStep]
			if !ok || !nullOK {
				return nil, fmt.Errorf("linux, --ext %s: no measurement of %s", c.Ext, w.Name)
			}
			if w.Linux != linuxBoot {
				win.time = max(win.time-null.time, 0)
				win.user, win.total = sub(win.user, null.user), sub(win.total, null.total)
			}
			n := max(win.n, 1)
			user := float64(win.user) / float64(n)
			out = append(out, Result{
				Workload: w.Name, Config: c.Name, Extension: c.Extension, On: c.On, N: win.n,
				TimePerOp:        win.time / time.Duration(n),
				UserExitsPerOp:   user,
				KernelExitsPerOp: max(float64(win.total)/float64(n)-user, 0),
			})
		}
	}
	return out, nil
}

func containsConfig(cs []Config, c Config) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// bootLinux boots the sample under one config, runs cmd as init's command
// and returns each workload's window, by script step name and "boot".
func bootLinux(ctx context.Context, kernel, initrd []byte, c Config, cmd string, timeout time.Duration, progress io.Writer) (map[string]window, error) {
	console := newLinuxConsole()
	m, err := vmm.New(vmm.Config{
		MemSize: linux.MemSize, CPUs: 1, Ext: c.Ext, Console: console, Initrd: initrd,
		Cmdline: linux.CmdlineWith(cmd),
	})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if _, err := m.Load(kernel); err != nil {
		return nil, fmt.Errorf("load the Linux sample's kernel: %w", err)
	}
	console.read = func() reading { return readCounters(m) }
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fmt.Fprintf(progress, "\rbench: linux     %-22s booting        ", c.Name)
	start := time.Now()
	done := make(chan vmm.Stop, 1)
	go func() { done <- m.Run(ctx) }()

	wins := map[string]window{}
	var cur consoleEvent // the running workload's marker
	var goAhead reading  // the counters when it started
	failed := func(err error) (map[string]window, error) {
		cancel()
		<-done
		return nil, err
	}
	for {
		select {
		case stop := <-done:
			return nil, fmt.Errorf("the guest stopped before its workloads ended: %v; its console ends:\n%s", &stop, console.Tail())
		case ev := <-console.events:
			if ev.r.err != nil {
				return failed(ev.r.err)
			}
			if ev.name == linuxBoot {
				wins[linuxBoot] = window{n: 1, time: ev.r.at.Sub(start), user: ev.r.user, total: ev.r.total}
				continue
			}
			if cur.name != "" {
				wins[cur.name] = window{
					n: cur.n, time: ev.r.at.Sub(goAhead.at),
					user: sub(ev.r.user, goAhead.user), total: sub(ev.r.total, goAhead.total),
				}
			}
			cur = ev
			fmt.Fprintf(progress, "\rbench: linux     %-22s %-7s N=%-6d", c.Name, ev.name, ev.n)
			if goAhead = readCounters(m); goAhead.err != nil {
				return failed(goAhead.err)
			}
			m.Serial().Input([]byte("\n"))
			if ev.name != "end" {
				continue
			}
			stop := <-done
			if stop.Kind != vmm.StopGuestExit || stop.Status != 0 {
				return nil, fmt.Errorf("the guest ended with %v, want a guest exit with status 0; its console ends:\n%s", &stop, console.Tail())
			}
			if _, ok := wins[linuxBoot]; !ok {
				return nil, errors.New("init's banner never came: is the sample's init kvmscope's? (make linux-sample)")
			}
			return wins, nil
		}
	}
}

// sub is a-b, or 0 where a counter went backwards.
func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}
