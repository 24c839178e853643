package domain

// Status says where a measure stands against its target.
type Status string

// The statuses of a scorecard row.
const (
	OnTrack  Status = "on_track"
	AtRisk   Status = "at_risk"
	OffTrack Status = "off_track"
	// NoData: nothing was reported yet.
	NoData Status = "no_data"
	// NoTarget: a value was reported, but no target was set for its period.
	NoTarget Status = "no_target"
)

// AtRiskBand is the default margin, as a fraction of the target, within which a
// measure short of its target is at risk rather than off track.
const AtRiskBand = 0.10

// StatusOf judges an actual against its target by polarity: on track at or beyond
// the target, at risk within AtRiskBand of it, else off track.
func StatusOf(p Polarity, actual, target float64) Status {
	return StatusWithin(p, actual, target, AtRiskBand*100)
}

// StatusWithin is StatusOf with the at-risk band given in percent of the target;
// rules are tried top-down and the first match wins.
func StatusWithin(p Polarity, actual, target, atRiskPercent float64) Status {
	margin := atRiskPercent / 100 * abs(target)
	switch p {
	case LowerIsBetter:
		switch {
		case actual <= target:
			return OnTrack
		case actual <= target+margin:
			return AtRisk
		}
	default:
		switch {
		case actual >= target:
			return OnTrack
		case actual >= target-margin:
			return AtRisk
		}
	}
	return OffTrack
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
