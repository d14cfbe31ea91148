package timeline

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/verify"
)

// Marks the picture derives from the ledgers, beside the runner's Mark
// kinds.
const (
	// kindTimeout is the kill plus the killed consumer's session.timeout.ms:
	// its session has run out by then (the broker counts from its last
	// heartbeat, a little before the kill), and the coordinator may give
	// its partitions to others.
	kindTimeout = "session-timeout"
	// kindRebalance is when a group's partitions moved after its first
	// assignment: someone got or lost a partition.
	kindRebalance = "rebalance"
)

// librdkafka's session.timeout.ms when a consumer did not set it.
const defaultSessionTimeout = 45 * time.Second

// rebalanceGap separates two rebalances: assignment events closer than
// this belong to one.
const rebalanceGap = 500 * time.Millisecond

// derivedMarks are the session-timeout expiries of killed consumers (from
// the session.timeout.ms their started event gives, librdkafka's 45 s when
// it gives none, none for the consumer protocol, whose broker owns the
// session) and each group's rebalances after its first assignment, as its
// ledgers' assigned and revoked events show them. A mark after the end of
// the run is left out.
func derivedMarks(incs []verify.Incarnation, marks []Mark, rel func(time.Time) time.Duration, span time.Duration) []mark {
	var out []mark
	byName := map[string]verify.Incarnation{}
	for _, inc := range incs {
		byName[inc.Name] = inc
	}
	for _, mk := range marks {
		inc, ok := byName[mk.Name]
		if mk.Kind != MarkKill || !ok {
			continue
		}
		timeout, ok := sessionTimeout(inc)
		if at := rel(mk.At) + timeout; ok && at <= span && !takenBack(inc, incs, rel(mk.At), at, rel) {
			out = append(out, mark{at: at, kind: kindTimeout, name: mk.Name,
				detail: fmt.Sprintf("%s's session.timeout.ms (%d ms) after its kill -9: its session has run out by here (the broker counts from its last heartbeat, up to a heartbeat interval before the kill), so the group may give its partitions to others",
					mk.Name, timeout.Milliseconds())})
		}
	}

	type change struct {
		at   time.Duration
		what string
		// moves: the change is a rebalance's. A member that already held
		// partitions got or lost some, or a dynamic member joined. A static
		// member (group.instance.id) that comes back within its session
		// takes its partitions back with no rebalance: its first
		// assignment alone moves nothing.
		moves bool
	}
	groups := map[string][]change{}
	for _, inc := range incs {
		// Revocations after an incarnation's last assignment are it
		// leaving the group as it closes, not partitions moving.
		lastAssigned := -1
		for j, e := range inc.Events {
			if e.Type == ledger.Assigned {
				lastAssigned = j
			}
		}
		static, held := isStatic(inc), false
		for j, e := range inc.Events {
			if (e.Type != ledger.Assigned && e.Type != ledger.Revoked) || j > lastAssigned {
				continue
			}
			moves := held || !static
			held = true
			verb := "got"
			if e.Type == ledger.Revoked {
				verb = "lost"
			}
			var parts []string
			for _, o := range e.Partitions {
				parts = append(parts, "["+strconv.Itoa(int(o.Partition))+"]")
			}
			groups[inc.Group] = append(groups[inc.Group], change{rel(e.TS), inc.Name + " " + verb + " " + strings.Join(parts, " "), moves})
		}
	}
	for g, changes := range groups {
		slices.SortStableFunc(changes, func(a, b change) int { return cmp.Compare(a.at, b.at) })
		var clusters [][]change
		for i, c := range changes {
			if i == 0 || c.at-changes[i-1].at > rebalanceGap {
				clusters = append(clusters, nil)
			}
			clusters[len(clusters)-1] = append(clusters[len(clusters)-1], c)
		}
		for _, cl := range clusters[1:] { // the first is the group's first assignment
			var what []string
			for _, c := range cl {
				what = append(what, c.what)
			}
			if !slices.ContainsFunc(cl, func(c change) bool { return c.moves }) {
				continue
			}
			out = append(out, mark{at: cl[0].at, kind: kindRebalance, name: g, detail: "rebalance of group " + g + ": " + strings.Join(what, "; ")})
		}
	}
	return out
}

// takenBack reports whether a static member's next run took its place
// (and so its session) between its kill and its session timeout.
func takenBack(inc verify.Incarnation, incs []verify.Incarnation, kill, timeout time.Duration, rel func(time.Time) time.Duration) bool {
	if !isStatic(inc) {
		return false
	}
	base, _ := consumerOf(inc.Name)
	for _, other := range incs {
		if b, _ := consumerOf(other.Name); b != base || other.Name == inc.Name || other.Group != inc.Group {
			continue
		}
		for _, e := range other.Events {
			if e.Type == ledger.Assigned && rel(e.TS) > kill && rel(e.TS) < timeout {
				return true
			}
		}
	}
	return false
}

// isStatic reports whether a consumer ran as a static member: its started
// event names a group.instance.id.
func isStatic(inc verify.Incarnation) bool {
	for _, e := range inc.Events {
		if e.Type == ledger.Started {
			return e.Detail["group.instance.id"] != ""
		}
	}
	return false
}

// sessionTimeout is the session timeout a consumer ran with, as its started
// event tells; false for the consumer protocol (KIP-848), where the broker
// sets it.
func sessionTimeout(inc verify.Incarnation) (time.Duration, bool) {
	for _, e := range inc.Events {
		if e.Type != ledger.Started {
			continue
		}
		if e.Detail["group.protocol"] == "consumer" {
			return 0, false
		}
		if ms, err := strconv.Atoi(e.Detail["session.timeout.ms"]); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond, true
		}
		return defaultSessionTimeout, true
	}
	return 0, false
}
