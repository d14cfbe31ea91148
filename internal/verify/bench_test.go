package verify

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// writeSoak writes the ledgers of a soak-like run of n records on 12
// partitions: the producer's acked ledger, and three consumers each killed
// once, their second runs reading again the last 1,000 records their first
// runs processed on each of their partitions, as a consumer storing offsets
// after processing and killed with -9 does. It returns the accountant that
// reads them.
func writeSoak(b *testing.B, n int) *Accountant {
	dir := b.TempDir()
	const partitions = 12
	create := func(name string) *ledger.Writer {
		w, err := ledger.Create(filepath.Join(dir, name+".ledger"))
		if err != nil {
			b.Fatal(err)
		}
		return w
	}
	t0 := time.Now()
	acked := create("p1")
	next := make([]int64, partitions)
	for seq := range int64(n) {
		p := int32(seq % partitions) // so offset o of partition p holds sequence number o*12+p
		r := &ledger.Record{Topic: "orders", Partition: p, Offset: next[p], Run: "run-1", Seq: seq}
		next[p]++
		if err := acked.Write(ledger.Event{TS: t0.Add(time.Duration(seq)), Type: ledger.Acked, Record: r}); err != nil {
			b.Fatal(err)
		}
	}
	acked.Close()
	ac := NewAccountant()
	if err := ac.ReadAcked(filepath.Join(dir, "p1.ledger")); err != nil {
		b.Fatal(err)
	}
	// Consumer c owns partitions c, c+3, c+6, c+9; its first run stops
	// half-way, its second resumes 1,000 records before.
	clock := t0
	for c := range 3 {
		for run := range 2 {
			name := fmt.Sprintf("c%d-%d", c, run)
			w := create(name)
			_ = w.Write(ledger.Event{TS: clock, Type: ledger.Started, Detail: map[string]string{"group.id": "g"}})
			for p := int32(c); p < partitions; p += 3 {
				from, to := int64(0), next[p]/2
				if run == 1 {
					from, to = max(0, next[p]/2-1000), next[p]
				}
				for o := from; o < to; o++ {
					clock = clock.Add(time.Microsecond)
					r := &ledger.Record{Topic: "orders", Partition: p, Offset: o, Run: "run-1", Seq: o*partitions + int64(p)}
					_ = w.Write(ledger.Event{TS: clock, Type: ledger.Consumed, Record: r})
					_ = w.Write(ledger.Event{TS: clock, Type: ledger.Processed, Record: r})
					_ = w.Write(ledger.Event{TS: clock, Type: ledger.Stored, Partitions: []ledger.Offset{{Topic: "orders", Partition: p, Offset: o + 1}}})
				}
			}
			w.Close()
			if err := ac.ReadIncarnation(filepath.Join(dir, name+".ledger"), ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	return ac
}

// BenchmarkAccount measures the streaming verification of a soak's
// ledgers: records (acked, each consumed, processed and stored once or
// twice) per second, and the heap it peaks at.
func BenchmarkAccount(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			if testing.Short() && n > 1_000_000 {
				b.Skip("10M records: not in -short")
			}
			ac := writeSoak(b, n)
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			var acc *Accounting
			for range b.N {
				var err error
				if acc, err = ac.Account(nil); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if got := acc.Total("g"); got.Acked != int64(n) || got.Lost != 0 || got.Replayed != 12*1000 {
				b.Fatalf("accounted %+v", got)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(after.HeapSys)/(1<<20), "heap-MiB")
		})
	}
}
