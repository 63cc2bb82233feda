package exitstats

import (
	"math/bits"
	"sync/atomic"
)

// Histogram buckets are log-linear: values below linearMax nanoseconds get
// a bucket each; above, each power of two is split into subBuckets, so a
// bucket's width is at most 1/subBuckets of its value (12.5%).
const (
	subBits    = 3
	subBuckets = 1 << subBits
	linearMax  = 2 * subBuckets // 16 ns
	linearExp  = subBits + 1    // log2(linearMax)
	maxExp     = 40             // 2^40 ns ≈ 18 minutes; above lands in the last bucket
	// NumBuckets is the fixed size of a Histogram.
	NumBuckets = linearMax + (maxExp-linearExp+1)*subBuckets
)

// Histogram is a fixed-size latency histogram in nanoseconds.
type Histogram struct {
	buckets [NumBuckets]atomic.Uint64
}

// bucketOf maps a value to its bucket.
func bucketOf(ns uint64) int {
	if ns < linearMax {
		return int(ns)
	}
	e := bits.Len64(ns) - 1 // ns in [2^e, 2^(e+1))
	if e > maxExp {
		return NumBuckets - 1
	}
	sub := int(ns>>(e-subBits)) & (subBuckets - 1)
	return linearMax + (e-linearExp)*subBuckets + sub
}

// bucketLow is the smallest value of bucket i; bucketHigh the smallest of
// the next one.
func bucketLow(i int) uint64 {
	if i < linearMax {
		return uint64(i)
	}
	j := i - linearMax
	e := j/subBuckets + linearExp
	sub := uint64(j % subBuckets)
	return 1<<e | sub<<(e-subBits)
}

func bucketHigh(i int) uint64 {
	if i+1 >= NumBuckets {
		return 1 << (maxExp + 1)
	}
	return bucketLow(i + 1)
}

// Record adds one value. Safe for one writer alongside readers.
func (h *Histogram) Record(ns uint64) { add(&h.buckets[bucketOf(ns)], 1) }

// HistSnapshot is a copy of a histogram's counts.
type HistSnapshot [NumBuckets]uint64

func (h *Histogram) snapshot(out *HistSnapshot) {
	for i := range h.buckets {
		out[i] = h.buckets[i].Load()
	}
}

// Add merges another snapshot into s (for totals over vCPUs).
func (s *HistSnapshot) Add(o *HistSnapshot) {
	for i := range s {
		s[i] += o[i]
	}
}

// Count is the number of values recorded.
func (s *HistSnapshot) Count() uint64 {
	var n uint64
	for _, c := range s {
		n += c
	}
	return n
}

// Quantile estimates the q-quantile (0 < q <= 1) in nanoseconds, taking
// the midpoint of the bucket it falls in; 0 for an empty histogram.
func (s *HistSnapshot) Quantile(q float64) uint64 {
	n := s.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range s {
		seen += c
		if seen >= rank {
			lo, hi := bucketLow(i), bucketHigh(i)
			if hi-lo <= 1 {
				return lo
			}
			return lo + (hi-lo)/2
		}
	}
	return bucketLow(NumBuckets - 1)
}

// Record adds one value to a snapshot that one goroutine owns (no
// atomics): for accumulators that are already serialized, such as the
// tracefs reader's.
func (s *HistSnapshot) Record(ns uint64) { s[bucketOf(ns)]++ }
