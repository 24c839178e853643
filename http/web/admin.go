package web

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
)

// usersData is the admin's page of users, with the invitation form and, once
// an invitation was made, its link.
type usersData struct {
	Users []userRow
	Roles []option
	// PartnerField offers the partners a new user can belong to.
	PartnerField field
	Form         *form
	// Link is the invitation link just made, shown once, to pass on.
	Link       string
	Invitation accounts.Invitation
}

type userRow struct {
	accounts.User
	RoleName, Partner string
}

// users lists users for an admin; other roles are refused, as accounts
// refuses them invitations.
func (h *Handler) users(r *request) error {
	if r.role() != domain.RoleAdmin {
		return domain.Errorf(domain.CodeForbidden, "only a backbone admin may manage users")
	}
	d, err := h.usersData(r, newForm())
	if err != nil {
		return err
	}
	return h.render(r, http.StatusOK, "users", "Users", d)
}

func (h *Handler) usersData(r *request, f *form) (usersData, error) {
	list, err := h.cfg.Accounts.Users(r.Request().Context())
	if err != nil {
		return usersData{}, err
	}
	d := usersData{Form: f}
	for _, u := range list {
		row := userRow{User: u, RoleName: accounts.RoleName(u.Role)}
		if u.PartnerID != nil {
			row.Partner = h.partnerName(r, *u.PartnerID)
		}
		d.Users = append(d.Users, row)
	}
	for _, role := range accounts.Roles {
		d.Roles = append(d.Roles, option{string(role), accounts.RoleName(role)})
	}
	d.PartnerField, err = h.partnerField(r, "partner_id", "Partner", true)
	d.PartnerField.Value, d.PartnerField.Error = f.Values["partner_id"], f.Errors["partner_id"]
	return d, err
}

// invite makes an invitation and shows its link to the admin, who passes it
// on: Backbone sends no mail.
func (h *Handler) invite(r *request) error {
	f := newForm()
	for _, name := range []string{"email", "role", "partner_id"} {
		f.Values[name] = r.FormValue(name)
	}
	var partner *uuid.UUID
	if p := f.Values["partner_id"]; p != "" {
		id, err := uuid.Parse(p)
		if err != nil {
			f.Errors["partner_id"] = "is not a partner's ID"
		}
		partner = &id
	}
	var token string
	var inv accounts.Invitation
	err := f.invalid()
	if err == nil {
		token, inv, err = h.cfg.Accounts.Invite(r.Request().Context(),
			r.sess.User.Principal(), f.Values["email"], domain.Role(f.Values["role"]), partner)
	}
	if domain.ErrorCode(err) == domain.CodeForbidden || err != nil && !f.take(err) {
		return err
	}
	if err == nil {
		f = newForm()
	}
	d, derr := h.usersData(r, f)
	if derr != nil {
		return derr
	}
	if err != nil {
		return h.render(r, statusOf(err), "users", "Users", d)
	}
	d.Link, d.Invitation = h.baseURL(r)+"/invitations/"+token, inv
	return h.render(r, http.StatusCreated, "users", "Users", d)
}

// baseURL is the address people reach the UI at: the configured one, else
// the one this request arrived at.
func (h *Handler) baseURL(r *request) string {
	if h.cfg.BaseURL != "" {
		return strings.TrimRight(h.cfg.BaseURL, "/")
	}
	return r.Scheme() + "://" + r.Request().Host
}
