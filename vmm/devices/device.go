package devices

// Device is what the bus dispatches to. off is relative to the base of the
// range the device was registered at; data is the guest's access (len 1,
// 2, 4 or 8): Read fills it, Write consumes it.
//
// Implementations are called from several vCPU threads at once, so any
// state they keep needs its own synchronisation; the bus adds none.
type Device interface {
	Read(off uint64, data []byte)
	Write(off uint64, data []byte)
}
