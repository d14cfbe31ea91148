package scenario

import (
	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// Checks on what the faults of a story did to a consumer, from its ledger:
// the commits the client saw fail, the times it lost its membership, and the
// assignments taken from it without a clean handover.
func init() {
	checks["failed-commits"] = check{"failed-commits NAME OP N: commits NAME's latest run saw fail (whatever the broker applied)",
		parseFigure("failed commits", fromEvents(failedCommits), true)}
	checks["evictions"] = check{"evictions NAME OP N: times NAME's latest run exceeded max.poll.interval.ms, so that librdkafka left the group for it",
		parseFigure("evictions", fromEvents(evictions), true)}
	checks["lost-assignments"] = check{"lost-assignments NAME OP N: revocations NAME's latest run saw without a clean handover (AssignmentLost: evicted, fenced, or its session expired)",
		parseFigure("lost assignments", fromEvents(lostAssignments), true)}
}

func failedCommits(_ *run, events []ledger.Event) int64 {
	return countEvents(events, func(e ledger.Event) bool { return e.Type == ledger.Committed && e.Error != "" })
}

func evictions(_ *run, events []ledger.Event) int64 {
	return countEvents(events, func(e ledger.Event) bool {
		return e.Type == ledger.Error && e.Code == int(kafka.ErrMaxPollExceeded)
	})
}

func lostAssignments(_ *run, events []ledger.Event) int64 {
	return countEvents(events, func(e ledger.Event) bool { return e.Type == ledger.Revoked && e.Lost })
}
