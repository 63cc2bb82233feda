package kvmbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/arch/x86/kvm/kvm-amd.ko": "kvm_amd",
		"virtio-rng.ko.xz":               "virtio_rng",
		"9p.ko.zst":                      "9p",
		"kvm_amd":                        "kvm_amd",
		"overlay.ko.gz":                  "overlay",
	} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadOrder(t *testing.T) {
	graph := map[string][]string{
		"kvm_amd":      {"kvm", "ccp"},
		"kvm":          {"irqbypass"},
		"ccp":          nil,
		"irqbypass":    nil,
		"9p":           {"9pnet", "netfs", "fscache"},
		"fscache":      {"netfs"},
		"netfs":        nil,
		"9pnet":        nil,
		"9pnet_virtio": {"9pnet", "virtio_ring", "virtio"},
		"virtio":       nil,
		"virtio_ring":  nil,
	}
	deps := func(n string) ([]string, error) {
		d, ok := graph[n]
		if !ok {
			return nil, fmt.Errorf("module %s not found", n)
		}
		return d, nil
	}
	got, err := loadOrder([]string{"9pnet_virtio", "9p", "kvm-amd"}, deps, map[string]bool{"ccp": true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"9pnet", "virtio_ring", "virtio", "9pnet_virtio", "netfs", "fscache", "9p", "irqbypass", "kvm", "kvm_amd"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order = %v\nwant    %v", got, want)
	}

	graph["irqbypass"] = []string{"kvm_amd"}
	if _, err := loadOrder([]string{"kvm_amd"}, deps, nil); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("cycle: err = %v", err)
	}
	if _, err := loadOrder([]string{"nonesuch"}, deps, nil); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing module: err = %v", err)
	}
}

func modinfo(kv ...string) []byte {
	return []byte(strings.Join(kv, "\x00") + "\x00")
}

func TestModinfoDepends(t *testing.T) {
	m := elfWithSection(".modinfo", modinfo("license=GPL", "depends=kvm,ccp", "name=kvm_amd"))
	got, err := modinfoDepends(m)
	if err != nil || !reflect.DeepEqual(got, []string{"kvm", "ccp"}) {
		t.Fatalf("depends = %v, %v", got, err)
	}
	got, err = modinfoDepends(elfWithSection(".modinfo", modinfo("depends=", "name=virtio")))
	if err != nil || len(got) != 0 {
		t.Fatalf("no depends = %v, %v", got, err)
	}
	if _, err := modinfoDepends(elfWithSection(".text", []byte{0xc3})); err == nil {
		t.Fatal("module without .modinfo accepted")
	}
	if _, err := modinfoDepends([]byte("not an elf")); err == nil {
		t.Fatal("garbage accepted")
	}
}

// TestCollectModules builds a fake lib/modules tree and checks the
// modules come out in load order, builtins skipped.
func TestCollectModules(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("kernel/arch/x86/kvm/kvm-amd.ko", elfWithSection(".modinfo", modinfo("depends=kvm,ccp")))
	write("kernel/arch/x86/kvm/kvm.ko", elfWithSection(".modinfo", modinfo("depends=irqbypass")))
	write("kernel/virt/lib/irqbypass.ko", elfWithSection(".modinfo", modinfo("depends=")))
	write("modules.builtin", []byte("kernel/drivers/crypto/ccp/ccp.ko\n"))
	mods, err := collectModules(context.Background(), dir, []string{"kvm_amd"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mods {
		names = append(names, m.Name)
		if len(m.Data) == 0 {
			t.Errorf("module %s has no data", m.Name)
		}
	}
	if strings.Join(names, " ") != "irqbypass kvm kvm_amd" {
		t.Fatalf("modules = %v", names)
	}
}
