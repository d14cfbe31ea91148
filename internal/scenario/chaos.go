package scenario

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// chaos kills and restarts the named consumers at seeded random moments.
// After each kill it reads the group's committed offsets from the broker,
// restarts the member with the flags it last started with, and checks that
// the restarted member resumed at those offsets. With static membership
// (--static-id) and a restart well within the session timeout, the member
// gets its own partitions back and nobody else moved them in between, so the
// snapshot is exactly what it must resume from.
func (r *run) chaos(args []string) error {
	if len(args) < 3 {
		return usage("chaos")
	}
	rounds, err := strconv.Atoi(args[0])
	if err != nil || rounds < 1 {
		return fmt.Errorf("%q is not a number of rounds", args[0])
	}
	seed, err := strconv.ParseUint(args[1], 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a seed", args[1])
	}
	names := args[2:]
	for _, n := range names {
		if _, ok := r.startArgs[n]; !ok {
			return fmt.Errorf("%s was never started", n)
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	for round := 1; round <= rounds; round++ {
		name := names[rng.IntN(len(names))]
		pause := time.Duration(100+rng.IntN(400)) * time.Millisecond
		fmt.Fprintf(r.out, "    chaos %d/%d: %s killed after %s\n", round, rounds, name, pause)
		if err := r.sleep([]string{pause.String()}); err != nil {
			return err
		}
		if err := r.kill([]string{name}); err != nil {
			return err
		}
		label := fmt.Sprintf("chaos-%d", round)
		if err := r.snapshot([]string{label}); err != nil {
			return err
		}
		if err := r.start(append([]string{name}, r.startArgs[name]...)); err != nil {
			return err
		}
		if err := r.wait([]string{name, "processed", "1", "within", "20s"}); err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		if err := r.expectResume([]string{name, label, "fallback", "start"}); err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
	}
	return nil
}
