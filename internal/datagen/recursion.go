package datagen

import (
	"fmt"
	"strings"
)

// checkRecursion refuses a record that must contain itself: a cycle of
// fields that are records themselves, with no union, array or map on the
// way to end it. No finite value of such a type exists, and generating one
// recursed until the stack overflowed (found by fuzzing). Recursion through
// a union with null, an array or a map is allowed: those end by chance.
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
