package verify

import (
	"cmp"
	"slices"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// MaxLostSample is how many lost records Counts keeps as examples.
const MaxLostSample = 5

// Counts are one partition's figures over a whole scenario.
type Counts struct {
	Acked     int64 // distinct records the producers' delivery reports confirmed
	Processed int64 // processed events, each processing of a record counted
	Distinct  int64 // distinct records processed
	// Replayed is Processed - Distinct: a record processed n times counts
	// n-1, whichever consumers and incarnations processed it.
	Replayed int64
	// Lost counts acked records that no incarnation processed.
	Lost int64
	// LostSample holds up to MaxLostSample lost records, lowest offset first.
	LostSample []ledger.Record
}

// recordKey is a record's identity across re-reads: run and sequence, or
// where it is when the producer stamped no run id.
type recordKey struct {
	id     string
	tp     TP
	offset int64
}

func keyOf(r *ledger.Record) recordKey {
	if r.Run != "" {
		return recordKey{id: r.ID()}
	}
	return recordKey{tp: recordTP(r), offset: r.Offset}
}

// Tally proves, against the producers' acked events, how many records were
// processed more than once (replayed) and how many were never processed
// (lost), per partition, over every incarnation of every consumer in the
// group. Identity is the record's run and sequence (Record.ID), so a record
// read again at the same offset counts as replayed however often it was
// read; records without a run id are identified by topic, partition and
// offset. A record counts for the partition its events name. Events other
// than acked in acked, and a torn last line, are ignored: a record whose
// processed event a SIGKILL tore was not processed as far as the ledger
// can prove.
func Tally(acked []ledger.Event, incs []Incarnation) map[TP]*Counts {
	counts := map[TP]*Counts{}
	get := func(tp TP) *Counts {
		c, ok := counts[tp]
		if !ok {
			c = &Counts{}
			counts[tp] = c
		}
		return c
	}
	processed := map[recordKey]bool{}
	distinct := map[TP]map[recordKey]bool{}
	for _, inc := range incs {
		for _, e := range inc.Events {
			if e.Type != ledger.Processed || e.Record == nil {
				continue
			}
			tp, k := recordTP(e.Record), keyOf(e.Record)
			c := get(tp)
			c.Processed++
			if distinct[tp] == nil {
				distinct[tp] = map[recordKey]bool{}
			}
			if !distinct[tp][k] {
				distinct[tp][k] = true
				c.Distinct++
			}
			processed[k] = true
		}
	}
	ackedSeen := map[recordKey]bool{}
	for _, e := range acked {
		if e.Type != ledger.Acked || e.Record == nil {
			continue
		}
		k := keyOf(e.Record)
		if ackedSeen[k] {
			continue
		}
		ackedSeen[k] = true
		c := get(recordTP(e.Record))
		c.Acked++
		if !processed[k] {
			c.Lost++
			c.LostSample = append(c.LostSample, *e.Record)
		}
	}
	for _, c := range counts {
		c.Replayed = c.Processed - c.Distinct
		slices.SortFunc(c.LostSample, func(a, b ledger.Record) int { return cmp.Compare(a.Offset, b.Offset) })
		if len(c.LostSample) > MaxLostSample {
			c.LostSample = c.LostSample[:MaxLostSample:MaxLostSample]
		}
	}
	return counts
}
