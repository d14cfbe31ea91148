package scenario

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

func init() {
	register(verb{"chaos", "chaos ROUNDS SEED NAME... [over D]: kill -9 a seeded random one of NAME... at a random moment (spread over about D), restart it with its flags and check it resumed at the committed offsets, ROUNDS times", parseChaos})
}

// chaosStep kills and restarts the named consumers at seeded random
// moments. After each kill it reads the group's committed offsets from the
// broker, restarts the member with the flags it last started with, and
// checks that the restarted member resumed at those offsets. With static
// membership (--static-id) and a restart well within the session timeout,
// the member gets its own partitions back and nobody else moved them in
// between, so the snapshot is exactly what it must resume from.
type chaosStep struct {
	rounds []chaosRound
}

// chaosRound is one kill: who, and after how long a pause.
type chaosRound struct {
	name  string
	pause time.Duration
}

func parseChaos(p *parser, args []string) (step, error) {
	if len(args) < 3 {
		return nil, badUsage("want ROUNDS SEED and one or more consumer names, then optionally over DURATION")
	}
	rounds, err := strconv.Atoi(args[0])
	if err != nil || rounds < 1 {
		return nil, fmt.Errorf("%q is not a number of rounds (1 or more)", args[0])
	}
	seed, err := strconv.ParseUint(args[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a seed (a whole number)", args[1])
	}
	names := args[2:]
	// A pause is 100 to 500 ms, or with over D, D/ROUNDS on average (half
	// to one and a half of it): kills spread over a long run.
	pause, spread := 100*time.Millisecond, 400*time.Millisecond
	if n := len(names); n >= 3 && names[n-2] == "over" {
		d, err := time.ParseDuration(names[n-1])
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("over %q: want a duration such as 5m", names[n-1])
		}
		names = names[:n-2]
		pause, spread = d/time.Duration(rounds)/2, d/time.Duration(rounds)
	}
	for _, n := range names {
		if err := p.sees(n, "chaos (each resume is checked)", observeLines); err != nil {
			return nil, err
		}
	}
	// The seed decides every round now, so the story knows how many runs
	// each member will have had (for NAME#RUN after it).
	st := &chaosStep{}
	rng := rand.New(rand.NewPCG(seed, seed))
	for range rounds {
		name := names[rng.IntN(len(names))]
		st.rounds = append(st.rounds, chaosRound{name, pause + time.Duration(rng.Int64N(int64(spread)))})
		p.consumers[name]++
	}
	return st, nil
}

func (s *chaosStep) run(r *run) error {
	for i, rd := range s.rounds {
		round, name := i+1, rd.name
		// A deliberate, seeded pause: where in the processing the kill lands.
		fmt.Fprintf(r.out, "    chaos %d/%d: %s killed after %s\n", round, len(s.rounds), name, rd.pause)
		if err := r.sleep(rd.pause); err != nil {
			return err
		}
		if err := (&signalStep{name: name, sig: sigKill}).run(r); err != nil {
			return err
		}
		label := fmt.Sprintf("chaos-%d", round)
		if err := (&snapshotStep{label: label, group: r.groups[name]}).run(r); err != nil {
			return err
		}
		if err := r.starts[name].run(r); err != nil {
			return err
		}
		// --wait bounds the restart: a dynamic member's partitions come back
		// only once the dead one's session timed out.
		if err := r.waitFor(name, &countCond{what: "processed", n: 1}, r.defaultWait()); err != nil {
			if r.snapshots[label].readAll() {
				return fmt.Errorf("round %d: %w; when %s was killed its group had committed every partition up to its log end, so nothing was left to resume from: kill while records are still being written (a shorter over, or a slower producer)", round, err, name)
			}
			return fmt.Errorf("round %d: %w", round, err)
		}
		if err := (&resumeCheck{name: name, snapshot: label, fallback: "start"}).run(r); err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
	}
	return nil
}
