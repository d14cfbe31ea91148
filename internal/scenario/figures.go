package scenario

import (
	"fmt"
	"maps"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/timeline"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

func (r *run) mark(kind, name string) {
	r.res.Marks = append(r.res.Marks, timeline.Mark{At: time.Now(), Kind: kind, Name: name})
}

// timeline draws the run to the file Env.Timeline names.
func (r *run) timeline() error {
	t := timeline.Run{Scenario: r.sc.Name, Variant: protocolLabel(r.res.Protocol), Claim: r.sc.Claim, Marks: r.res.Marks, Committed: map[string]map[tp.TP]int64{},
		EndCommitted: r.committed}
	for _, name := range sortedKeys(r.ledgers) {
		for n := range r.ledgers[name] {
			inc, err := r.readIncarnation(name, n+1, verify.Read) // every record is drawn
			if err != nil {
				return err
			}
			t.Incarnations = append(t.Incarnations, inc)
		}
	}
	t.Acked = r.ackedEvents()
	for label, s := range r.snapshots {
		committed := map[tp.TP]int64{}
		for name, c := range s.Committed {
			committed[s.tps[name]] = c
		}
		t.Committed[label] = committed
	}
	return timeline.Write(r.env.Timeline, t)
}

// figures are the measured answers a run can give, by name, for exercises
// and for --format json:
//
//	consumed NAME, processed NAME   records NAME's latest run consumed, processed
//	position NAME P, committed NAME P   NAME's last Position()/Committed() answer (-1001: none)
//	replayed, lost, not-consumed    $GROUP's totals over every partition
//	resumed-at P                    the first offset the last resume check saw on partition P of $TOPIC
//	kill-to-resume-ms               the last kill-to-resumed-processing latency
//	offsets-partition NAME          the __consumer_offsets partition of NAME's --group (figure_offsets.go)
func (r *run) figures(acc *verify.Accounting) map[string]int64 {
	f := map[string]int64{}
	for name := range r.ledgers {
		g := map[string]int64{"consumed " + name: 0, "processed " + name: 0}
		err := r.scan(name, func(e ledger.Event) {
			switch e.Type {
			case ledger.Consumed, ledger.Processed:
				g[e.Type+" "+name]++
			case ledger.Snapshot:
				for _, p := range e.Partitions {
					g[fmt.Sprintf("position %s %d", name, p.Partition)] = p.Offset
					if p.Committed != nil {
						g[fmt.Sprintf("committed %s %d", name, p.Partition)] = *p.Committed
					}
				}
			}
		})
		if err != nil {
			continue
		}
		maps.Copy(f, g)
	}
	f["replayed"], f["lost"], f["not-consumed"] = 0, 0, 0
	for _, c := range acc.Counts(r.vars["GROUP"]) {
		f["replayed"] += c.Replayed
		f["lost"] += c.Lost
		f["not-consumed"] += c.NotConsumed
	}
	for k, row := range r.rows {
		if row.ResumedAt != nil && k.group == r.vars["GROUP"] && k.tp.Topic == r.vars["TOPIC"] {
			f[fmt.Sprintf("resumed-at %d", k.tp.Partition)] = *row.ResumedAt
		}
	}
	if n := len(r.res.KillToResume); n > 0 {
		f["kill-to-resume-ms"] = r.res.KillToResume[n-1].Milliseconds()
	}
	r.offsetsPartitions(f)
	return f
}

// protocolLabel names a group protocol for a timeline's title.
func protocolLabel(protocol string) string {
	switch protocol {
	case Classic:
		return "classic protocol"
	case Consumer:
		return "KIP-848 consumer protocol"
	}
	return ""
}
