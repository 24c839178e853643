package domain

import "github.com/google/uuid"

// Partner is an organisation taking part in the collective effort.
type Partner struct {
	ID         uuid.UUID
	Registered *Event
	Name       string
	Kind       PartnerKind
}

// Exists reports whether the partner was registered.
func (p Partner) Exists() bool { return p.Registered != nil }

func (p *Partner) apply(e Event) {
	if r, ok := e.Payload.(PartnerRegisteredV1); ok {
		p.ID, p.Registered, p.Name, p.Kind = e.AggregateID, &e, r.Name, r.Kind
	}
}

// RegisterPartner asks to register a partner. ID is optional: without it the
// server picks one.
type RegisterPartner struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
}

// Register decides RegisterPartner. Registering the same partner again with the
// same details changes nothing; with other details it is a conflict.
func (p Partner) Register(c RegisterPartner) (Decision, error) {
	var fe fieldErrors
	r := PartnerRegisteredV1{
		Name: text(&fe, "name", c.Name, 1, maxName),
		Kind: parseEnum(&fe, "kind", c.Kind, PartnerKinds),
	}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	if p.Exists() {
		if p.Name == r.Name && p.Kind == r.Kind {
			return AlreadyDone(*p.Registered), nil
		}
		return Decision{}, Errorf(CodeConflict,
			"partner %s is already registered as %q (%s)", p.ID, p.Name, p.Kind)
	}
	return Append(r, nil), nil
}
