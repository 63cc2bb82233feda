package hostcpu

import "testing"

func TestVendor(t *testing.T) {
	switch v := Vendor(); v {
	case "AuthenticAMD", "GenuineIntel", "HygonGenuine", "CentaurHauls", "  Shanghai  ":
	default:
		t.Fatalf("vendor %q", v)
	}
	t.Logf("hypervisor %q, TCG %v", HypervisorVendor(), IsQEMUTCG())
}
