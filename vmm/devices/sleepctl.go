package devices

// SleepControl is the sleep control and status registers of a
// hardware-reduced ACPI machine (ACPI 6.x, 4.8.3.7-8): two byte ports,
// control then status, which the FADT names. A guest enters a sleep state
// by writing SLP_TYPx, the type its DSDT's \_Sx package gives, with
// SLP_EN; Linux does it for S5 on `poweroff`. kvmscope has no sleep
// states to wake from, so only S5 does anything: it powers the machine
// off. Writes of other types, and the status register, are accepted and
// dropped (the status reads 0: no wake event pending).
type SleepControl struct {
	s5  byte
	off func()
}

const (
	slpTypShift = 2
	slpTypMask  = 0x7 << slpTypShift
	slpEn       = 1 << 5
)

// NewSleepControl returns the registers. s5 is the SLP_TYP of soft-off,
// as the DSDT's \_S5 package gives it; off runs on the writing vCPU's
// thread when the guest enters S5, and should ask the machine to stop.
func NewSleepControl(s5 byte, off func()) *SleepControl {
	return &SleepControl{s5: s5 & 7, off: off}
}

// Read implements Device: both registers read as 0.
func (s *SleepControl) Read(off uint64, data []byte) { clear(data) }

// Write implements Device.
func (s *SleepControl) Write(off uint64, data []byte) {
	if off != 0 || len(data) == 0 {
		return
	}
	v := data[0]
	if v&slpEn != 0 && (v&slpTypMask)>>slpTypShift == s.s5 && s.off != nil {
		s.off()
	}
}
