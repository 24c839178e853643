package web_test

import (
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/internal/tacoma"
)

// tacomaDir is Graduate Tacoma's public dataset, from the repository root.
var tacomaDir = filepath.Join("..", "..", "examples", "tacoma")

// tacomaID is the ID "backbone import" gives a dataset key, so that tests and
// an imported server agree on every aggregate.
func tacomaID(column, key string) uuid.UUID { return tacoma.ID(column, key) }

// loadTacoma writes the whole dataset through the domain's commands, as
// "backbone import" would, and waits until the read models show it.
func (f *fixture) loadTacoma() {
	f.t.Helper()
	seq, err := tacoma.Load(f.ctx, f.commands, trusted, tacomaDir)
	if err != nil {
		f.t.Fatalf("load the Tacoma dataset: %v", err)
	}
	f.waitForReads(seq)
}

// waitForReads waits until every read model has applied seq.
func (f *fixture) waitForReads(seq uint64) {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, position := range f.positions {
		for {
			pos, err := position(f.ctx)
			if err == nil && pos >= seq {
				break
			}
			if time.Now().After(deadline) {
				f.t.Fatalf("the read models did not reach %d within 30s (%d, %v)", seq, pos, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
