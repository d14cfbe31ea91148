package offsetstopic

import (
	"encoding/binary"
	"fmt"
)

// kmsg v1.15.0 reads a flexible (v4+) value's tagged-field sections with a
// loop that runs once per claimed tag even after its input has run out, so
// a corrupt count near 2^32 spins for seconds on a record of a few bytes
// (found by FuzzDecode). checkTags walks the v4 layouts just far enough to
// find each tagged-field section and rejects a count larger than the bytes
// left. It only measures; kmsg does the decoding.

type walker struct {
	b   []byte
	err error
}

func (w *walker) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
	w.b = nil
}

func (w *walker) skip(n uint64) {
	if w.err != nil {
		return
	}
	if n > uint64(len(w.b)) {
		w.fail("field of %d bytes with %d left", n, len(w.b))
		return
	}
	w.b = w.b[n:]
}

func (w *walker) uvarint() uint64 {
	if w.err != nil {
		return 0
	}
	v, n := binary.Uvarint(w.b)
	if n <= 0 {
		w.fail("bad varint")
		return 0
	}
	w.b = w.b[n:]
	return v
}

// compact skips a compact string or bytes (length + 1; 0 is null).
func (w *walker) compact() {
	if n := w.uvarint(); n > 0 {
		w.skip(n - 1)
	}
}

// count reads a compact count (n + 1) and checks it against the bytes left,
// each element taking at least min bytes.
func (w *walker) count(what string, plusOne bool, min uint64) uint64 {
	n := w.uvarint()
	if plusOne && n > 0 {
		n--
	}
	if w.err == nil && n*min > uint64(len(w.b)) {
		w.fail("%s count %d with %d bytes left", what, n, len(w.b))
		return 0
	}
	return n
}

func (w *walker) tags() {
	for n := w.count("tagged field", false, 2); n > 0 && w.err == nil; n-- {
		w.uvarint()         // tag
		w.skip(w.uvarint()) // size, data
	}
}

// checkTags checks a flexible value of record type keyVersion.
func checkTags(keyVersion int16, value []byte) error {
	w := &walker{b: value}
	w.skip(2) // version
	switch keyVersion {
	case 0, 1: // OffsetCommitValue v4
		w.skip(8 + 4) // offset, leader epoch
		w.compact()   // metadata
		w.skip(8)     // commit timestamp
		w.tags()
	case 2: // GroupMetadataValue v4
		w.compact() // protocol type
		w.skip(4)   // generation
		w.compact() // protocol
		w.compact() // leader
		w.skip(8)   // current state timestamp
		for n := w.count("member", true, 1); n > 0 && w.err == nil; n-- {
			w.compact()   // member id
			w.compact()   // instance id
			w.compact()   // client id
			w.compact()   // client host
			w.skip(4 + 4) // rebalance and session timeouts
			w.compact()   // subscription
			w.compact()   // assignment
			w.tags()
		}
		w.tags()
	}
	return w.err
}
