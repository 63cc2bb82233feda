package vmm

import (
	"fmt"
	"strings"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// Extension is one of the host kernel's accelerations: each moves a kind
// of VM exit out of kvmscope's process and into KVM (King, Dunlap and
// Chen's "host extensions", in KVM's terms).
type Extension int

const (
	// ExtIRQChip: in-kernel PIC, IOAPIC, local APICs and PIT. Off, the
	// PIC and PIT are kvmscope's own and interrupts are injected from
	// user space.
	ExtIRQChip Extension = iota
	// ExtIOEventFD: doorbell writes complete in the kernel and signal an
	// eventfd instead of exiting to us.
	ExtIOEventFD
	// ExtCoalescedMMIO, ExtCoalescedPIO: writes to a device's data window
	// queue in a ring, drained at the next exit that reaches us.
	ExtCoalescedMMIO
	ExtCoalescedPIO
	// ExtHLTPassthrough: HLT and PAUSE do not exit at all
	// (KVM_CAP_X86_DISABLE_EXITS); a halted guest keeps its host CPU busy.
	ExtHLTPassthrough
	// ExtHaltPoll: KVM polls briefly before putting a halted vCPU to sleep
	// (KVM_CAP_HALT_POLL).
	ExtHaltPoll

	numExtensions
)

var extensionNames = [numExtensions]string{
	ExtIRQChip: "irqchip", ExtIOEventFD: "ioeventfd", ExtCoalescedMMIO: "coalesced-mmio",
	ExtCoalescedPIO: "coalesced-pio", ExtHLTPassthrough: "hlt-passthrough", ExtHaltPoll: "halt-poll",
}

func (e Extension) String() string {
	if e >= 0 && e < numExtensions {
		return extensionNames[e]
	}
	return fmt.Sprintf("Extension(%d)", int(e))
}

// Live reports whether the extension can be switched while the guest
// runs; the others apply when the machine is created.
func (e Extension) Live() bool {
	return e == ExtIOEventFD || e == ExtCoalescedMMIO || e == ExtCoalescedPIO || e == ExtHaltPoll
}

// AllExtensions lists every extension in order.
func AllExtensions() []Extension {
	out := make([]Extension, numExtensions)
	for i := range out {
		out[i] = Extension(i)
	}
	return out
}

// Extensions is a set of extensions.
type Extensions uint32

// Has reports whether e is in the set.
func (s Extensions) Has(e Extension) bool { return s&(1<<e) != 0 }

// With returns the set with e added or removed.
func (s Extensions) With(e Extension, on bool) Extensions {
	if on {
		return s | 1<<e
	}
	return s &^ (1 << e)
}

func (s Extensions) String() string {
	var on []string
	for _, e := range AllExtensions() {
		if s.Has(e) {
			on = append(on, e.String())
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ",")
}

// ExtAll is every extension; DefaultExtensions every one but
// hlt-passthrough, which burns a host CPU while the guest idles.
const (
	ExtAll            Extensions = 1<<numExtensions - 1
	DefaultExtensions            = ExtAll &^ (1 << ExtHLTPassthrough)
)

// ParseExtensions reads --ext: "all", "none", "default", or a comma list
// of names, each with + (add, the default) or - (remove), applied to the
// default set when the list starts with a sign and to none otherwise:
// "-ioeventfd,+hlt-passthrough" or "irqchip,ioeventfd".
func ParseExtensions(spec string) (Extensions, error) {
	spec = strings.TrimSpace(spec)
	switch spec {
	case "all":
		return ExtAll, nil
	case "none":
		return 0, nil
	case "", "default":
		return DefaultExtensions, nil
	}
	set := Extensions(0)
	if spec[0] == '+' || spec[0] == '-' {
		set = DefaultExtensions
	}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		on := true
		switch {
		case strings.HasPrefix(item, "-"):
			on, item = false, item[1:]
		case strings.HasPrefix(item, "+"):
			item = item[1:]
		}
		e, ok := extensionByName(item)
		if !ok {
			return 0, fmt.Errorf("--ext %q: unknown extension %q (want all, none, or a list of %s)", spec, item, strings.Join(extensionNames[:], ", "))
		}
		set = set.With(e, on)
	}
	return set, nil
}

func extensionByName(name string) (Extension, bool) {
	for i, n := range extensionNames {
		if n == name {
			return Extension(i), true
		}
	}
	return 0, false
}

// extensionCaps are the capabilities each extension needs.
var extensionCaps = [numExtensions][]kvm.Cap{
	ExtIRQChip:        {kvm.CapIRQChip, kvm.CapPIT2},
	ExtIOEventFD:      {kvm.CapIOEventFD},
	ExtCoalescedMMIO:  {kvm.CapCoalescedMMIO},
	ExtCoalescedPIO:   {kvm.CapCoalescedPIO},
	ExtHLTPassthrough: {kvm.CapX86DisableExits},
	ExtHaltPoll:       {kvm.CapHaltPoll},
}

// OfferedExtensions probes which extensions this host's KVM offers.
func OfferedExtensions(sys *kvm.System) Extensions {
	var s Extensions
	for _, e := range AllExtensions() {
		ok := true
		for _, c := range extensionCaps[e] {
			ok = ok && sys.CheckExtension(c) != 0
		}
		if e == ExtHLTPassthrough {
			ok = ok && sys.CheckExtension(kvm.CapX86DisableExits)&kvm.DisableExitsHLT != 0
		}
		s = s.With(e, ok)
	}
	return s
}
