package scenario

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// stats prints, under --stats, how long a step took and the runner's
// memory after it: resident now, its peak so far, and the Go heap in use.
// The runner holds the embedded broker too, so with it the figures include
// the broker's records; the consumers and producers are processes of their
// own, not counted.
func (r *run) stats(what string, start time.Time) {
	if !r.env.Stats {
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var ru syscall.Rusage
	peak := "-"
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		peak = mib(ru.Maxrss << 10) // Linux gives kilobytes
	}
	fmt.Fprintf(r.out, "    stats: %s took %s; runner resident %s, peak %s, heap in use %s\n",
		what, time.Since(start).Round(time.Millisecond), resident(), peak, mib(int64(ms.HeapInuse)))
}

// resident is the runner's resident set now, from /proc/self/status ("-"
// where there is none).
func resident() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "-"
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := bytes.Fields(sc.Bytes()); len(f) >= 2 && string(f[0]) == "VmRSS:" {
			if kb, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
				return mib(kb << 10)
			}
		}
	}
	return "-"
}

func mib(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }
