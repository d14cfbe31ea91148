package suggest

import (
	"slices"
	"testing"
)

func TestClosest(t *testing.T) {
	names := []string{"users", "orders-out", "pageviews", "orders", "demo-orders", "ordres2"}
	if got, want := Closest("ordres", names, 4), []string{"ordres2", "orders", "users", "orders-out"}; !slices.Equal(got, want) {
		t.Errorf("Closest(ordres) = %q, want %q", got, want)
	}
	if got, want := Closest("order", names, 2), []string{"orders", "ordres2"}; !slices.Equal(got, want) {
		t.Errorf("Closest(order) = %q, want %q", got, want)
	}
	if got := Closest("x", nil, 3); len(got) != 0 {
		t.Errorf("Closest of nothing = %q", got)
	}
}

func TestList(t *testing.T) {
	names := []string{"c", "b", "a", "workshop"}
	if got, want := List("worksop", names, 2), "workshop, a, and 2 more"; got != want {
		t.Errorf("List = %q, want %q", got, want)
	}
	if got := List("g", nil, 5); got != "none" {
		t.Errorf("List of nothing = %q, want none", got)
	}
}
