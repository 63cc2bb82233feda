package kvmbox

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// qemuPackage provides qemu-system-x86_64. Version 10 is the minimum:
// 7.2 (plain bookworm) ignores debug-register breakpoints in the nested
// guest.
const (
	qemuPackage  = "qemu-system-x86"
	qemuMinMajor = 10
)

// toolPackages are the other packages setup needs: a static busybox for
// the init, kmod for module tools, xz and zstd to decompress the kernel
// and its modules, cpio to inspect an initramfs by hand.
var toolPackages = []string{"busybox-static", "cpio", "kmod", "xz-utils", "zstd"}

// installedVersions asks dpkg which of pkgs are installed, and at which
// version. Packages dpkg has never heard of are simply absent.
func installedVersions(ctx context.Context, pkgs []string) map[string]string {
	args := append([]string{"-W", "-f", "${Package}\t${db:Status-Status}\t${Version}\n"}, pkgs...)
	out, _ := runTool(ctx, "", "dpkg-query", args...) // exits 1 when one is unknown
	return parseDpkgQuery(out)
}

func parseDpkgQuery(out string) map[string]string {
	v := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 3 && f[1] == "installed" {
			v[strings.Split(f[0], ":")[0]] = f[2]
		}
	}
	return v
}

// upstreamMajor is the major upstream version of a Debian version string
// such as "1:10.0.2+ds-2+deb13u1~bpo12+1" (10), or -1.
func upstreamMajor(debVersion string) int {
	v := debVersion
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if end >= 0 {
		v = v[:end]
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// packageState says what is missing from a dpkg query result.
type packageState struct {
	QEMUVersion string   // installed version, "" if none
	QEMUOld     bool     // installed but older than qemuMinMajor
	Missing     []string // tool packages not installed
}

func checkPackages(installed map[string]string) packageState {
	var s packageState
	s.QEMUVersion = installed[qemuPackage]
	s.QEMUOld = s.QEMUVersion != "" && upstreamMajor(s.QEMUVersion) < qemuMinMajor
	for _, p := range toolPackages {
		if _, ok := installed[p]; !ok {
			s.Missing = append(s.Missing, p)
		}
	}
	return s
}

func (s packageState) qemuOK() bool { return s.QEMUVersion != "" && !s.QEMUOld }

func (s packageState) complete() bool { return s.qemuOK() && len(s.Missing) == 0 }

// qemuBinaryOK checks the binary itself, for hosts where QEMU came from
// elsewhere than the package.
func qemuBinaryOK(ctx context.Context) (string, error) {
	p, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return "", fmt.Errorf("qemu-system-x86_64 not found")
	}
	out, err := runTool(ctx, "", p, "--version")
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(out, "\n")
	f := strings.Fields(first)
	for i, w := range f {
		if w == "version" && i+1 < len(f) {
			if upstreamMajor(f[i+1]) < qemuMinMajor {
				return f[i+1], fmt.Errorf("%s is QEMU %s, kvmbox needs %d or newer", p, f[i+1], qemuMinMajor)
			}
			return f[i+1], nil
		}
	}
	return "", fmt.Errorf("cannot read the version of %s from %q", p, first)
}
