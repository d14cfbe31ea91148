package consumer

import (
	"cmp"
	"fmt"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// How SIGTERM closes the consumer (--close): pause the assignment, then
// Close() (closePauseFirst, the default), or Close() alone (closePlain), as
// a plain confluent-kafka-go application does.
//
// The two differ in the auto mode, because confluent-kafka-go's Close()
// commits records the application never received. In v2.15.0:
//
//   - kafka/consumer.go, (*Consumer).Close: rd_kafka_consumer_close_queue,
//     then `for rd_kafka_consumer_closed() != 1 { c.Poll(100) }`, and what
//     Poll returns is dropped.
//   - kafka/event.go, _rk_queue_poll: a fetched record is taken out of its
//     event with librdkafka's rd_kafka_event_message_next
//     (src/rdkafka_event.c), which calls rd_kafka_fetch_op_app_prepare
//     (src/rdkafka_op.c): rd_kafka_update_app_pos (src/rdkafka_offset.c)
//     stores offset+1 when enable.auto.offset.store is true, the default.
//   - The revocation the close brings ends in
//     rd_kafka_assignment_serve_removals (src/rdkafka_assignment.c), which,
//     with enable.auto.commit, commits the stored offsets.
//
// So every record Close() polls away is committed unprocessed, and a
// restart skips it. The polls stop storing once librdkafka's main thread
// pauses the assignment, just before it hands over the revocation
// (rd_kafka_rebalance_op, src/rdkafka_cgrp.c); how many records the Go poll
// loop takes before that is a race between the two threads. Measured on the
// embedded broker, a close after about 30 of 3000 queued records committed
// from none (about one close in five) to the whole queue past what was
// processed; see the scenario close-overcommit and TestCloseOverCommit.
//
// librdkafka's own close does not do this: rd_kafka_consumer_close
// (rd_kafka_consumer_close0, src/rdkafka.c) forwards the consumer queue to
// a temporary one and serves it with rd_kafka_poll_cb(...,
// RD_KAFKA_Q_CB_RETURN), which passes a fetched record back
// (RD_KAFKA_OP_RES_PASS); the close destroys it unstored. The over-commit
// belongs to the Go wrapper.
//
// closePauseFirst closes the window: Pause, in the calling thread
// (rd_kafka_toppar_op_pause_resume, src/rdkafka_partition.c), raises each
// partition's version barrier, so the records already queued are outdated
// and Close()'s polls drop them unstored (rd_kafka_op_version_outdated,
// src/rdkafka_partition.h). The close then commits what was processed,
// exactly.
// The other modes store nothing at hand-over (nor does the auto mode under
// --on-bad-record stop, which stores by hand), so there both closes commit
// the same.
const (
	closePauseFirst = "pause-first"
	closePlain      = "plain"
)

// close makes the final commit, snapshots what a restart would get, closes
// (leaving the group, unless the member is static: a static member's
// partitions wait for it until its session times out) and prints the
// summary. It is what SIGTERM gets; SIGKILL gets
// none of it.
func (c *consumer) close(cause error) error {
	var err error
	c.closeOnce.Do(func() {
		if fatal(cause) {
			// A fatal error (a fenced or refused static instance) has put
			// the member out of its group for good: every commit fails, and
			// Close() waits for a group that no longer has it (measured: it
			// never returned within its bound). The process exits instead,
			// which frees the client.
			c.snapshot(c.stderr)
			_ = c.ledger.Write(ledger.Event{Type: ledger.Stopped, Error: cause.Error()})
			err = c.ledger.Close()
			c.summary()
			return
		}
		if c.o.close == closePauseFirst {
			if parts, err := c.c.Assignment(); err == nil && len(parts) > 0 {
				_ = c.c.Pause(parts)
			}
		}
		// The final commit of what was stored, made here so the ledger sees
		// it. Under closePlain, Close() commits again what it polls away;
		// that commit's result is polled away too, and only the broker
		// knows it.
		c.o.commit.close()
		c.snapshot(c.stderr)
		err = closeWithin(c.o.closeBound(), c.o.group, c.c.Close)
		c.o.commit.release()
		_ = c.ledger.Write(ledger.Event{Type: ledger.Stopped})
		if lerr := c.ledger.Close(); err == nil && lerr != nil {
			err = lerr
		}
		c.summary()
	})
	return err
}

func (c *consumer) summary() {
	s := &c.stats
	fmt.Fprintf(c.stderr, "consumed %d, processed %d, bad %d, commits %d (failed %d)\n",
		s.Consumed, s.Processed, s.Bad, s.Commits, s.CommitsFailed)
	c.o.commit.summary(c.stderr)
}

// closeBound is how long Close() may take: --timeout for the broker to
// answer, plus the session timeout. Close() waits until librdkafka reports
// the consumer closed (rd_kafka_consumer_closed): the final commit of the
// auto modes, the revocation and the LeaveGroup, each waiting on the group
// coordinator. Once the session has expired the coordinator has dropped the
// member anyway, so waiting longer serves nothing; without a bound a
// consumer whose subscription failed (a blank group.id) waited forever.
func (o *options) closeBound() time.Duration {
	session := defaultSessionTimeout
	if o.protocol == "classic" && o.sessionTimeout > 0 {
		session = o.sessionTimeout
	}
	return cmp.Or(o.conn.Timeout, 10*time.Second) + session
}

// CloseTimeoutError is a Close() that did not return within its bound. The
// close goes on in the background; the process exits without waiting.
type CloseTimeoutError struct {
	Group  string
	Waited time.Duration
}

func (e *CloseTimeoutError) Error() string {
	return fmt.Sprintf("the consumer did not close within %s: librdkafka had not finished with group %q (Close waits for the final commit, the revocation and LeaveGroup at the group coordinator); exiting without waiting further", e.Waited, e.Group)
}

// closeWithin runs close, waiting at most d for it.
func closeWithin(d time.Duration, group string, close func() error) error {
	done := make(chan error, 1)
	go func() { done <- close() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return &CloseTimeoutError{Group: group, Waited: d}
	}
}
