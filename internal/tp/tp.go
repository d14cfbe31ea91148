// Package tp names a partition of a topic, the unit every offset belongs to.
package tp

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// TP is one partition of one topic.
type TP struct {
	Topic     string
	Partition int32
}

// String names a partition as offsetlab prints it: orders[1].
func (tp TP) String() string { return fmt.Sprintf("%s[%d]", tp.Topic, tp.Partition) }

// Compare orders partitions by topic, then partition number.
func Compare(a, b TP) int {
	return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// Sort sorts partitions by topic, then partition number.
func Sort(tps []TP) { slices.SortFunc(tps, Compare) }

// Keys returns a map's partitions, sorted.
func Keys[V any](m map[TP]V) []TP {
	tps := make([]TP, 0, len(m))
	for t := range m {
		tps = append(tps, t)
	}
	Sort(tps)
	return tps
}
