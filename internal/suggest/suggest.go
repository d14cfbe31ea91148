// Package suggest orders the names a user could have meant by how close
// they are to what was typed, for errors that list them: "topic ordres
// does not exist (topics, closest first: orders, orders-out, users)".
package suggest

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/agnivade/levenshtein"
)

// Closest returns up to n of names, the closest to want first: by edit
// distance, a name that contains want (or is contained in it) counting as
// closer than any other at the same distance, then alphabetically.
func Closest(want string, names []string, n int) []string {
	type scored struct {
		name     string
		distance int
		apart    bool // neither contains the other
	}
	var s []scored
	for _, name := range names {
		apart := !strings.Contains(name, want) && !strings.Contains(want, name)
		s = append(s, scored{name, levenshtein.ComputeDistance(want, name), apart})
	}
	slices.SortFunc(s, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.distance, b.distance), boolCompare(a.apart, b.apart), strings.Compare(a.name, b.name))
	})
	out := make([]string, 0, min(n, len(s)))
	for _, x := range s[:min(n, len(s))] {
		out = append(out, x.name)
	}
	return out
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// List says the names for a message: "orders, orders-out, users", with
// "and N more" past the n shown; "none" when there are none.
func List(want string, names []string, n int) string {
	if len(names) == 0 {
		return "none"
	}
	s := strings.Join(Closest(want, names, n), ", ")
	if len(names) > n {
		s += ", and " + strconv.Itoa(len(names)-n) + " more"
	}
	return s
}
