package devices

import (
	"io"
	"sync"
	"testing"
)

// TestConcurrentExits plays several vCPUs taking port exits through one
// frozen bus at once, as the VMM will; it is meant for go test -race.
func TestConcurrentExits(t *testing.T) {
	b := NewBus("pio")
	i8042 := NewI8042(func() {})
	sink := NewSink()
	serial := NewSerial(io.Discard)
	serial.IRQ = func(bool) {}
	fwcfg := NewFwCfg(1<<30, 4)
	if err := fwcfg.AddFile("etc/boot-fail-wait", make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	devs := []struct {
		base, size uint64
		name       string
		d          Device
	}{
		{0x3f8, 8, "serial", serial},
		{0x60, 1, "i8042-data", i8042.DataPort()},
		{0x64, 1, "i8042-cmd", i8042.CommandPort()},
		{0x70, 2, "cmos", NewCMOS(nil, 1<<30, 0)},
		{0x80, 1, "post", sink},
		{0xf4, 1, "debug-exit", NewDebugExit(func(uint8) {})},
		{0x510, 2, "fw_cfg", fwcfg},
		{0xcf9, 1, "reset control", NewResetControl(func() {})},
	}
	for _, d := range devs {
		mustRegister(t, b, d.base, d.size, d.name, d.d)
	}
	b.Freeze()

	ports := []uint64{0x3f8, 0x3f9, 0x3fa, 0x3fd, 0x60, 0x64, 0x70, 0x71, 0x80, 0xf4, 0x500, 0x510, 0x511, 0xcf9}
	const vcpus, rounds = 4, 300
	var wg sync.WaitGroup
	wg.Add(vcpus + 1)
	for v := range vcpus {
		go func() {
			defer wg.Done()
			var buf [1]byte
			for r := range rounds {
				port := ports[(v+r)%len(ports)]
				d, off, _, ok := b.Lookup(port)
				if !ok {
					continue
				}
				buf[0] = byte(r)
				if r%2 == 0 {
					d.Write(off, buf[:])
				} else {
					d.Read(off, buf[:])
				}
			}
		}()
	}
	go func() {
		defer wg.Done()
		for range rounds {
			serial.Input([]byte{'k'})
		}
	}()
	wg.Wait()
	if sink.Writes.Load() == 0 {
		t.Fatal("no write reached port 0x80")
	}
}
