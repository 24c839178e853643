package domain

import "github.com/google/uuid"

// Who may do what. A backbone admin may do everything. A partner editor acts for
// its own partner: it defines measures it owns under any shared objective,
// reports on and corrects measures its partner owns or reports, sets their
// targets, and makes and fulfils its partner's commitments. Analysts and viewers
// only read. The shared agenda (partners, issues, objectives, links) is the
// admins'. An empty role is a trusted internal caller.

// mayAdminister allows admins only.
func mayAdminister(meta Meta, what string) error {
	if meta.Role == "" || meta.Role == RoleAdmin {
		return nil
	}
	return Errorf(CodeForbidden, "only a backbone admin may %s", what)
}

// mayActFor allows admins, and editors acting for their own partner.
func mayActFor(meta Meta, partner *uuid.UUID, what string) error {
	switch {
	case meta.Role == "" || meta.Role == RoleAdmin:
		return nil
	case meta.Role != RoleEditor:
		return Errorf(CodeForbidden, "%s may not %s", roleName(meta.Role), what)
	case meta.PartnerID == nil:
		return Errorf(CodeForbidden, "this editor belongs to no partner and may not %s", what)
	case partner == nil || *partner != *meta.PartnerID:
		return Errorf(CodeForbidden, "an editor may %s only for its own partner", what)
	}
	return nil
}

// mayReportOn allows admins, and editors whose partner owns the measure or has
// reported on it before.
func mayReportOn(meta Meta, m Measure, what string) error {
	if !m.Exists() || meta.Role == "" || meta.Role == RoleAdmin {
		return nil
	}
	if err := mayActFor(meta, m.Definition.OwnerPartnerID, what); err == nil {
		return nil
	}
	for _, v := range m.Values {
		if p, ok := v.Report.Payload.(ProgressReportedV1); ok &&
			mayActFor(meta, p.ReportingPartnerID, what) == nil {
			return nil
		}
	}
	if meta.Role != RoleEditor {
		return Errorf(CodeForbidden, "%s may not %s", roleName(meta.Role), what)
	}
	return Errorf(CodeForbidden,
		"an editor may %s only on measures its partner owns or reports", what)
}

func roleName(r Role) string {
	switch r {
	case RoleAnalyst:
		return "an analyst"
	case RoleViewer:
		return "a viewer"
	case RoleEditor:
		return "a partner editor"
	}
	return "the role " + string(r)
}
