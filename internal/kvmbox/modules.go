package kvmbox

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// sandboxModules are what the sandbox needs from the kernel's modules:
// virtio PCI transport, an entropy source (so nothing in the guest blocks
// on getrandom), the virtio serial port that carries a piped standard
// input, 9p over virtio for the shares, overlayfs for the throw-away
// writable root, and KVM for AMD SVM (the CPU that QEMU emulates).
// Their dependencies are found from each module's .modinfo and loaded
// first; a module built into the kernel is skipped.
var sandboxModules = []string{
	"virtio_pci", "virtio_rng", "virtio_console",
	"9pnet_virtio", "9p", "overlay",
	"kvm_amd",
}

// moduleName is a module's name as the kernel knows it: the file name
// without .ko and compression suffix, dashes as underscores.
func moduleName(file string) string {
	base := filepath.Base(file)
	for _, s := range []string{".xz", ".zst", ".gz"} {
		base = strings.TrimSuffix(base, s)
	}
	base = strings.TrimSuffix(base, ".ko")
	return strings.ReplaceAll(base, "-", "_")
}

func isModuleFile(name string) bool {
	for _, s := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// indexModules maps each module name to its file under modDir
// (lib/modules/KVER of an extracted kernel package).
func indexModules(modDir string) (map[string]string, error) {
	idx := map[string]string{}
	err := filepath.WalkDir(filepath.Join(modDir, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isModuleFile(d.Name()) {
			idx[moduleName(d.Name())] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index kernel modules: %w", err)
	}
	return idx, nil
}

// builtinModules reads modules.builtin: modules compiled into the kernel,
// which need (and have) no file to load.
func builtinModules(modDir string) (map[string]bool, error) {
	f, err := os.Open(filepath.Join(modDir, "modules.builtin"))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read builtin modules: %w", err)
	}
	defer f.Close()
	b := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			b[moduleName(line)] = true
		}
	}
	return b, sc.Err()
}

// readModule returns a module's ELF bytes, decompressing as its suffix
// says (xz and zstd through their tools, gzip in Go).
func readModule(ctx context.Context, path string) ([]byte, error) {
	var tool []string
	switch {
	case strings.HasSuffix(path, ".xz"):
		tool = []string{"xz", "-dc", path}
	case strings.HasSuffix(path, ".zst"):
		tool = []string{"zstd", "-qdc", path}
	case strings.HasSuffix(path, ".gz"):
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read module: %w", err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("read module %s: %w", path, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("read module %s: %w", path, err)
		}
		return b, nil
	default:
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read module: %w", err)
		}
		return b, nil
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, tool[0], tool[1:]...)
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("decompress module %s with %s: %w: %s", path, tool[0], err, bytes.TrimSpace(stderr.Bytes()))
	}
	return b, nil
}

// modinfoDepends reads the "depends=" entry of a module's .modinfo
// section: the modules it needs loaded first. This is what depmod reads
// to write modules.dep, which Debian's kernel package does not ship.
func modinfoDepends(module []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(module))
	if err != nil {
		return nil, fmt.Errorf("parse module: %w", err)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, errors.New("parse module: no .modinfo section")
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("parse module .modinfo: %w", err)
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		v, ok := bytes.CutPrefix(kv, []byte("depends="))
		if !ok {
			continue
		}
		var deps []string
		for _, d := range strings.Split(string(v), ",") {
			if d = strings.TrimSpace(d); d != "" {
				deps = append(deps, moduleName(d))
			}
		}
		return deps, nil
	}
	return nil, nil
}

// loadOrder returns want and everything it depends on, each after its
// own dependencies, without duplicates. deps gives one module's direct
// dependencies; builtin modules are left out.
func loadOrder(want []string, deps func(string) ([]string, error), builtin map[string]bool) ([]string, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var order []string
	var visit func(name string, chain []string) error
	visit = func(name string, chain []string) error {
		name = moduleName(name)
		if builtin[name] {
			return nil
		}
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("module dependency cycle: %s", strings.Join(append(chain, name), " -> "))
		}
		state[name] = visiting
		ds, err := deps(name)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if err := visit(d, append(chain, name)); err != nil {
				return err
			}
		}
		state[name] = done
		order = append(order, name)
		return nil
	}
	for _, w := range want {
		if err := visit(w, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// kernelModule is one module ready to go into the initramfs.
type kernelModule struct {
	Name string
	Data []byte
}

// collectModules reads the sandbox's modules and their dependencies from
// an extracted kernel tree, in load order.
func collectModules(ctx context.Context, modDir string, want []string) ([]kernelModule, error) {
	idx, err := indexModules(modDir)
	if err != nil {
		return nil, err
	}
	builtin, err := builtinModules(modDir)
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	deps := func(name string) ([]string, error) {
		p, ok := idx[name]
		if !ok {
			return nil, fmt.Errorf("module %s not found under %s", name, modDir)
		}
		b, err := readModule(ctx, p)
		if err != nil {
			return nil, err
		}
		data[name] = b
		ds, err := modinfoDepends(b)
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", name, err)
		}
		return ds, nil
	}
	order, err := loadOrder(want, deps, builtin)
	if err != nil {
		return nil, err
	}
	mods := make([]kernelModule, 0, len(order))
	for _, name := range order {
		mods = append(mods, kernelModule{Name: name, Data: data[name]})
	}
	return mods, nil
}
