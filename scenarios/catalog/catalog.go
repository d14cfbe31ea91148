// Package catalog holds the scenarios command's built-in stories: the
// .txtar files beside this one, embedded, so that a binary that runs them
// (scenarios, and e2e's test binary) needs no source tree. The command's
// code is internal/scenarios; each story's language is internal/scenario's.
package catalog

import "embed"

// FS holds the stories, NAME.txtar at its root, and in suite/ the stories
// `scenarios run --consumer` runs against a program under test.
//
//go:embed *.txtar suite/*.txtar
var FS embed.FS
