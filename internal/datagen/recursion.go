package datagen

import (
	"fmt"
	"strings"
)

// checkRecursion refuses a record that must contain itself: a cycle of
// fields that are records themselves, with no union, array or map on the
// way to end it. No finite value of such a type exists, and generating one
// recursed until the stack overflowed (found by fuzzing). Recursion through
// a union with another branch, an array or a map is allowed: the generator
// ends it (see maxDepth).
func checkRecursion(t *avroType) error {
	var walk func(t *avroType, path []string, open map[*avroType]bool) error
	walk = func(t *avroType, path []string, open map[*avroType]bool) error {
		if open[t] {
			return fmt.Errorf("recursive type %s (via %s): every value would contain another one; make the field nullable, an array or a map", t.fullName, strings.Join(path, "."))
		}
		open[t] = true
		defer delete(open, t)
		for _, f := range t.fields {
			if f.typ.kind == "record" {
				if err := walk(f.typ, append(path, f.name), open); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(t, nil, map[*avroType]bool{})
}

// maxDepth ends recursion through arrays, maps and unions. Each time
// generation enters a record that can contain itself, the depth grows by
// one; an array or map that can lead back to itself draws its length as
// usual and halves it once per level of depth, and at maxDepth it is empty;
// a union that can lead back to itself picks, at maxDepth, only among the
// branches that cannot. Without this a Node whose children are an array of
// Node (8 or more items each) never ended: the stack overflowed.
const maxDepth = 8

// children are the types a value of t is made of.
func (t *avroType) children() []*avroType {
	switch t.kind {
	case "record":
		c := make([]*avroType, len(t.fields))
		for i, f := range t.fields {
			c[i] = f.typ
		}
		return c
	case "array":
		return []*avroType{t.items}
	case "map":
		return []*avroType{t.values}
	case "union":
		return t.branches
	}
	return nil
}

// reaches reports whether a value of from can contain a value of to.
func reaches(from, to *avroType) bool {
	seen := map[*avroType]bool{}
	var walk func(t *avroType) bool
	walk = func(t *avroType) bool {
		if t == to {
			return true
		}
		if seen[t] {
			return false
		}
		seen[t] = true
		for _, c := range t.children() {
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(from)
}

// recursive reports whether a value of t can contain another value of t.
func recursive(t *avroType) bool {
	for _, c := range t.children() {
		if reaches(c, t) {
			return true
		}
	}
	return false
}

// decayed is the length of a recursive array or map at depth.
func decayed(n, depth int) int {
	if depth >= maxDepth {
		return 0
	}
	return n >> depth
}
