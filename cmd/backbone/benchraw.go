package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/projections"
)

// The raw phase of "backbone bench": how fast pgx alone writes rows like the
// read models' on the same database, for the ratio of issue 3's first target.
// The rows are the scorecard's actuals as the same workload (same seed) yields
// them: one per event after the set-up. A progress report inserts its cell;
// every other event upserts a reported cell again (ON CONFLICT DO UPDATE), as
// a correction does. Each way of writing starts from an empty copy of the
// scorecard's actuals table, on one connection, 500 rows a transaction.

// rawBatch is how many rows go in one transaction, as the projectors' batches.
const rawBatch = 500

// actualRow is a row of an actuals table.
type actualRow struct {
	measure                           uuid.UUID
	period, periodKey, disaggregation string
	value                             float64
	partner                           *uuid.UUID
	note, source                      string
	sequence                          int64
	update                            bool // upserts a cell reported before
}

// rawResult is what the raw phase measured.
type rawResult struct {
	upsert, unnest, copy rawRate
}

type rawRate struct {
	rows    int
	elapsed time.Duration
}

func (r rawRate) rate() float64 { return float64(r.rows) / r.elapsed.Seconds() }

// raw measures three ways of writing the rows: pgx.Batch of upserts (the
// reference of the target), one multi-row upsert per batch from unnested
// arrays, and COPY of the inserted rows.
func (b *benchEnv) raw(ctx context.Context) (rawResult, error) {
	rows, err := actualRows(b.cfg.workload)
	if err != nil {
		return rawResult{}, err
	}
	if _, err := b.pool.Exec(ctx, `CREATE SCHEMA bench_raw`); err != nil {
		return rawResult{}, fmt.Errorf("create schema bench_raw: %w", err)
	}
	var r rawResult
	steps := []struct {
		table string
		rate  *rawRate
		write func(context.Context, pgx.Tx, string, []actualRow) (int, error)
	}{
		{"actuals_batch", &r.upsert, upsertBatch},
		{"actuals_unnest", &r.unnest, upsertUnnest},
		{"actuals_copy", &r.copy, copyInserts},
	}
	for _, s := range steps {
		create := strings.ReplaceAll(rawTable, "{table}", s.table)
		if _, err := b.pool.Exec(ctx, create); err != nil {
			return r, fmt.Errorf("create table %s: %w", s.table, err)
		}
		if *s.rate, err = b.writeRows(ctx, s.table, rows, s.write); err != nil {
			return r, fmt.Errorf("write %s: %w", s.table, err)
		}
	}
	return r, nil
}

// writeRows writes rows in batches, one transaction each, and times it.
func (b *benchEnv) writeRows(ctx context.Context, table string, rows []actualRow,
	write func(context.Context, pgx.Tx, string, []actualRow) (int, error)) (rawRate, error) {
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return rawRate{}, err
	}
	defer conn.Release()
	started := time.Now()
	written := 0
	for i := 0; i < len(rows); i += rawBatch {
		batch := rows[i:min(i+rawBatch, len(rows))]
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			n, err := write(ctx, tx, "bench_raw."+table, batch)
			written += n
			return err
		})
		if err != nil {
			return rawRate{}, err
		}
	}
	return rawRate{rows: written, elapsed: time.Since(started)}, nil
}

// actualRows replays the workload and returns its actual-like rows.
func actualRows(cfg workloadConfig) ([]actualRow, error) {
	w, err := newWorkload(cfg, time.Now)
	if err != nil {
		return nil, err
	}
	rows := make([]actualRow, 0, cfg.Events)
	var seq int64
	last := -1
	err = w.run(func(e domain.Event) error {
		seq++
		switch p := e.Payload.(type) {
		case domain.ProgressReportedV1:
			rows = append(rows, actualRow{measure: e.AggregateID, period: p.Period.String(),
				periodKey: p.Period.SortKey(), disaggregation: p.Disaggregation,
				value: p.Value, partner: p.ReportingPartnerID, note: p.Note,
				source: e.Source, sequence: seq})
			last = len(rows) - 1
		case domain.ProgressCorrectedV1:
			rows = append(rows, actualRow{measure: e.AggregateID, period: p.Period.String(),
				periodKey: p.Period.SortKey(), disaggregation: p.Disaggregation,
				value: p.Value, sequence: seq, update: true})
		default:
			if last >= 0 {
				again := rows[last]
				again.value, again.sequence, again.update = again.value+1, seq, true
				rows = append(rows, again)
			}
		}
		return nil
	})
	return rows, err
}

// rawTable copies the scorecard's actuals table as the rebuild migrated it,
// columns, defaults and indexes, so the raw writes pay what the projector's do.
const rawTable = `
CREATE TABLE bench_raw.{table} (LIKE ` + projections.ScorecardSchema + `.actuals INCLUDING ALL)`

// rawUpsert is the scorecard's upsert of a reported value.
const rawUpsert = `
INSERT INTO {table} (measure_id, period, period_key, disaggregation,
    reported_value, current_value, reporting_partner_id, note, source, reported_sequence)
VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)
ON CONFLICT (measure_id, period, disaggregation) DO UPDATE SET
    reported_value = excluded.reported_value, current_value = excluded.current_value,
    corrected = false, correction_reason = '', corrected_sequence = NULL,
    reporting_partner_id = excluded.reporting_partner_id, note = excluded.note,
    source = excluded.source, reported_sequence = excluded.reported_sequence`

// upsertBatch queues one upsert per row in a pgx.Batch: what the projectors do.
func upsertBatch(ctx context.Context, tx pgx.Tx, table string, rows []actualRow) (int, error) {
	q := strings.ReplaceAll(rawUpsert, "{table}", table)
	b := &pgx.Batch{}
	for _, r := range rows {
		b.Queue(q, r.measure, r.period, r.periodKey, r.disaggregation, r.value, r.partner,
			r.note, r.source, r.sequence)
	}
	return len(rows), tx.SendBatch(ctx, b).Close()
}

// rawUnnest upserts a whole batch in one statement from arrays.
const rawUnnest = `
INSERT INTO {table} (measure_id, period, period_key, disaggregation,
    reported_value, current_value, reporting_partner_id, note, source, reported_sequence)
SELECT m, p, k, d, v, v, r, n, s, q
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::uuid[],
    $7::text[], $8::text[], $9::int8[]) AS u (m, p, k, d, v, r, n, s, q)
ON CONFLICT (measure_id, period, disaggregation) DO UPDATE SET
    reported_value = excluded.reported_value, current_value = excluded.current_value,
    corrected = false, correction_reason = '', corrected_sequence = NULL,
    reporting_partner_id = excluded.reporting_partner_id, note = excluded.note,
    source = excluded.source, reported_sequence = excluded.reported_sequence`

// upsertUnnest writes a batch with one statement. A statement may not upsert
// a row twice, so only the last row of each cell goes, as the last one wins in
// upsertBatch too; every row still counts as written.
func upsertUnnest(ctx context.Context, tx pgx.Tx, table string, rows []actualRow) (int, error) {
	type cell struct {
		m    uuid.UUID
		p, d string
	}
	lastOf := make(map[cell]int, len(rows))
	for i, r := range rows {
		lastOf[cell{r.measure, r.period, r.disaggregation}] = i
	}
	var (
		ms         []uuid.UUID
		rs         []*uuid.UUID
		ps, ks, ds []string
		ns, ss     []string
		vs         []float64
		qs         []int64
	)
	for i, r := range rows {
		if lastOf[cell{r.measure, r.period, r.disaggregation}] != i {
			continue
		}
		ms, ps, ks, ds = append(ms, r.measure), append(ps, r.period),
			append(ks, r.periodKey), append(ds, r.disaggregation)
		vs, rs, ns, ss = append(vs, r.value), append(rs, r.partner), append(ns, r.note),
			append(ss, r.source)
		qs = append(qs, r.sequence)
	}
	_, err := tx.Exec(ctx, strings.ReplaceAll(rawUnnest, "{table}", table),
		ms, ps, ks, ds, vs, rs, ns, ss, qs)
	return len(rows), err
}

// copyInserts copies the rows that insert a cell; updates cannot be copied.
func copyInserts(ctx context.Context, tx pgx.Tx, table string, rows []actualRow) (int, error) {
	var values [][]any
	for _, r := range rows {
		if !r.update {
			values = append(values, []any{r.measure, r.period, r.periodKey,
				r.disaggregation, r.value, r.value, r.partner, r.note, r.source, r.sequence})
		}
	}
	schema, name, _ := strings.Cut(table, ".")
	n, err := tx.CopyFrom(ctx, pgx.Identifier{schema, name}, []string{"measure_id",
		"period", "period_key", "disaggregation", "reported_value", "current_value",
		"reporting_partner_id", "note", "source", "reported_sequence"},
		pgx.CopyFromRows(values))
	return int(n), err
}

func (r rawResult) print(out io.Writer) {
	fmt.Fprintf(out, "Raw pgx writes of actual-like rows on the same database, one "+
		"connection,\n%d rows a transaction, each into an empty copy of the scorecard's "+
		"actuals table:\n", rawBatch)
	for _, x := range []struct {
		name string
		r    rawRate
	}{
		{"upsert, pgx.Batch", r.upsert},
		{"upsert, one unnest statement", r.unnest},
		{"COPY, inserts only", r.copy},
	} {
		fmt.Fprintf(out, "  %-30s %9d rows %8.2f s %10.0f rows/s\n", x.name, x.r.rows,
			x.r.elapsed.Seconds(), x.r.rate())
	}
	fmt.Fprintln(out)
}
