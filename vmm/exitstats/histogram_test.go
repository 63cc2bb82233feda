package exitstats

import (
	"testing"
	"time"
)

func TestBucketsCoverValues(t *testing.T) {
	for _, ns := range []uint64{0, 1, 15, 16, 17, 31, 32, 1000, 51_000, 1 << 39, 1<<41 - 1} {
		i := bucketOf(ns)
		if i < 0 || i >= NumBuckets {
			t.Fatalf("bucketOf(%d) = %d out of range", ns, i)
		}
		if ns <= 1<<(maxExp+1) && (ns < bucketLow(i) || ns >= bucketHigh(i)) {
			t.Errorf("%d in bucket %d = [%d,%d)", ns, i, bucketLow(i), bucketHigh(i))
		}
	}
	for i := 1; i < NumBuckets; i++ {
		if bucketLow(i) <= bucketLow(i-1) {
			t.Fatalf("bucket %d starts at %d, not above bucket %d at %d", i, bucketLow(i), i-1, bucketLow(i-1))
		}
		if bucketOf(bucketLow(i)) != i {
			t.Fatalf("bucketOf(bucketLow(%d)) = %d", i, bucketOf(bucketLow(i)))
		}
	}
}

func TestQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(uint64(i) * 1000) // 1 µs .. 1 ms
	}
	var s HistSnapshot
	h.snapshot(&s)
	for _, c := range []struct {
		q    float64
		want uint64
	}{{0.5, 500_000}, {0.99, 990_000}, {1, 1_000_000}} {
		got := s.Quantile(c.q)
		if diff := float64(got)/float64(c.want) - 1; diff > 0.125 || diff < -0.125 {
			t.Errorf("q%.2f = %d, want %d within 12.5%%", c.q, got, c.want)
		}
	}
	var empty HistSnapshot
	if empty.Quantile(0.99) != 0 {
		t.Error("empty histogram has a quantile")
	}
}

func TestRecordSnapshot(t *testing.T) {
	var keys Keys
	io, _ := keys.Add("io", "0x3f8 serial")
	hlt, _ := keys.Add("exit", "HLT")
	keys.Freeze()
	if _, err := keys.Add("exit", "late"); err == nil {
		t.Fatal("Add after Freeze succeeded")
	}
	var a, b VCPU
	a.Record(io, 50*time.Microsecond, 10*time.Microsecond)
	b.Record(io, 70*time.Microsecond, 30*time.Microsecond)
	b.Count(hlt)
	acc := map[Key]*Row{}
	a.Snapshot(&keys, acc)
	b.Snapshot(&keys, acc)
	r := acc[io]
	if r == nil || r.Count != 2 || r.MeanRun() != 60*time.Microsecond || r.Name != "0x3f8 serial" || r.Kind != "io" {
		t.Fatalf("io row = %+v", r)
	}
	if s := r.HandlerShare(); s < 0.249 || s > 0.251 {
		t.Errorf("handler share %.3f, want 0.25", s)
	}
	if acc[hlt].Count != 1 || acc[hlt].Run.Count() != 0 {
		t.Errorf("hlt row = %+v", acc[hlt])
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	var v VCPU
	if n := testing.AllocsPerRun(1000, func() { v.Record(3, 51*time.Microsecond, 2*time.Microsecond) }); n != 0 {
		t.Fatalf("Record allocates %.1f times", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	var v VCPU
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v.Record(Key(i&7), time.Duration(i), 100)
	}
}
