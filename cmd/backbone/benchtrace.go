package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// sqlStats times the statements of "backbone bench --sql-stats" from the
// client's side, by statement text: a query alone from start to end (reading
// its rows included), a query of a pipelined batch from when pgx asked for its
// result to when it had it. The second is mostly the server's work on it, but
// not exactly: the first statements of a batch also wait for the batch to be
// sent, and the CPU is shared, so read the figures as shares, not timings.
type sqlStats struct {
	mu    sync.Mutex
	on    bool
	stats map[string]*sqlStat
}

type sqlStat struct {
	label string
	count int
	total time.Duration
}

var (
	_ pgx.QueryTracer    = (*sqlStats)(nil)
	_ pgx.BatchTracer    = (*sqlStats)(nil)
	_ pgx.CopyFromTracer = (*sqlStats)(nil)
)

func newSQLStats() *sqlStats { return &sqlStats{stats: map[string]*sqlStat{}} }

// record adds a statement's time, while recording is on.
func (s *sqlStats) record(sql string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.on {
		return
	}
	label := strings.Join(strings.Fields(sql), " ")
	if len(label) > 88 {
		label = label[:85] + "..."
	}
	st := s.stats[label]
	if st == nil {
		st = &sqlStat{label: label}
		s.stats[label] = st
	}
	st.count++
	st.total += d
}

// recording turns recording on or off.
func (s *sqlStats) recording(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on = on
}

type traceStart struct{}

// TraceQueryStart notes when a query starts.
func (s *sqlStats) TraceQueryStart(ctx context.Context, _ *pgx.Conn,
	data pgx.TraceQueryStartData) context.Context {
	ctx = context.WithValue(ctx, traceSQL{}, data.SQL)
	return context.WithValue(ctx, traceStart{}, time.Now())
}

// TraceQueryEnd records the query's time.
func (s *sqlStats) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	if started, ok := ctx.Value(traceStart{}).(time.Time); ok {
		s.record(queryLabel(ctx), time.Since(started))
	}
}

// queryLabel is the SQL a query was started with; pgx gives it at the start.
func queryLabel(ctx context.Context) string {
	if sql, ok := ctx.Value(traceSQL{}).(string); ok {
		return sql
	}
	return "?"
}

type traceSQL struct{}

// TraceBatchStart does nothing: batch queries carry their own read times.
func (s *sqlStats) TraceBatchStart(ctx context.Context, _ *pgx.Conn,
	_ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery records a batch query from when its result was asked for.
func (s *sqlStats) TraceBatchQuery(_ context.Context, _ *pgx.Conn,
	data pgx.TraceBatchQueryData) {
	if !data.ReadStartTime.IsZero() {
		s.record(data.SQL, time.Since(data.ReadStartTime))
	}
}

// TraceBatchEnd does nothing.
func (s *sqlStats) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TraceCopyFromStart notes when a COPY starts.
func (s *sqlStats) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn,
	data pgx.TraceCopyFromStartData) context.Context {
	ctx = context.WithValue(ctx, traceSQL{}, "COPY "+data.TableName.Sanitize())
	return context.WithValue(ctx, traceStart{}, time.Now())
}

// TraceCopyFromEnd records the COPY's time.
func (s *sqlStats) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn,
	_ pgx.TraceCopyFromEndData) {
	if started, ok := ctx.Value(traceStart{}).(time.Time); ok {
		s.record(queryLabel(ctx), time.Since(started))
	}
}

// print lists the statements that took most time, with their share of all.
func (s *sqlStats) print(out io.Writer, top int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*sqlStat, 0, len(s.stats))
	var sum time.Duration
	for _, st := range s.stats {
		all = append(all, st)
		sum += st.total
	}
	slices.SortFunc(all, func(a, b *sqlStat) int { return int(b.total - a.total) })
	fmt.Fprintf(out, "SQL during the rebuild, by time pgx waited for it, roughly "+
		"(all connections, %.1f s in all):\n", sum.Seconds())
	for _, st := range all[:min(top, len(all))] {
		fmt.Fprintf(out, "  %7.2f s %5.1f %% %8d  %s\n", st.total.Seconds(),
			100*st.total.Seconds()/sum.Seconds(), st.count, st.label)
	}
	fmt.Fprintln(out)
}
