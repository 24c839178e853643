package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/term"

	"github.com/backbone-ci/backbone/projections"
)

// rebuildCommand is "backbone rebuild NAME": a read model built again beside
// the live one, then switched in, while the API keeps serving the live one.
func rebuildCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rebuild", flag.ContinueOnError)
	natsURL := fs.String("nats-url", env("NATS_URL", ""),
		"the NATS server of the event stream, such as serve's --nats-listen (NATS_URL)")
	databaseURL := fs.String("database-url", env("DATABASE_URL", defaultDatabaseURL),
		"PostgreSQL URL (DATABASE_URL)")
	onPoison := poisonFlag(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: backbone rebuild [flags] NAME\n\n"+
			"Rebuilds a read model (%s) from the start of the stream into a fresh\n"+
			"schema while the live one keeps serving, then switches it in at once.\n\n",
			strings.Join(projections.Names(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return flag.ErrHelp
	}
	policy, err := projections.ParsePoisonPolicy(*onPoison)
	if err != nil {
		return err
	}
	if *natsURL == "" {
		return errors.New("rebuild needs the NATS server of the event stream: pass " +
			"--nats-url or set NATS_URL (serve's embedded server listens with --nats-listen)")
	}
	return rebuild(ctx, *natsURL, *databaseURL, fs.Arg(0), policy)
}

func rebuild(ctx context.Context, natsURL, databaseURL, name string,
	policy projections.PoisonPolicy) error {
	if _, err := projections.New(name, ""); err != nil {
		return err
	}
	out := newProgress(os.Stderr)
	log := newLogger()
	if out.terminal {
		// Lifecycle lines would break the progress line; warnings still show.
		log = slog.New(slog.NewTextHandler(os.Stderr,
			&slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	pool, err := openDatabase(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	nc, closeNATS, err := connectNATS(serveConfig{natsURL: natsURL}, log)
	if err != nil {
		return err
	}
	defer closeNATS()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}

	final, err := projections.Rebuild(ctx, pool, js, streamName(), name,
		projections.RebuildConfig{
			Projector: projections.Config{Logger: log, OnPoison: policy},
			Progress:  out.show,
		})
	out.end()
	if err != nil {
		return err
	}
	fmt.Printf("rebuilt %s: %s events in %s (%s events/s), switched in\n", name,
		thousands(final.Applied), final.Elapsed.Round(time.Millisecond),
		thousands(uint64(final.Rate)))
	return nil
}

// progress shows how far a rebuild is: on a terminal, one line rewritten in
// place; elsewhere, a line every progressEvery.
type progress struct {
	w        io.Writer
	terminal bool
	last     time.Time
	shown    bool
}

const progressEvery = 5 * time.Second

func newProgress(f *os.File) *progress {
	return &progress{w: f, terminal: term.IsTerminal(int(f.Fd()))}
}

func (p *progress) show(r projections.RebuildProgress) {
	if !p.terminal && time.Since(p.last) < progressEvery && !r.Done {
		return
	}
	p.last = time.Now()
	line := progressLine(r)
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.shown = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// end moves past the progress line.
func (p *progress) end() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}

// progressLine is one report: events applied of the stream's, the rate, the
// time taken, and what the rebuild waits for, if anything.
func progressLine(r projections.RebuildProgress) string {
	pct := 100.0
	if r.Last > 0 {
		pct = 100 * float64(r.Applied) / float64(r.Last)
	}
	line := fmt.Sprintf("rebuilding %s: %s / %s events (%.1f%%), %s events/s, %s",
		r.Name, thousands(r.Applied), thousands(r.Last), pct, thousands(uint64(r.Rate)),
		r.Elapsed.Round(time.Second))
	switch {
	case r.Done:
		line += ", switched in"
	case r.Stuck != nil:
		line += fmt.Sprintf(", stuck on event %d (%s): %s", r.Stuck.Sequence,
			r.Stuck.EventType, r.Stuck.Error)
	case r.Switching:
		line += ", switching"
	}
	return line
}

// thousands writes n with commas between groups of three digits.
func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
