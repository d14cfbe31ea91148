package scenario

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/offsetlab/offsetlab/internal/producer"
)

func init() {
	register(verb{"produce", "produce N [producer flags]: write N records to $TOPIC and wait for every acknowledgement", parseProduce})
	register(verb{"produce-bg", "produce-bg NAME N [producer flags]: start a producer process named NAME writing N records (wait NAME acked N, wait NAME exit)", parseProduceBg})
}

// produceStep runs a producer with an acked ledger; in the foreground it
// waits for the last acknowledgement.
type produceStep struct {
	name       string // "" in the foreground: producer1, producer2, ...
	count      int64
	flags      []string
	background bool
}

// produceBound is how long a foreground produce may take.
const produceBound = 2 * time.Minute

func parseProduce(p *parser, args []string) (step, error) {
	if len(args) < 1 {
		return nil, badUsage("missing the record count")
	}
	return newProduce(p, "", args[0], args[1:])
}

func parseProduceBg(p *parser, args []string) (step, error) {
	if len(args) < 2 {
		return nil, badUsage("missing the name or the record count")
	}
	if p.consumers[args[0]] > 0 || p.producers[args[0]] {
		return nil, fmt.Errorf("%q is already the name of a process", args[0])
	}
	p.producers[args[0]] = true
	st, err := newProduce(p, args[0], args[1], args[2:])
	if err != nil {
		return nil, err
	}
	st.background = true
	return st, nil
}

func newProduce(p *parser, name, n string, flags []string) (*produceStep, error) {
	c, err := count(n, "record count")
	if err != nil {
		return nil, err
	}
	if err := producer.Check(append([]string{"--topic", "t", "--count", n}, placeholders(flags)...)); err != nil {
		return nil, fmt.Errorf("producer flags: %v", err)
	}
	return &produceStep{name: name, count: c, flags: flags}, nil
}

func (s *produceStep) run(r *run) error {
	name := s.name
	if name == "" {
		r.producers++
		name = fmt.Sprintf("producer%d", r.producers)
	}
	path := filepath.Join(r.dir, name+".ledger")
	r.acked[name] = path
	full := append([]string{"--topic", r.vars["TOPIC"], "--count", strconv.FormatInt(s.count, 10), "--ledger", path, "--progress=false"}, r.expandAll(s.flags)...)
	p, err := r.sup.Start(name, "producer", full)
	if err != nil || s.background {
		return err
	}
	ctx, cancel := context.WithTimeout(r.ctx, produceBound)
	defer cancel()
	if err := r.sup.Wait(ctx, p); err != nil {
		return fmt.Errorf("waited %s for the producer to finish: %w", produceBound, err)
	}
	if p.ExitCode() != 0 {
		return fmt.Errorf("the producer exited with code %d", p.ExitCode())
	}
	return nil
}
