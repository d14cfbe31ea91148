package scenario

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// The line protocol: a processed line becomes a consumed and a processed
// event; other output passes through; a malformed protocol line is the
// program's first failure, named with its line.
func TestProgramLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c1.1.jsonl")
	w, err := ledger.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &program{name: "c1", observe: observeLines, w: w}
	for _, tc := range []struct {
		line  string
		taken bool
	}{
		{"starting up", false},
		{"offsetlab processed orders 2 17", true},
		{"offsetlab processed orders two 18", true},
		{"offsetlab processed orders 2 19", true},
	} {
		if got := p.line(tc.line); got != tc.taken {
			t.Errorf("line(%q) = %v, want %v", tc.line, got, tc.taken)
		}
	}
	err = p.failure()
	if err == nil || !strings.Contains(err.Error(), `c1 printed a malformed protocol line (its line 2 of the protocol): "offsetlab processed orders two 18": partition "two" is not a number`) {
		t.Errorf("failure = %v", err)
	}
	_ = w.Close()
	events, _ := ledger.Read(path)
	if len(events) != 4 || events[1].Type != ledger.Processed || events[1].Record.Offset != 17 || events[3].Record.Partition != 2 {
		t.Errorf("ledger = %+v", events)
	}
	quiet := &program{name: "c2", observe: observeBroker, w: w}
	if quiet.line("offsetlab processed orders 2 17") {
		t.Error("a program observed through the broker had its lines taken")
	}
}

func TestParseProtocol(t *testing.T) {
	for _, bad := range []string{"offsetlab processed", "offsetlab processed t 0", "offsetlab consumed t 0 1", "offsetlab processed t -1 1", "offsetlab processed t 0 x", "offsetlab processed t 0 1 extra"} {
		if _, err := parseProtocol(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	r, err := parseProtocol("offsetlab processed my.topic 0 9223372036854775806")
	if err != nil || r.Topic != "my.topic" || r.Offset != 9223372036854775806 {
		t.Errorf("got %+v, %v", r, err)
	}
}
