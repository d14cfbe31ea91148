package scenario

import "testing"

// A snapshot says when a group had read everything: a member restarted
// then has nothing to resume from (chaos explains its failed wait so).
func TestSnapshotReadAll(t *testing.T) {
	s := &snapshot{Bounds: map[string][2]int64{"t[0]": {0, 10}, "t[1]": {5, 5}}, Committed: map[string]int64{"t[0]": 10}}
	if !s.readAll() {
		t.Error("committed at the log end, and an empty partition: want read all")
	}
	s.Committed["t[0]"] = 9
	if s.readAll() {
		t.Error("committed one short of the log end: want not read all")
	}
	delete(s.Committed, "t[0]")
	if s.readAll() {
		t.Error("nothing committed on a partition holding records: want not read all")
	}
}
