package kvmbox

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// kernelMeta is Debian's metapackage for the current generic amd64
// kernel. The generic flavour has 9p (the cloud flavour has only
// virtiofs), which the sandbox's shares need.
const kernelMeta = "linux-image-amd64"

// parseKernelDepends finds the versioned kernel package in the output of
// `apt-cache depends linux-image-amd64` ("  Depends: linux-image-6.1.0-56-amd64").
func parseKernelDepends(out string) (pkg, kver string, err error) {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "|")), "Depends:")
		if !ok {
			continue
		}
		p := strings.Trim(strings.TrimSpace(rest), "<>")
		if v, ok := strings.CutPrefix(p, "linux-image-"); ok && validKernelVersion(v) && !strings.HasSuffix(v, "-unsigned") {
			return p, v, nil
		}
	}
	return "", "", fmt.Errorf("no linux-image-* dependency in the output of apt-cache depends %s", kernelMeta)
}

// kernelPackage asks apt which kernel package linux-image-amd64 stands
// for now.
func kernelPackage(ctx context.Context) (pkg, kver string, err error) {
	out, err := runTool(ctx, "", "apt-cache", "depends", kernelMeta)
	if err != nil {
		return "", "", err
	}
	return parseKernelDepends(out)
}

// downloadKernel fetches pkg's .deb into dir (never installing it: the
// host keeps its own kernel) and unpacks it into dir/root.
func downloadKernel(ctx context.Context, pkg, dir string) (root string, err error) {
	// Root downloads need the _apt sandbox user off, as dir is private.
	if _, err := runTool(ctx, dir, "apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", pkg); err != nil {
		return "", err
	}
	debs, err := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if err != nil || len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s: expected one .deb in %s, found %d", pkg, dir, len(debs))
	}
	root = filepath.Join(dir, "root")
	if _, err := runTool(ctx, "", "dpkg-deb", "-x", debs[0], root); err != nil {
		return "", err
	}
	return root, nil
}
