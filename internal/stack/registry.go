package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// registryFile is where a --data-dir stack keeps the registry's schemas.
// srfake holds them in memory only: a restarted stack came back with its
// topics but an empty registry whose ids began at 1 again, so the consumer
// skipped 18,001 old records as "schema id 1 is unknown", and once a new
// schema took id 1, orders decoded as pageviews. Confluent Schema Registry
// keeps its schemas in the _schemas topic and never reuses an id.
const registryFile = "registry.json"

// persistedRegistry serves the registry and, after each request that can
// change it, writes every live schema version (subject, version, id,
// schema) to registryFile. Soft-deleted versions are not kept.
type persistedRegistry struct {
	reg  *srfake.Registry
	path string
	auth string // the Authorization header of a secure registry, for its own reads
	mu   sync.Mutex
}

// persistRegistry restores reg from dir, then returns the handler that
// keeps dir up to date.
func persistRegistry(reg *srfake.Registry, dir, auth string) (http.Handler, error) {
	p := &persistedRegistry{reg: reg, path: filepath.Join(dir, registryFile), auth: auth}
	if err := p.restore(); err != nil {
		return nil, fmt.Errorf("unable to restore the schema registry from %s: %w", p.path, err)
	}
	return p, nil
}

func (p *persistedRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.reg.Handler().ServeHTTP(w, r)
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return
	}
	if err := p.save(); err != nil {
		fmt.Fprintf(os.Stderr, "stack: unable to save the schema registry to %s: %v\n", p.path, err)
	}
}

// save writes the schemas as GET /schemas lists them, through a temporary
// file renamed into place, so a kill -9 mid-write leaves the previous copy.
func (p *persistedRegistry) save() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	req := httptest.NewRequest(http.MethodGet, "/schemas", nil)
	if p.auth != "" {
		req.Header.Set("Authorization", p.auth)
	}
	rec := httptest.NewRecorder()
	p.reg.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("GET /schemas answered %d: %s", rec.Code, rec.Body)
	}
	tmp := p.path + ".tmp"
	if err := os.WriteFile(tmp, rec.Body.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p.path)
}

// restore seeds the saved schemas with their ids and versions, in id order
// (a schema's references were registered before it). A schema registered
// under several subjects shares one id: the first subject seeds it, the
// others register it again, which reuses the id.
func (p *persistedRegistry) restore() (err error) {
	b, err := os.ReadFile(p.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var saved []sr.SubjectSchema
	if err := json.Unmarshal(b, &saved); err != nil {
		return err
	}
	slices.SortFunc(saved, func(a, b sr.SubjectSchema) int {
		if a.ID != b.ID {
			return a.ID - b.ID
		}
		return a.Version - b.Version
	})
	defer func() { // SeedSchema panics on a schema it cannot take
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	seeded := map[int]bool{}
	for _, s := range saved {
		if !seeded[s.ID] {
			p.reg.SeedSchema(s.Subject, s.Version, s.ID, s.Schema)
			seeded[s.ID] = true
			continue
		}
		if _, _, err := p.reg.RegisterSchema(s.Subject, s.Schema); err != nil {
			return fmt.Errorf("subject %s version %d: %w", s.Subject, s.Version, err)
		}
	}
	return nil
}
