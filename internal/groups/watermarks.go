package groups

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/offsetlab/offsetlab/internal/tp"
)

// TP names one partition of one topic.
type TP = tp.TP

// SortTPs sorts partitions by topic, then partition number.
func SortTPs(tps []TP) { tp.Sort(tps) }

// Marks are a partition's watermarks: the first offset still in the log and
// the offset the next record will get. Err is set when the broker could
// not tell (the topic is gone, the partition has no leader).
type Marks struct {
	Start int64
	End   int64
	Err   error
}

// Watermarks asks the broker for the log start and log end of each
// partition.
func (a *Admin) Watermarks(ctx context.Context, tps []TP) (map[TP]Marks, error) {
	marks := make(map[TP]Marks, len(tps))
	if len(tps) == 0 {
		return marks, nil
	}
	start, err := a.listOffsets(ctx, tps, kafka.EarliestOffsetSpec, "the log start offsets")
	if err != nil {
		return nil, err
	}
	end, err := a.listOffsets(ctx, tps, kafka.LatestOffsetSpec, "the log end offsets")
	if err != nil {
		return nil, err
	}
	for _, tp := range tps {
		s, e := start[tp], end[tp]
		m := Marks{Start: s.offset, End: e.offset, Err: cmp.Or(s.err, e.err)}
		marks[tp] = m
	}
	return marks, nil
}

// OffsetsForTime asks, for each partition, the first offset whose record
// timestamp is at or after t. A partition with no such record answers the
// log end (the next record written will be the first one after t).
func (a *Admin) OffsetsForTime(ctx context.Context, tps []TP, t time.Time) (map[TP]int64, error) {
	res, err := a.listOffsets(ctx, tps, kafka.NewOffsetSpecForTimestamp(t.UnixMilli()), "the offsets for "+t.Format(time.RFC3339))
	if err != nil {
		return nil, err
	}
	offsets := make(map[TP]int64, len(tps))
	var ends []TP
	for _, tp := range tps {
		r := res[tp]
		if r.err != nil {
			return nil, fmt.Errorf("offset for time %s in %s: %w", t.Format(time.RFC3339), tp, r.err)
		}
		if r.offset < 0 {
			ends = append(ends, tp)
			continue
		}
		offsets[tp] = r.offset
	}
	if len(ends) > 0 {
		end, err := a.listOffsets(ctx, ends, kafka.LatestOffsetSpec, "the log end offsets")
		if err != nil {
			return nil, err
		}
		for _, tp := range ends {
			if end[tp].err != nil {
				return nil, fmt.Errorf("log end of %s: %w", tp, end[tp].err)
			}
			offsets[tp] = end[tp].offset
		}
	}
	return offsets, nil
}

type listed struct {
	offset int64
	err    error
}

// listOffsets asks in batches of requestBatch partitions (see there).
func (a *Admin) listOffsets(ctx context.Context, tps []TP, spec kafka.OffsetSpec, what string) (map[TP]listed, error) {
	out := make(map[TP]listed, len(tps))
	for batch := range slices.Chunk(tps, requestBatch) {
		req := make(map[kafka.TopicPartition]kafka.OffsetSpec, len(batch))
		for _, tp := range batch {
			topic := tp.Topic
			req[kafka.TopicPartition{Topic: &topic, Partition: tp.Partition}] = spec
		}
		var res kafka.ListOffsetsResult
		err := a.call(ctx, what, func(ctx context.Context, timeout time.Duration) error {
			var err error
			res, err = a.ac.ListOffsets(ctx, req, kafka.SetAdminRequestTimeout(timeout))
			return err
		})
		if err != nil {
			return nil, err
		}
		for tp, info := range res.ResultInfos {
			if tp.Topic == nil {
				continue
			}
			l := listed{offset: int64(info.Offset)}
			if info.Error.Code() != kafka.ErrNoError {
				l.err = info.Error
			}
			out[TP{Topic: *tp.Topic, Partition: tp.Partition}] = l
		}
	}
	for _, tp := range tps {
		if _, ok := out[tp]; !ok {
			out[tp] = listed{offset: -1, err: fmt.Errorf("the broker did not answer for %s", tp)}
		}
	}
	return out, nil
}
