// Package offset names librdkafka's logical offsets and is the one place
// that says how offsetlab shows them to people.
package offset

import (
	"fmt"
	"strconv"
)

// Invalid is librdkafka's OffsetInvalid (kafka.OffsetInvalid): what
// Position() and Committed() return before anything was consumed or
// committed on a partition. It is not an offset on the log; a ledger writes
// it where a partition has none yet.
const Invalid int64 = -1001

// String shows an offset: a number, or for Invalid the number and what it
// means, since -1001 is what the API hands a learner.
func String(o int64) string {
	if o == Invalid {
		return "-1001 (none yet)"
	}
	return strconv.FormatInt(o, 10)
}

// Parse reads an offset a story or a user wrote: a number 0 or more, or
// "none" for Invalid.
func Parse(s string) (int64, error) {
	if s == "none" {
		return Invalid, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not an offset (a number 0 or more, or none)", s)
	}
	return n, nil
}
