package scenario

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/groups"
)

// Limits are the cluster's group settings every story's timings derive
// from: a story never hard-codes a session timeout one cluster rejects
// (Kafka's classic floor is 6 s) or a wait another cluster outlasts
// (KIP-848's session is 45 s by default).
type Limits struct {
	// ClassicMin and ClassicMax bound session.timeout.ms for the classic
	// protocol (group.min.session.timeout.ms, group.max.session.timeout.ms).
	ClassicMin, ClassicMax time.Duration
	// ConsumerSession is KIP-848's session timeout, which the broker owns
	// (group.consumer.session.timeout.ms).
	ConsumerSession time.Duration
	// RebalanceDelay is group.initial.rebalance.delay.ms: how long a new
	// classic group waits for more members before its first rebalance.
	RebalanceDelay time.Duration
	// Protocol is the group protocol the story's consumers use unless a
	// start pins one (Env.Protocol): it says which session $SESSION is.
	Protocol string
}

// kafkaDefaults are Apache Kafka's own values, assumed for a setting the
// broker does not report.
var kafkaDefaults = map[string]time.Duration{
	"group.min.session.timeout.ms":      6 * time.Second,
	"group.max.session.timeout.ms":      30 * time.Minute,
	"group.consumer.session.timeout.ms": 45 * time.Second,
	"group.initial.rebalance.delay.ms":  3 * time.Second,
}

// ReadLimits asks the broker for its group settings (DescribeConfigs).
func ReadLimits(ctx context.Context, admin *groups.Admin) (Limits, error) {
	names := make([]string, 0, len(kafkaDefaults))
	for n := range kafkaDefaults {
		names = append(names, n)
	}
	got, err := admin.BrokerConfigs(ctx, names)
	if err != nil {
		return Limits{}, err
	}
	ms := func(name string) time.Duration {
		if n, err := strconv.ParseInt(got[name], 10, 64); err == nil && n >= 0 {
			return time.Duration(n) * time.Millisecond
		}
		return kafkaDefaults[name]
	}
	return Limits{ClassicMin: ms("group.min.session.timeout.ms"), ClassicMax: ms("group.max.session.timeout.ms"),
		ConsumerSession: ms("group.consumer.session.timeout.ms"), RebalanceDelay: ms("group.initial.rebalance.delay.ms")}, nil
}

// wantedSession is the classic session timeout offsetlab's consumers ask
// for: short, so a kill -9 is noticed in about a second, where the cluster
// allows it.
const wantedSession = time.Second

// Session is the classic session timeout offsetlab's consumers get: a
// second, within what the cluster allows ($SESSION).
func (l Limits) Session() time.Duration {
	return min(max(wantedSession, l.ClassicMin), max(l.ClassicMax, l.ClassicMin))
}

// Heartbeat is heartbeat.interval.ms for that session: a tenth of it, at
// least 100 ms (Kafka wants it well below the session timeout).
func (l Limits) Heartbeat() time.Duration { return max(l.Session()/10, 100*time.Millisecond) }

// GroupSession is the session timeout of the protocol the story runs under
// ($SESSION): the classic one offsetlab's consumers ask for, or KIP-848's.
func (l Limits) GroupSession() time.Duration {
	if l.Protocol == Consumer {
		return l.ConsumerSession
	}
	return l.Session()
}

// Longest is the longest session timeout a story's group may have, classic
// or KIP-848: how long a kill -9 can take to show.
func (l Limits) Longest() time.Duration { return max(l.Session(), l.ConsumerSession) }

func (l Limits) String() string {
	return fmt.Sprintf("classic session %s (allowed %s to %s), KIP-848 session %s, initial rebalance delay %s",
		l.Session(), l.ClassicMin, l.ClassicMax, l.ConsumerSession, l.RebalanceDelay)
}

// vars are the story's timing variables: $SESSION and $CONSUMER_SESSION.
func (l Limits) vars() map[string]string {
	return map[string]string{"SESSION": l.GroupSession().String(), "CONSUMER_SESSION": l.ConsumerSession.String()}
}

// timing is a duration a story writes as a sum of literals and timing
// variables: 20s, $SESSION, $CONSUMER_SESSION+20s.
type timing struct {
	fixed time.Duration
	vars  []string
}

func parseTiming(s string) (timing, error) {
	var t timing
	for _, term := range strings.Split(s, "+") {
		if v, ok := strings.CutPrefix(term, "$"); ok && (v == "SESSION" || v == "CONSUMER_SESSION") {
			t.vars = append(t.vars, v)
			continue
		}
		d, err := time.ParseDuration(term)
		if err != nil || d <= 0 {
			return timing{}, fmt.Errorf("%q is not a duration (e.g. 500ms, 2s, 1m, $SESSION+10s, $CONSUMER_SESSION+20s)", s)
		}
		t.fixed += d
	}
	return t, nil
}

// on is the duration on a cluster with these limits.
func (t timing) on(l Limits) time.Duration {
	d := t.fixed
	for _, v := range t.vars {
		d += map[string]time.Duration{"SESSION": l.GroupSession(), "CONSUMER_SESSION": l.ConsumerSession}[v]
	}
	return d
}

// SessionWaits estimates how long the story waits for sessions to time
// out on a cluster with these limits: every kill -9 of a dynamic member
// leaves the group waiting one session timeout for it (a static member
// restarted in time keeps its place and costs nothing).
func (sc *Scenario) SessionWaits(l Limits) time.Duration {
	starts := map[string]*startStep{}
	var total time.Duration
	cost := func(name string) time.Duration {
		s := starts[name]
		switch {
		case s == nil || s.exec != nil || flagValue(s.flags, "static-id") != "":
			return 0
		case flagValue(s.flags, "protocol") == Consumer, flagValue(s.flags, "protocol") == "" && l.Protocol == Consumer:
			return l.ConsumerSession
		}
		if d, err := time.ParseDuration(flagValue(s.flags, "session-timeout")); err == nil {
			return d
		}
		return l.Session()
	}
	for _, line := range sc.Lines {
		if line.Protocol != "" && line.Protocol != l.Protocol {
			continue
		}
		switch st := line.Step.(type) {
		case *startStep:
			starts[st.name] = st
		case *signalStep:
			if st.sig == sigKill {
				total += cost(st.name)
			}
		case *chaosStep:
			for _, rd := range st.rounds {
				total += cost(rd.name)
			}
		}
	}
	return total
}
