// Package workshop turns scenarios into exercises: the learner reads the
// setup, predicts a figure ("how many records will the restarted consumer
// read again?"), the scenario runs on a live broker, and the measured figure
// is shown beside the prediction with a short explanation.
//
// An exercise is a txtar file: its comment is a scenario script (see
// internal/scenario) and its file "exercise" holds, in YAML:
//
//	title: the setup in a few words
//	setup: what the learner is told before predicting
//	question: the question, with a concrete figure as its answer
//	answer: the figure the run measures (consumed c1, replayed, lost, resumed-at 0, position c1 1, kill-to-resume-ms, ...)
//	unit: records, offset, ms (words for the reveal)
//	tolerance: how far off still counts as right, as a fraction (0.2) of the measured figure; 0 means exact
//	explain: two or three sentences on why
//	expect: the answer, where it does not depend on timing (tests check it)
package workshop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"
	"go.yaml.in/yaml/v3"

	"github.com/offsetlab/offsetlab/internal/scenario"
)

// Exercise is one prediction to make and check.
type Exercise struct {
	N         int     `yaml:"-"`
	Name      string  `yaml:"-"`
	Title     string  `yaml:"title"`
	Setup     string  `yaml:"setup"`
	Question  string  `yaml:"question"`
	Answer    string  `yaml:"answer"`
	Unit      string  `yaml:"unit"`
	Tolerance float64 `yaml:"tolerance"`
	Explain   string  `yaml:"explain"`
	// Expect is the answer an instructor can count on, for exercises whose
	// figure does not depend on timing; the tests hold the run to it.
	Expect   *int64 `yaml:"expect"`
	Scenario *scenario.Scenario
}

// Parse reads an exercise file named like "exercises/03-committed-wins.txtar".
func Parse(n int, file string, data []byte) (*Exercise, error) {
	sc, err := scenario.Parse(file, data)
	if err != nil {
		return nil, err
	}
	name := sc.Name
	ex := &Exercise{N: n, Name: name, Scenario: sc}
	var spec []byte
	var rest []txtar.File
	for _, f := range sc.Files {
		if f.Name == "exercise" {
			spec = f.Data
		} else {
			rest = append(rest, f)
		}
	}
	sc.Files = rest
	if spec == nil {
		return nil, fmt.Errorf("%s: no \"-- exercise --\" section", name)
	}
	if err := yaml.Unmarshal(spec, ex); err != nil {
		return nil, fmt.Errorf("%s: the exercise section is not YAML: %v", name, err)
	}
	switch {
	case ex.Title == "", ex.Question == "", ex.Answer == "", ex.Explain == "":
		return nil, fmt.Errorf("%s: an exercise needs title, question, answer and explain", name)
	case ex.Tolerance < 0:
		return nil, fmt.Errorf("%s: tolerance must be 0 or more", name)
	}
	return ex, nil
}

// Prompt asks the learner for a number, or returns "" when in is nil
// (--no-pause): the reveal then shows the measured figure alone. An answer
// that is not a number ("about 200") is asked for again, not thrown away;
// an empty line skips.
func Prompt(ctx context.Context, w io.Writer, in io.Reader) (string, error) {
	if in == nil {
		fmt.Fprintln(w, "(--no-pause: no prediction asked for)")
		return "", nil
	}
	lines, done := make(chan string), make(chan struct{})
	defer close(done)
	go func() {
		r := bufio.NewReader(in)
		for {
			s, err := r.ReadString('\n')
			select {
			case lines <- strings.TrimSpace(s):
			case <-done:
				return
			}
			if err != nil { // no more input: the next prompt skips
				close(lines)
				return
			}
		}
	}()
	for {
		fmt.Fprint(w, "Your answer (a number; Enter to skip): ")
		select {
		case s, open := <-lines:
			if _, ok := ParseGuess(s); ok || s == "" || !open {
				return s, nil
			}
			fmt.Fprintf(w, "%q is not a number: type digits only, such as 200.\n", s)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// Run tells the setup, takes a prediction, runs the scenario and reveals
// the measured answer. It fails when the scenario's own checks fail or the
// run did not measure the figure the exercise asks about. Unless the
// exercise is about Position() or Committed(), the consumers' tables of
// them are left out of the run's output (see positionsHider).
func (ex *Exercise) Run(ctx context.Context, env scenario.Env, w io.Writer, in io.Reader) (*scenario.Result, error) {
	fmt.Fprintf(w, "Exercise %d (%s): %s\n\n%s\n\n%s\n", ex.N, ex.ShortName(), ex.Title, wrap(ex.Setup), wrap(ex.Question))
	guess, err := Prompt(ctx, w, in)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(w, "\nRunning it on the broker:")
	if !strings.HasPrefix(ex.Answer, "position ") && !strings.HasPrefix(ex.Answer, "committed ") {
		h := &positionsHider{w: env.Out}
		env.Out = h
		defer h.Flush()
	}
	res := scenario.Run(ctx, ex.Scenario, env)
	if !res.Passed {
		return res, fmt.Errorf("the exercise's scenario failed: %w", res.Err())
	}
	measured, ok := res.Figures[ex.Answer]
	if !ok {
		return res, fmt.Errorf("%s: the run measured no figure %q", ex.Name, ex.Answer)
	}
	fmt.Fprintf(w, "\n%s\n", ex.Reveal(guess, measured))
	if ex.Expect != nil && !ex.close(float64(*ex.Expect), measured) {
		return res, fmt.Errorf("%s: measured %d, but the exercise's answer is %d", ex.Name, measured, *ex.Expect)
	}
	return res, nil
}

// Reveal puts the prediction beside the measured figure and grades it (see
// Grade), then explains.
func (ex *Exercise) Reveal(guess string, measured int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured: %s", ex.measuredText(measured))
	if guess != "" {
		if g, ok := ParseGuess(guess); ok {
			fmt.Fprintf(&b, "   your answer: %s, %s", guess, ex.Grade(g, measured))
		} else {
			fmt.Fprintf(&b, "   (your answer %q is not a number)", guess)
		}
	}
	fmt.Fprintf(&b, "\n\n%s\n", wrap(ex.Explain))
	return b.String()
}

func (ex *Exercise) close(g float64, measured int64) bool {
	m := float64(measured)
	if ex.Tolerance == 0 {
		return g == m
	}
	return math.Abs(g-m) <= ex.Tolerance*math.Max(math.Abs(m), 1)
}

// ShortName is the exercise's name without its number, as the guide uses
// it: new-group-latest.
func (ex *Exercise) ShortName() string { return strings.TrimLeft(ex.Name, "0123456789-") }

// wrap folds text at 78 columns.
func wrap(s string) string {
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(s) {
		if col > 0 && col+1+len(word) > 78 {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

// ErrNoSuchExercise is returned by Find.
var ErrNoSuchExercise = errors.New("no such exercise")

// Find returns the exercise with number or name key.
func Find(all []*Exercise, key string) (*Exercise, error) {
	for _, ex := range all {
		if strconv.Itoa(ex.N) == key || ex.Name == key || ex.ShortName() == key {
			return ex, nil
		}
	}
	names := make([]string, len(all))
	for i, ex := range all {
		names[i] = fmt.Sprintf("%d %s", ex.N, ex.ShortName())
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrNoSuchExercise, key, strings.Join(names, ", "))
}
