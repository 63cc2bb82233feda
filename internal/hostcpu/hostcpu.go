// Package hostcpu reads the CPUID of the machine kvmscope runs on, to tell
// which hypervisor (if any) it runs under: some host bugs are known by name.
package hostcpu

import "strings"

// cpuid executes CPUID (cpuid_amd64.s).
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// HypervisorVendor returns the 12-byte signature of CPUID leaf 0x40000000
// ("KVMKVMKVM", "TCGTCGTCGTCG", ...), or "" on bare metal.
func HypervisorVendor() string {
	_, _, ecx, _ := cpuid(1, 0)
	if ecx&(1<<31) == 0 {
		return ""
	}
	_, b, c, d := cpuid(0x40000000, 0)
	var sig [12]byte
	for i, r := range []uint32{b, c, d} {
		for j := range 4 {
			sig[4*i+j] = byte(r >> (8 * j))
		}
	}
	return strings.TrimRight(string(sig[:]), "\x00 ")
}

// IsQEMUTCG reports whether this host is QEMU's software emulator, whose
// SVM emulation drops the INT3 intercept and crashes on debug-register
// execute breakpoints taken while CS.base is not 0.
func IsQEMUTCG() bool { return HypervisorVendor() == "TCGTCGTCGTCG" }

// Vendor returns the CPU vendor string ("AuthenticAMD", "GenuineIntel").
func Vendor() string {
	_, b, c, d := cpuid(0, 0)
	var v [12]byte
	for i, r := range []uint32{b, d, c} {
		for j := range 4 {
			v[4*i+j] = byte(r >> (8 * j))
		}
	}
	return string(v[:])
}
