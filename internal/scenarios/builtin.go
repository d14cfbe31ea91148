package scenarios

import (
	"io/fs"
	"path"
	"strings"

	"github.com/offsetlab/offsetlab/internal/scenario"
	"github.com/offsetlab/offsetlab/internal/workshop"
	"github.com/offsetlab/offsetlab/scenarios/catalog"
	"github.com/offsetlab/offsetlab/scenarios/exercises"
)

// catalogDir and exercisesDir prefix the built-in files' names, as in the
// source tree (scenarios/catalog/NAME.txtar): what a result's file and a
// parse error show.
const (
	catalogDir   = "catalog/"
	exercisesDir = "exercises/"
)

// loadCatalog parses the built-in stories: the catalog, then the suite
// that `scenarios run --consumer` runs against a program under test.
func loadCatalog() ([]*scenario.Scenario, error) {
	parse := func(_ int, name string, b []byte) (*scenario.Scenario, error) { return scenario.Parse(name, b) }
	stories, err := parseAll(catalog.FS, catalogDir, parse)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(catalog.FS, "suite")
	if err != nil {
		return nil, err
	}
	suite, err := parseAll(sub.(fs.ReadFileFS), catalogDir+"suite/", parse)
	return append(stories, suite...), err
}

// catalogSource is the text of a built-in story, by its file name
// (catalog/NAME.txtar, catalog/suite/NAME.txtar).
func catalogSource(file string) ([]byte, error) {
	return catalog.FS.ReadFile(strings.TrimPrefix(file, catalogDir))
}

// loadExercises parses the workshop's exercises, numbered from 1 in the
// order of their file names.
func loadExercises() ([]*workshop.Exercise, error) {
	return parseAll(exercises.FS, exercisesDir, workshop.Parse)
}

// parseAll parses each .txtar file of fsys, in the order of their names,
// each named dir+file.
func parseAll[T any](fsys fs.ReadFileFS, dir string, parse func(n int, name string, b []byte) (T, error)) ([]T, error) {
	files, err := fs.Glob(fsys, "*.txtar")
	if err != nil {
		return nil, err
	}
	var all []T
	for i, f := range files {
		b, err := fsys.ReadFile(f)
		if err != nil {
			return nil, err
		}
		v, err := parse(i+1, path.Join(dir, f), b)
		if err != nil {
			return nil, err
		}
		all = append(all, v)
	}
	return all, nil
}
