package vmm

import (
	"fmt"
	"io"
)

// Limits of the machine kvmscope builds.
const (
	DefaultMemSize = 64 * MiB
	MinMemSize     = 1 * MiB // the firmware area below 1 MiB must be RAM
	MaxCPUs        = 64
)

// Config describes a machine to build.
type Config struct {
	MemSize uint64    // guest RAM in bytes
	CPUs    int       // vCPUs; 1 boots, the others wait for INIT/SIPI
	Console io.Writer // the serial port's output (nil: discarded)

	// Ext chooses the host extensions as --ext does ("" is the default:
	// every one the host offers but hlt-passthrough).
	Ext string
	// HaltPollNS is how long KVM polls a halted vCPU with halt-poll on
	// (0: KVM's own default).
	HaltPollNS uint64

	// Cmdline and Initrd are a Linux kernel's command line ("" means
	// boot.DefaultCmdline) and initial RAM disk (nil: none), or a
	// multiboot kernel's arguments and module 1. Load refuses them for
	// other images.
	Cmdline string
	Initrd  []byte
	// ImageName is the image's file name: a multiboot kernel's command
	// line starts with it, as under GRUB and QEMU.
	ImageName string

	// DropROMWrites makes a write to read-only memory (firmware ROM) do
	// what hardware does: nothing (it is counted, and reported when the
	// run ends). By default such a write is a guest fault, as a wild
	// pointer usually is.
	DropROMWrites bool

	// TraceExits reads KVM's own kvm_exit/kvm_entry events from tracefs
	// while the guest runs, for the per-hardware-reason table
	// (ExitReasons). It needs root and a mounted tracefs; without them
	// the machine runs and ExitReasons says why there is no table. It
	// costs the kernel two or three trace events per exit and a reader
	// thread (at the lowest priority).
	TraceExits bool

	// StartPaused parks every vCPU before its first instruction.
	StartPaused bool
	// Debug, when set, receives debug exits and parks (package debug).
	Debug DebugHooks
}

// Validate checks the configuration against the host, so that an
// impossible request is refused before any KVM call.
func (c *Config) Validate() error {
	if c.MemSize < MinMemSize {
		return fmt.Errorf("--mem %s: at least %s needed", FormatSize(c.MemSize), FormatSize(MinMemSize))
	}
	if c.MemSize%(4*KiB) != 0 {
		return fmt.Errorf("--mem %d bytes: not a multiple of the 4 KiB page", c.MemSize)
	}
	host, err := HostMemory()
	if err == nil && c.MemSize > host {
		return fmt.Errorf("--mem %s is more than this host's %s of RAM", FormatSize(c.MemSize), FormatSize(host))
	}
	if c.CPUs < 1 || c.CPUs > MaxCPUs {
		return fmt.Errorf("--cpus %d: want 1 to %d vCPUs", c.CPUs, MaxCPUs)
	}
	ext, err := ParseExtensions(c.Ext)
	if err != nil {
		return err
	}
	if !ext.Has(ExtIRQChip) && c.CPUs > 1 {
		return fmt.Errorf("--cpus %d without the in-kernel irqchip: kvmscope's own PIC has no local APIC, so no SMP (use --cpus 1, or keep irqchip)", c.CPUs)
	}
	return nil
}
