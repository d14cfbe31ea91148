// Package exercises holds the workshop's exercises (`scenarios exercises`):
// the .txtar files beside this one, embedded. Their format is
// internal/workshop's.
package exercises

import "embed"

// FS holds the exercises, NN-NAME.txtar at its root.
//
//go:embed *.txtar
var FS embed.FS
