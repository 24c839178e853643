package projections

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// constructors makes each read model's projection into a given schema; its
// key is the read model's name, which is also its live schema.
var constructors = map[string]func(schema string) Projection{
	ScorecardSchema: func(schema string) Projection { return NewScorecard(schema) },
	FundingSchema:   func(schema string) Projection { return NewFunding(schema) },
	ActivitySchema:  func(schema string) Projection { return NewActivity(schema) },
}

// Names lists the read models, sorted.
func Names() []string {
	names := make([]string, 0, len(constructors))
	for n := range constructors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns the projection of the named read model into schema (its live
// schema when "").
func New(name, schema string) (Projection, error) {
	c, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("no read model %q; the read models are %s",
			name, strings.Join(Names(), ", "))
	}
	if schema == "" {
		schema = name
	}
	if err := CheckSchema(schema); err != nil {
		return nil, err
	}
	return c(schema), nil
}

// readModel gives a projection its schema and its embedded goose migrations.
type readModel struct {
	schema string
	dir    string // under the embedded migrations
}

// Name returns the schema: each schema is a read model of its own on the stream.
func (m readModel) Name() string { return m.schema }

// Schema returns the schema the read model lives in.
func (m readModel) Schema() string { return m.schema }

// Migrations returns the read model's goose migrations.
func (m readModel) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, m.dir)
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}
