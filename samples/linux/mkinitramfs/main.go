// Command mkinitramfs builds kvmscope's Linux sample (`make linux-sample`):
// it copies the kernel that `kvmbox setup` fetched and writes the busybox
// initramfs beside it, in samples/linux/build.
//
//	go run ./samples/linux/mkinitramfs [-o DIR] [-kernel BZIMAGE] [-busybox FILE]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kvmscope/kvmscope/internal/kvmbox"
	"github.com/kvmscope/kvmscope/samples/linux"
)

func main() {
	out := flag.String("o", linux.BuildDir, "build folder")
	kernel := flag.String("kernel", "", "the kernel bzImage (default: the one `kvmbox setup` fetched)")
	busybox := flag.String("busybox", "", "a statically linked busybox (default: busybox-static's)")
	flag.Parse()
	if err := run(*out, *kernel, *busybox); err != nil {
		fmt.Fprintf(os.Stderr, "mkinitramfs: %v\n", err)
		os.Exit(1)
	}
}

func run(out, kernel, busybox string) error {
	if kernel == "" {
		c := kvmbox.Cache{Dir: kvmbox.Dir()}
		kver, err := c.KernelVersion()
		if err != nil {
			if errors.Is(err, kvmbox.ErrNotSetUp) {
				return fmt.Errorf("%w: run `bin/kvmbox setup` (or `make setup`) first, or give -kernel", err)
			}
			return err
		}
		kernel = c.Vmlinuz(kver)
	}
	if busybox == "" {
		var err error
		if busybox, err = linux.FindBusybox(); err != nil {
			return err
		}
	}
	k, err := os.ReadFile(kernel)
	if err != nil {
		return fmt.Errorf("read kernel: %w", err)
	}
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return fmt.Errorf("read busybox: %w", err)
	}
	initrd, err := linux.Initramfs(bb, true)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for name, data := range map[string][]byte{linux.KernelName: k, linux.InitrdName: initrd} {
		p := filepath.Join(out, name)
		if err := os.WriteFile(p+".tmp", data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			return err
		}
		fmt.Printf("wrote %s (%.1f MiB)\n", p, float64(len(data))/(1<<20))
	}
	fmt.Printf("from %s and %s; run it with: kvmscope run sample:linux\n", kernel, busybox)
	return nil
}
