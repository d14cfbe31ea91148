package scenario

import (
	"fmt"
	"slices"

	"github.com/offsetlab/offsetlab/internal/coordinator"
	"github.com/offsetlab/offsetlab/internal/offsetstopic"
)

// offsetsPartitions adds the figure "offsets-partition NAME" for each
// process started with a --group of its own: the partition of
// __consumer_offsets that holds that group's offset commits, found by
// reading the topic from the start (absent when the commits are in no
// partition, or in more than one). Only such stories pay for the read: a
// story's own $GROUP is renamed each run, so no one can predict where it
// lands.
func (r *run) offsetsPartitions(f map[string]int64) {
	names := map[string][]string{} // group -> processes
	for name, group := range r.groups {
		if group != r.vars["GROUP"] {
			names[group] = append(names[group], name)
		}
	}
	if len(names) == 0 {
		return
	}
	n, exists, err := r.admin.TopicPartitions(r.ctx, coordinator.Topic)
	if err != nil || !exists {
		return
	}
	opts := offsetstopic.ReadOptions{FromBeginning: true, Idle: r.env.Conn.Timeout}
	for p := range int32(n) {
		opts.Partitions = append(opts.Partitions, p)
	}
	found := map[string][]int32{}
	emit := func(e offsetstopic.Entry) error {
		if e.Kind == offsetstopic.KindOffsetCommit && names[e.Group] != nil && !slices.Contains(found[e.Group], e.Partition) {
			found[e.Group] = append(found[e.Group], e.Partition)
		}
		return nil
	}
	if err := offsetstopic.Read(r.ctx, &r.env.Conn, opts, emit, func(offsetstopic.Entry, error) {}); err != nil {
		return
	}
	for group, ps := range found {
		if len(ps) == 1 {
			for _, name := range names[group] {
				f[fmt.Sprintf("offsets-partition %s", name)] = int64(ps[0])
			}
		}
	}
}
