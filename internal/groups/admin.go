// Package groups is offsetlab's admin view of consumer groups: what a group
// is (state, members, assignments), what it committed, how far behind the
// log that is, and how to move it. Every figure comes from the broker
// through confluent-kafka-go's AdminClient; nothing is inferred from a
// client's own memory.
//
// The embedded broker (kfake) answers OffsetFetch for a group it does not
// know with GROUP_ID_NOT_FOUND where Apache Kafka answers "no offset". This
// package reads both as "nothing committed", which is what they mean.
package groups

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/config"
)

// Admin talks to one cluster. Every call is bounded by the connection's
// timeout and says what it was waiting for when that runs out.
type Admin struct {
	ac      *kafka.AdminClient
	cm      kafka.ConfigMap // what ac was built from, for clients this package adds
	addr    string
	timeout time.Duration
}

// Open checks that the broker answers within conn's timeout, then creates
// the admin client.
func Open(ctx context.Context, conn *config.Connection) (*Admin, error) {
	if err := conn.CheckBroker(ctx); err != nil {
		return nil, err
	}
	cm := conn.ConfigMap(nil)
	ac, err := kafka.NewAdminClient(&cm)
	if err != nil {
		return nil, config.ClientError("admin client", err)
	}
	go config.DiscardLogs(ac.Logs())
	return &Admin{ac: ac, cm: cm, addr: conn.Bootstrap, timeout: conn.Timeout}, nil
}

// Close releases the client.
func (a *Admin) Close() { a.ac.Close() }

// call runs one admin request with the timeout applied both as a context
// deadline and as librdkafka's request timeout. A deadline that runs out
// becomes an UnreachableError naming the request.
func (a *Admin) call(ctx context.Context, what string, fn func(ctx context.Context, timeout time.Duration) error) error {
	cctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	err := fn(cctx, a.timeout)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var kerr kafka.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &kerr) && (kerr.Code() == kafka.ErrTimedOut || kerr.Code() == kafka.ErrTransport)) {
		return &cli.UnreachableError{Service: "broker", Addr: a.addr, Waited: a.timeout, Err: fmt.Errorf("waiting for %s: %w", what, err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isGroupNotFound reports the embedded broker's answer to OffsetFetch for a
// group it has never seen.
func isGroupNotFound(err error) bool {
	var kerr kafka.Error
	return errors.As(err, &kerr) && kerr.Code() == kafka.ErrGroupIDNotFound
}

// IsUnstable reports the broker's answer to a committed-offsets request
// that requires stable offsets while a transaction that commits offsets for
// the group is still open (UNSTABLE_OFFSET_COMMIT): ask again once it ends.
func IsUnstable(err error) bool {
	var kerr kafka.Error
	return errors.As(err, &kerr) && kerr.Code() == kafka.ErrUnstableOffsetCommit
}
