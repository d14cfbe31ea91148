package verify

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// world is a random, consistent history: partitions holding records (some
// written twice by a retry, some without a run id, gaps where transaction
// markers sit), a producer's acked ledger naming one copy of most records,
// an output topic a transformer forwarded records to, and consumer
// incarnations in two groups reading them with rewinds, replays, kills and
// equal timestamps.
type world struct {
	acked     []ledger.Event
	incs      []Incarnation
	committed map[string]Offsets
}

func randomWorld(r *rand.Rand) world {
	var w world
	var logs [][]*ledger.Record // per partition, nil where no record is (a marker)
	var seq int64
	partitions := 1 + r.IntN(3)
	var acks [][]ledger.Record // per partition, in offset order
	for p := range partitions {
		var log []*ledger.Record
		var ps []ledger.Record
		for range r.IntN(40) {
			if r.IntN(10) == 0 {
				log = append(log, nil) // a marker
			}
			run := "r1"
			if r.IntN(8) == 0 {
				run = "r2"
			}
			rec := ledger.Record{Topic: "orders", Partition: int32(p), Offset: int64(len(log)), Run: run, Seq: seq}
			if r.IntN(12) == 0 {
				rec.Run, rec.Seq = "", 0
			}
			seq++
			log = append(log, &rec)
			acked := rec
			if rec.Run != "" && r.IntN(10) == 0 { // written twice: the ack names one copy
				dup := rec
				dup.Offset = int64(len(log))
				log = append(log, &dup)
				if r.IntN(2) == 0 {
					acked = dup
				}
			}
			if r.IntN(10) != 0 {
				ps = append(ps, acked)
				if r.IntN(20) == 0 {
					ps = append(ps, acked) // reported twice
				}
			}
		}
		logs = append(logs, log)
		acks = append(acks, ps)
	}
	// The acked ledger interleaves partitions, each in offset order.
	for {
		var left []int
		for p := range acks {
			if len(acks[p]) > 0 {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			break
		}
		p := left[r.IntN(len(left))]
		rec := acks[p][0]
		acks[p] = acks[p][1:]
		w.acked = append(w.acked, ledger.Event{Type: ledger.Acked, Record: &rec})
	}
	// An output topic: a transformer forwarded some records, some twice.
	var out []*ledger.Record
	for _, log := range logs {
		for _, rec := range log {
			if rec != nil && rec.Run != "" && r.IntN(4) == 0 {
				for range 1 + r.IntN(2) {
					fwd := *rec
					fwd.Topic, fwd.Partition, fwd.Offset = "out", 0, int64(len(out))
					out = append(out, &fwd)
				}
			}
		}
	}
	logs = append(logs, out)

	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := 0
	groups := []string{"g1", "g2"}
	w.committed = map[string]Offsets{}
	for _, g := range groups {
		w.committed[g] = Offsets{}
		for p := range partitions {
			if r.IntN(3) == 0 {
				w.committed[g][TP{Topic: "orders", Partition: int32(p)}] = int64(r.IntN(45))
			}
		}
	}
	for i := range 1 + r.IntN(6) {
		inc := Incarnation{Name: fmt.Sprintf("c%d", i), Group: groups[r.IntN(2)]}
		for range r.IntN(4) {
			l := r.IntN(len(logs))
			log := logs[l]
			if len(log) == 0 {
				continue
			}
			from := r.IntN(len(log))
			to := min(len(log), from+r.IntN(30))
			for o := from; o < to; o++ {
				if log[o] == nil || r.IntN(15) == 0 {
					continue
				}
				if r.IntN(3) != 0 {
					clock++ // some events share a time
				}
				rec := *log[o]
				inc.Events = append(inc.Events,
					ledger.Event{TS: t0.Add(time.Duration(clock)), Type: ledger.Consumed, Record: &rec},
					ledger.Event{TS: t0.Add(time.Duration(clock)), Type: ledger.Processed, Record: &rec})
			}
		}
		w.incs = append(w.incs, inc)
	}
	return w
}

// The streaming Accountant classifies every record as the reference, which
// holds them all, does: counts, samples, ranges and replay flags, on
// thousands of random histories, in memory and from ledger files.
func TestStreamingAgreesWithReference(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	for n := range 3000 {
		w := randomWorld(r)
		ref := newRefAccountant()
		for _, e := range w.acked {
			ref.Acked(e)
		}
		for _, inc := range w.incs {
			ref.Add(inc)
		}
		want := ref.Account(w.committed)

		got := Account(w.acked, w.incs, w.committed)
		if d := differ(want, got, w); d != "" {
			t.Fatalf("history %d (seed %d): %s", n, seed, d)
		}
		if n%50 == 0 { // and from files
			ac := NewAccountant()
			write := func(name string, events []ledger.Event) string {
				path := filepath.Join(dir, fmt.Sprintf("%d-%s.ledger", n, name))
				lw, err := ledger.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range events {
					if err := lw.Write(e); err != nil {
						t.Fatal(err)
					}
				}
				lw.Close()
				return path
			}
			if err := ac.ReadAcked(write("acked", w.acked)); err != nil {
				t.Fatal(err)
			}
			for _, inc := range w.incs {
				started := ledger.Event{TS: time.Unix(0, 1), Type: ledger.Started, Detail: map[string]string{"group.id": inc.Group}}
				if err := ac.ReadIncarnation(write(inc.Name, append([]ledger.Event{started}, inc.Events...)), ""); err != nil {
					t.Fatal(err)
				}
			}
			fromFiles, err := ac.Account(w.committed)
			if err != nil {
				t.Fatal(err)
			}
			// A started event first: every event number is one more.
			for i := range w.incs {
				w.incs[i].Events = append([]ledger.Event{{}}, w.incs[i].Events...)
			}
			shifted := newRefAccountant()
			for _, e := range w.acked {
				shifted.Acked(e)
			}
			for _, inc := range w.incs {
				shifted.Add(inc)
			}
			if d := differ(shifted.Account(w.committed), fromFiles, w); d != "" {
				t.Fatalf("history %d (seed %d), from files: %s", n, seed, d)
			}
		}
	}
}

func differ(want, got *Accounting, w world) string {
	if !reflect.DeepEqual(want.Groups(), got.Groups()) {
		return fmt.Sprintf("groups %v, want %v", got.Groups(), want.Groups())
	}
	for _, g := range want.Groups() {
		wc, gc := want.Counts(g), got.Counts(g)
		if !reflect.DeepEqual(wc, gc) {
			for tp := range wc {
				if !reflect.DeepEqual(wc[tp], gc[tp]) {
					return fmt.Sprintf("%s %v: counts %+v, want %+v", g, tp, gc[tp], wc[tp])
				}
			}
			return fmt.Sprintf("%s: %d partitions counted, want %d", g, len(gc), len(wc))
		}
		for tp := range wc {
			for _, c := range []struct {
				name      string
				got, want []Range
			}{
				{"lost", got.Lost(g, tp), want.Lost(g, tp)},
				{"not consumed", got.NotConsumed(g, tp), want.NotConsumed(g, tp)},
				{"replayed", got.Replayed(g, tp), want.Replayed(g, tp)},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					return fmt.Sprintf("%s %v: %s %v, want %v", g, tp, c.name, c.got, c.want)
				}
			}
		}
	}
	for i, inc := range w.incs {
		for j := range inc.Events {
			if want.Replay(i, j) != got.Replay(i, j) {
				return fmt.Sprintf("event %d of incarnation %d: replay %v, want %v", j, i, got.Replay(i, j), want.Replay(i, j))
			}
		}
	}
	return ""
}
