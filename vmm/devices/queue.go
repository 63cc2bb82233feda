package devices

// byteQueue is a fixed-size FIFO of bytes. It lives inside its device so
// that queueing guest input never allocates; callers provide the locking.
type byteQueue struct {
	buf        [4096]byte
	head, size int
}

// push appends b and reports false, dropping b, when the queue is full.
func (q *byteQueue) push(b byte) bool {
	if q.size == len(q.buf) {
		return false
	}
	q.buf[(q.head+q.size)%len(q.buf)] = b
	q.size++
	return true
}

// pop removes and returns the oldest byte; ok is false if the queue is
// empty.
func (q *byteQueue) pop() (b byte, ok bool) {
	if q.size == 0 {
		return 0, false
	}
	b = q.buf[q.head]
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return b, true
}

func (q *byteQueue) len() int { return q.size }

func (q *byteQueue) reset() { q.head, q.size = 0, 0 }
