package scenario

import (
	"fmt"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/timeline"
	"github.com/offsetlab/offsetlab/internal/tp"
)

func (r *run) mark(kind, name string) {
	r.res.Marks = append(r.res.Marks, timeline.Mark{At: time.Now(), Kind: kind, Name: name})
}

// timeline draws the run to the file Env.Timeline names.
func (r *run) timeline() error {
	t := timeline.Run{Scenario: r.sc.Name, Claim: r.sc.Claim, Marks: r.res.Marks, Committed: map[string]map[tp.TP]int64{}}
	for name, paths := range r.ledgers {
		for n := range paths {
			inc, err := r.incarnation(name, n+1)
			if err != nil {
				return err
			}
			t.Incarnations = append(t.Incarnations, inc)
		}
	}
	for _, p := range r.acked {
		events, err := ledger.Read(p)
		if err != nil {
			return err
		}
		t.Acked = append(t.Acked, events...)
	}
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
//	replayed, lost                  totals over every partition
//	resumed-at P                    the first offset the last resume check saw on partition P
//	kill-to-resume-ms               the last kill-to-resumed-processing latency
func (r *run) figures() map[string]int64 {
	f := map[string]int64{}
	for name := range r.ledgers {
		events, err := r.events(name)
		if err != nil {
			continue
		}
		f["consumed "+name] = counters["consumed"](events)
		f["processed "+name] = counters["processed"](events)
		for _, e := range events {
			if e.Type != ledger.Snapshot {
				continue
			}
			for _, p := range e.Partitions {
				f[fmt.Sprintf("position %s %d", name, p.Partition)] = p.Offset
				if p.Committed != nil {
					f[fmt.Sprintf("committed %s %d", name, p.Partition)] = *p.Committed
				}
			}
		}
	}
	if tally, err := r.tally(); err == nil {
		f["replayed"], f["lost"] = 0, 0
		for _, c := range tally {
			f["replayed"] += c.Replayed
			f["lost"] += c.Lost
		}
	}
	for name, row := range r.rows {
		if row.ResumedAt != nil {
			f["resumed-at "+name[strings.LastIndexByte(name, '[')+1:len(name)-1]] = *row.ResumedAt
		}
	}
	if n := len(r.res.KillToResume); n > 0 {
		f["kill-to-resume-ms"] = r.res.KillToResume[n-1].Milliseconds()
	}
	return f
}
