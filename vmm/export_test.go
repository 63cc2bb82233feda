package vmm

// SetAccounting switches exit accounting, for BenchmarkAccountingOverhead.
func SetAccounting(m *Machine, on bool) { m.noAccounting = !on }
