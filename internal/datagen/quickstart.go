package datagen

import (
	"embed"
	"fmt"
	"slices"
	"strings"
)

// The quickstart schemas are offsetlab's own, in the style of
// kafka-connect-datagen's quickstarts: each file quickstart/NAME.avsc is the
// quickstart NAME. Adding a file adds a quickstart.
//
//go:embed quickstart/*.avsc
var quickstarts embed.FS

// Quickstart returns the schema text of a built-in quickstart, ready for New.
func Quickstart(name string) (string, error) {
	b, err := quickstarts.ReadFile("quickstart/" + name + ".avsc")
	if err != nil || strings.ContainsAny(name, "/\\") {
		return "", fmt.Errorf("unknown quickstart %q (known: %s)", name, strings.Join(QuickstartNames(), ", "))
	}
	return string(b), nil
}

// QuickstartNames lists the built-in quickstarts, sorted.
func QuickstartNames() []string {
	entries, _ := quickstarts.ReadDir("quickstart")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".avsc"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}
