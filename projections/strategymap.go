package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/backbone-ci/backbone/domain"
)

// Strategy maps are read from the scorecard read model, which already holds
// objectives, their links and their measures' statuses: one projector keeps
// scorecards and maps consistent with each other.

var _ domain.StrategyMapReader = (*Reader)(nil)

// StrategyMap returns an issue's map: a band per perspective, results first,
// named by the issue's labels; in each band its objectives in use, in the
// order they were defined, each with its measures in use and its status
// rolled up from theirs; and the links between objectives in use, in the
// order they were made. Errors: CodeNotFound.
func (r *Reader) StrategyMap(ctx context.Context, issueID uuid.UUID) (domain.StrategyMap, error) {
	var m domain.StrategyMap
	var labels map[domain.Perspective]string
	found := false
	objectives := map[domain.Perspective][]domain.MapObjective{}
	measures := map[uuid.UUID][]domain.MapMeasure{}

	b := snapshot()
	b.Queue(r.sql(selectIssues+` WHERE i.id = $1`), issueID).QueryRow(func(row pgx.Row) error {
		var err error
		m.Issue, err = scanIssue(row)
		return foundRow(err, &found)
	})
	b.Queue(r.sql(selectLabels), issueID).QueryRow(func(row pgx.Row) error {
		var raw []byte
		err := row.Scan(&raw)
		if err == nil {
			err = json.Unmarshal(raw, &labels)
		}
		return ignoreNoRows(err)
	})
	b.Queue(r.sql(selectMapObjectives), issueID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var o domain.MapObjective
			var perspective string
			if err := rows.Scan(&o.ID, &perspective, &o.Title); err != nil {
				return err
			}
			p := domain.Perspective(perspective)
			objectives[p] = append(objectives[p], o)
		}
		return rows.Err()
	})
	b.Queue(r.sql(selectMapMeasures), issueID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var objective uuid.UUID
			var mm domain.MapMeasure
			var status string
			var period *string
			var value *float64
			err := rows.Scan(&objective, &mm.ID, &mm.Name, &mm.Unit, &status, &period, &value)
			if err != nil {
				return err
			}
			mm.Status, mm.Latest = domain.Status(status), periodValue(period, value)
			measures[objective] = append(measures[objective], mm)
		}
		return rows.Err()
	})
	b.Queue(r.sql(selectMapLinks), issueID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var l domain.MapLink
			if err := rows.Scan(&l.CauseID, &l.EffectID); err != nil {
				return err
			}
			m.Links = append(m.Links, l)
		}
		return rows.Err()
	})
	b.Queue("COMMIT")
	if err := r.pool.SendBatch(ctx, b).Close(); err != nil {
		return domain.StrategyMap{}, fmt.Errorf("read strategy map of issue %s: %w", issueID, err)
	}
	if !found {
		return domain.StrategyMap{}, domain.Errorf(domain.CodeNotFound,
			"issue %s does not exist", issueID)
	}

	m.Bands = bands(domain.Issue{Labels: labels}, objectives, measures)
	if m.Links == nil {
		m.Links = []domain.MapLink{}
	}
	return m, nil
}

// bands puts objectives in their perspective's band, top to bottom, each with
// its measures and their statuses rolled up. Every perspective has a band,
// empty or not; an objective of an unknown perspective is left out.
func bands(issue domain.Issue, objectives map[domain.Perspective][]domain.MapObjective,
	measures map[uuid.UUID][]domain.MapMeasure) []domain.MapBand {
	out := make([]domain.MapBand, 0, len(domain.Perspectives))
	for _, p := range domain.Perspectives {
		band := domain.MapBand{Perspective: p, Label: issue.Label(p),
			Objectives: []domain.MapObjective{}}
		for _, o := range objectives[p] {
			o.Measures = measures[o.ID]
			if o.Measures == nil {
				o.Measures = []domain.MapMeasure{}
			}
			statuses := make([]domain.Status, len(o.Measures))
			for i, mm := range o.Measures {
				statuses[i] = mm.Status
			}
			o.Status = domain.RollUp(statuses)
			band.Objectives = append(band.Objectives, o)
		}
		out = append(out, band)
	}
	return out
}

// selectLabels reads the names an issue gives perspectives, as JSON.
const selectLabels = `SELECT perspective_labels FROM {schema}.issues WHERE id = $1`

// selectMapObjectives lists an issue's objectives in use in the order they
// were defined; those defined before the order was kept come last, by title.
const selectMapObjectives = `
SELECT o.id, o.perspective, o.title
FROM {schema}.objectives o
WHERE o.issue_id = $1 AND NOT o.retired
ORDER BY o.sequence NULLS LAST, o.title, o.id`

const selectMapMeasures = `
SELECT m.objective_id, m.id, m.name, m.unit, m.status, m.latest_period, m.latest_value
FROM {schema}.measures m
WHERE m.issue_id = $1 AND NOT m.retired
ORDER BY m.name, m.id`

// selectMapLinks lists the links between objectives in use.
const selectMapLinks = `
SELECT l.cause_id, l.effect_id
FROM {schema}.objective_links l
JOIN {schema}.objectives c ON c.id = l.cause_id AND NOT c.retired
JOIN {schema}.objectives e ON e.id = l.effect_id AND NOT e.retired
WHERE l.issue_id = $1
ORDER BY l.sequence`
