package datagen

import (
	"strings"
	"testing"
)

func TestFixedSizeBound(t *testing.T) {
	_, err := New(`{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":4000000000000}}]}`, 1)
	if err == nil || err.Error() != `field "f": fixed F: size 4000000000000 is outside 0..1048576` {
		t.Fatalf("err = %v", err)
	}
}

func TestRecursiveTypeRefused(t *testing.T) {
	for _, schema := range []string{
		`{"type":"record","name":"Node","fields":[{"name":"next","type":"Node"}]}`,
		`{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[{"name":"a","type":"A"}]}}]}`,
	} {
		if _, err := New(schema, 1); err == nil || !strings.HasPrefix(err.Error(), "recursive type ") {
			t.Errorf("New(%s) = %v, want a recursive type error", schema, err)
		}
	}
}
