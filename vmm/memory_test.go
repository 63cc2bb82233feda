package vmm

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/kvmscope/kvmscope/vmm/kvm"
)

// Guest RAM of 2 MiB and more starts on a 2 MiB boundary, so that the
// host can back it, and KVM map it, with huge pages; smaller regions are
// mapped as they are.
func TestAllocRAMAlignment(t *testing.T) {
	for _, size := range []uint64{4096, 64 << 10, hugePage, 6 << 20, 64<<20 + 4096} {
		mem, mapping, err := allocRAM(size)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(mem)) != size || uint64(cap(mem)) != size {
			t.Errorf("%d bytes: got len %d cap %d", size, len(mem), cap(mem))
		}
		if size >= hugePage && kvm.HostAddr(mem)%hugePage != 0 {
			t.Errorf("%d bytes at %#x, not 2 MiB aligned", size, kvm.HostAddr(mem))
		}
		mem[0], mem[size-1] = 1, 2 // the whole range is mapped and writable
		if err := unix.Munmap(mapping); err != nil {
			t.Errorf("%d bytes: unmap: %v", size, err)
		}
	}
}
