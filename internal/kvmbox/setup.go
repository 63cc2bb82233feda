package kvmbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// setupRun carries one `kvmbox setup` through its steps.
type setupRun struct {
	ctx     context.Context
	out     io.Writer
	cache   Cache
	host    osRelease
	updated bool // apt-get update ran in this setup
}

// say prints one step line.
func (s *setupRun) say(format string, args ...any) {
	fmt.Fprintf(s.out, "kvmbox setup: "+format+"\n", args...)
}

// Setup makes the host ready to run the sandbox: it installs QEMU >= 10
// and the tools with apt (QEMU from bookworm-backports on Debian
// bookworm), then builds the kernel and initramfs into the cache (Dir()).
// Every step checks first whether it is already done, so a second run
// only looks and says so. It needs root and apt-get.
func Setup(ctx context.Context, out io.Writer) error {
	if os.Geteuid() != 0 {
		return errors.New("setup installs packages and writes " + Dir() + ": run it as root (sudo kvmbox setup)")
	}
	s := &setupRun{ctx: ctx, out: out, cache: Cache{Dir: Dir()}, host: readOSRelease("/etc/os-release")}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("apt-get not found on %s: kvmbox setup works on Debian and Ubuntu (supported: Debian bookworm), "+
			"where it installs its tools and fetches Debian's %s kernel; %s", s.host.Pretty, kernelMeta, missingTools())
	}
	support := "supported"
	if !s.host.isBookworm() {
		support = "not Debian bookworm: packages come from its own release, QEMU may be too old"
	}
	s.say("host: %s (%s)", s.host.Pretty, support)
	if err := s.packages(); err != nil {
		return err
	}
	if err := s.kernel(); err != nil {
		return err
	}
	return nil
}

// packages installs what is missing.
func (s *setupRun) packages() error {
	all := append([]string{qemuPackage}, toolPackages...)
	state := checkPackages(installedVersions(s.ctx, all))
	if state.complete() {
		s.say("packages: already installed (%s %s, %s)", qemuPackage, state.QEMUVersion, strings.Join(toolPackages, ", "))
		return nil
	}
	if !state.qemuOK() && s.host.isBookworm() {
		if err := s.backports(); err != nil {
			return err
		}
	}
	if err := s.aptUpdate(); err != nil {
		return err
	}
	if !state.qemuOK() {
		args := []string{"install", "-y", "-q", "--no-install-recommends"}
		from := "the default release"
		if s.host.isBookworm() {
			args = append(args, "-t", "bookworm-backports")
			from = "bookworm-backports"
		}
		s.say("packages: installing %s from %s", qemuPackage, from)
		if _, err := runTool(s.ctx, "", "apt-get", append(args, qemuPackage)...); err != nil {
			return err
		}
	}
	if len(state.Missing) > 0 {
		s.say("packages: installing %s", strings.Join(state.Missing, ", "))
		args := append([]string{"install", "-y", "-q", "--no-install-recommends"}, state.Missing...)
		if _, err := runTool(s.ctx, "", "apt-get", args...); err != nil {
			return err
		}
	}
	state = checkPackages(installedVersions(s.ctx, all))
	if len(state.Missing) > 0 {
		return fmt.Errorf("packages still missing after apt-get install: %s", strings.Join(state.Missing, ", "))
	}
	if !state.qemuOK() {
		have := state.QEMUVersion
		if have == "" {
			have = "none"
		}
		return fmt.Errorf("%s >= %d is missing (installed: %s): %s offers no QEMU that new; "+
			"kvmbox setup supports Debian bookworm, where it comes from bookworm-backports", qemuPackage, qemuMinMajor, have, s.host.Pretty)
	}
	v, err := qemuBinaryOK(s.ctx)
	if err != nil {
		return err
	}
	s.say("packages: installed (QEMU %s)", v)
	return nil
}

// backports adds a bookworm-backports entry on the mirror of the
// machine's bookworm entry, unless apt has one already.
func (s *setupRun) backports() error {
	files, err := readAptSources()
	if err != nil {
		return err
	}
	path, content, err := backportsSource(files, "bookworm")
	if err != nil {
		return err
	}
	if path == "" {
		s.say("apt sources: bookworm-backports already configured")
		return nil
	}
	if err := writeFileAtomic(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("add bookworm-backports: %w", err)
	}
	s.say("apt sources: added bookworm-backports in %s", path)
	return nil
}

// aptUpdate refreshes apt's lists, once per setup.
func (s *setupRun) aptUpdate() error {
	if s.updated {
		return nil
	}
	s.say("apt: updating package lists")
	if _, err := runTool(s.ctx, "", "apt-get", "update", "-q"); err != nil {
		return err
	}
	s.updated = true
	return nil
}

// kernel builds the cache for the kernel that linux-image-amd64 names,
// unless it is there already.
func (s *setupRun) kernel() error {
	pkg, kver, err := kernelPackage(s.ctx)
	if err != nil && !s.updated {
		// Fresh machines often have no (or stale) package lists.
		if err := s.aptUpdate(); err != nil {
			return err
		}
		pkg, kver, err = kernelPackage(s.ctx)
	}
	if err != nil {
		return fmt.Errorf("find the kernel package: %w", err)
	}
	if have, err := s.cache.Ready(); err == nil && have == kver {
		s.say("kernel: %s already built in %s", kver, s.cache.Dir)
		return nil
	}
	if err := os.MkdirAll(s.cache.Dir, 0o755); err != nil {
		return fmt.Errorf("create cache: %w", err)
	}
	work, err := os.MkdirTemp(s.cache.Dir, ".build-")
	if err != nil {
		return fmt.Errorf("create build folder: %w", err)
	}
	defer os.RemoveAll(work)
	s.say("kernel: downloading and unpacking %s (not installing it)", pkg)
	root, err := downloadKernel(s.ctx, pkg, work)
	if err != nil {
		return err
	}
	if err := buildKernelFiles(s.ctx, s.cache, root, kver, s.say); err != nil {
		return err
	}
	if err := writeFileAtomic(s.cache.KernelFile(), []byte(kver+"\n"), 0o644); err != nil {
		return fmt.Errorf("record kernel version: %w", err)
	}
	s.removeOtherKernels(kver)
	s.say("kernel: %s ready in %s", kver, s.cache.Dir)
	return nil
}

// removeOtherKernels deletes the cache files of kernels other than kver,
// left by an earlier setup.
func (s *setupRun) removeOtherKernels(kver string) {
	keep := map[string]bool{}
	for _, p := range []string{s.cache.Vmlinux(kver), s.cache.Vmlinuz(kver), s.cache.Config(kver), s.cache.Initrd(kver)} {
		keep[filepath.Base(p)] = true
	}
	entries, _ := os.ReadDir(s.cache.Dir)
	for _, e := range entries {
		n := e.Name()
		for _, prefix := range []string{"vmlinux-", "vmlinuz-", "config-", "initrd-"} {
			if strings.HasPrefix(n, prefix) && !keep[n] {
				if os.Remove(filepath.Join(s.cache.Dir, n)) == nil {
					s.say("kernel: removed %s of an older kernel", n)
				}
			}
		}
	}
}

// missingTools lists, for a host setup cannot serve, which of the
// commands the sandbox needs are not there.
func missingTools() string {
	var missing []string
	for _, t := range []struct{ cmd, what string }{
		{"qemu-system-x86_64", fmt.Sprintf("qemu-system-x86_64 (QEMU >= %d)", qemuMinMajor)},
		{"busybox", "busybox (statically linked)"},
		{"xz", "xz"},
		{"zstd", "zstd"},
		{"dpkg-deb", "dpkg-deb"},
	} {
		if _, err := exec.LookPath(t.cmd); err != nil {
			missing = append(missing, t.what)
		}
	}
	if len(missing) == 0 {
		return "the tools are there, but the kernel package cannot be fetched without apt"
	}
	return "missing here: " + strings.Join(missing, ", ")
}
