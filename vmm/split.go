package vmm

import (
	"strings"

	"github.com/kvmscope/kvmscope/vmm/exitstats"
)

// ExitSplit says, per kind of exit, how many KVM handled itself and how
// many came to kvmscope: the question King, Dunlap and Chen asked of
// their host extensions, asked of KVM. It joins KVM's own counters (every
// exit) with kvmscope's table (the exits that reached user space). Nil
// when the host has no binary stats fd.
func (m *Machine) ExitSplit() ([]exitstats.SplitRow, error) {
	ks, err := m.KernelStats()
	if err != nil || len(ks) == 0 {
		return nil, err
	}
	var user struct{ io, mmio, hlt, window, signal, total uint64 }
	ring := uint64(0)
	for _, r := range m.ExitStats() {
		if r.Kind == "ring" {
			ring += r.Count
		}
		switch {
		case r.Kind == "io":
			user.io += r.Count
		case r.Kind == "mmio":
			user.mmio += r.Count
		case r.Kind == "signal":
			user.signal += r.Count
		case r.Name == "HLT":
			user.hlt += r.Count
		case r.Name == "IRQWindowOpen":
			user.window += r.Count
		}
		if r.Kind != "ring" && r.Kind != "signal" {
			user.total += r.Count
		}
	}
	rows := []exitstats.SplitRow{
		split("port I/O", ks["io_exits"], user.io, "in kernel: PIC, PIT, ioeventfd, coalesced PIO"),
		// KVM counts only the MMIO exits it sends to user space; what it
		// emulates itself (LAPIC, IOAPIC, coalesced zones) shows as
		// instruction emulation.
		split("MMIO", ks["mmio_exits"], user.mmio, "to user space only; in-kernel MMIO is under emulation"),
		split("HLT", ks["halt_exits"], user.hlt, "in kernel with the irqchip"),
		split("interrupt window", ks["irq_window_exits"], user.window, ""),
		{Reason: "instruction emulation", Total: ks["insn_emulation"], Kernel: ks["insn_emulation"], Note: "MMIO and I/O instructions KVM emulated"},
		{Reason: "coalesced writes", Total: ring, Kernel: ring, Note: "queued in the ring, no exit"},
		{Reason: "signal", Total: ks["signal_exits"], User: ks["signal_exits"], Note: "KVM_RUN interrupted by a kick or signal"},
	}
	listed := ks["io_exits"] + ks["mmio_exits"] + ks["halt_exits"] + ks["irq_window_exits"] + ks["signal_exits"]
	other := sub(ks["exits"], listed)
	userOther := sub(user.total, user.io+user.mmio+user.hlt+user.window)
	rows = append(rows, split("other (CPUID, MSR, faults, interrupts, ...)", other, userOther, ""),
		split("all exits", ks["exits"], user.total, ""))
	return rows, nil
}

func split(reason string, total, user uint64, note string) exitstats.SplitRow {
	return exitstats.SplitRow{Reason: reason, Total: max(total, user), Kernel: sub(total, user), User: user, Note: strings.TrimSpace(note)}
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}
