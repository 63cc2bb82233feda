package vmm

import "testing"

func TestParseExtensions(t *testing.T) {
	for _, c := range []struct {
		spec string
		want Extensions
		bad  bool
	}{
		{"all", ExtAll, false},
		{"none", 0, false},
		{"", DefaultExtensions, false},
		{"-ioeventfd,+hlt-passthrough", DefaultExtensions.With(ExtIOEventFD, false).With(ExtHLTPassthrough, true), false},
		{"irqchip,ioeventfd", Extensions(0).With(ExtIRQChip, true).With(ExtIOEventFD, true), false},
		{"+halt-poll", DefaultExtensions, false},
		{"-bogus", 0, true},
		{"irqchip,", 0, true},
	} {
		got, err := ParseExtensions(c.spec)
		if (err != nil) != c.bad || !c.bad && got != c.want {
			t.Errorf("ParseExtensions(%q) = %v, %v; want %v", c.spec, got, err, c.want)
		}
	}
	if DefaultExtensions.Has(ExtHLTPassthrough) || !DefaultExtensions.Has(ExtIRQChip) {
		t.Errorf("default set %v", DefaultExtensions)
	}
}

func FuzzParseExtensions(f *testing.F) {
	for _, s := range []string{"all", "-ioeventfd,+hlt-passthrough", "x", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := ParseExtensions(s); err == nil && e&^ExtAll != 0 {
			t.Fatalf("%q gave bits outside the set: %b", s, e)
		}
	})
}
