package datagen

import "testing"

func TestFixedSizeBound(t *testing.T) {
	_, err := New(`{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":4000000000000}}]}`, 1)
	if err == nil || err.Error() != `field "f": fixed F: size 4000000000000 is outside 0..1048576` {
		t.Fatalf("err = %v", err)
	}
}
