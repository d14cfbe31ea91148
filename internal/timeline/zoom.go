package timeline

import "time"

// focus is where a lane's story is: the offsets and the time around its
// replays, losses and resume points.
type focus struct {
	lo, hi int64 // [lo, hi)
	t0, t1 time.Duration
}

// Zoom when what matters would be drawn less than this many pixels tall
// in a lane of more than minZoomOffsets offsets.
const (
	minFocusPx     = 20
	minZoomOffsets = 40
)

// focus is the region of the lane worth a zoomed panel: its replays,
// losses and resume points, with a margin, and the time the records there
// were processed, committed and resumed; nil when the lane has none of
// them or they are tall enough on the lane itself.
func (l *lane) focus(marks []mark) *focus {
	a, b := int64(-1), int64(-1)
	see := func(from, to int64) {
		if a < 0 || from < a {
			a = from
		}
		if to > b {
			b = to
		}
	}
	for _, s := range l.replayed {
		see(s.From, s.To)
	}
	for _, s := range l.lost {
		see(s.From, s.To)
	}
	for _, r := range l.resumes {
		see(r.offset, r.offset)
	}
	n := b - a + 1
	if a < 0 || l.hi-l.lo <= minZoomOffsets || n*plotH/(l.hi-l.lo) >= minFocusPx {
		return nil
	}
	pad := max(4, n/2)
	f := &focus{lo: max(l.lo, a-pad), hi: min(l.hi, b+1+pad), t0: -1}
	in := func(o int64) bool { return o >= f.lo && o < f.hi }
	when := func(t time.Duration) {
		if f.t0 < 0 || t < f.t0 {
			f.t0 = t
		}
		f.t1 = max(f.t1, t)
	}
	for _, p := range l.processed {
		if in(p.offset) {
			when(p.at)
		}
	}
	for _, r := range l.resumes {
		when(r.at)
	}
	for _, c := range l.commits {
		if in(c.offset) {
			when(c.at)
		}
	}
	for _, bp := range l.broker {
		if in(bp.offset) {
			when(bp.at)
		}
	}
	if f.t0 < 0 {
		return nil
	}
	// The kills and restarts within the window belong to the story too.
	for _, mk := range marks {
		if mk.at > f.t0 && mk.at < f.t1 {
			when(mk.at)
		}
	}
	pad2 := max((f.t1-f.t0)/8, 150*time.Millisecond)
	f.t0, f.t1 = max(0, f.t0-pad2), f.t1+pad2
	return f
}
