package md

import (
	"time"
)

// Entry is an entity of a loaded document with the validity it inherits:
// ValidUntil is the earliest validUntil of the entity and of every group
// around it (SAML Metadata §2.3.1: a group's validUntil bounds its
// members), zero when none sets one.
type Entry struct {
	Entity     *EntityDescriptor
	ValidUntil time.Time
}

// Expired reports whether the entry's validity has ended at now: validUntil
// is the instant from which the metadata must no longer be used.
func (e Entry) Expired(now time.Time) bool {
	return expired(e.ValidUntil, now)
}

func expired(validUntil, now time.Time) bool {
	return !validUntil.IsZero() && !now.Before(validUntil)
}

// ValidUntil returns the validUntil of the document's root element.
func (d *Document) ValidUntil() time.Time {
	if d.Group != nil {
		return d.Group.ValidUntil
	}
	return d.Entity.ValidUntil
}

// Check refuses a document whose root validUntil has passed at now with
// ErrExpired (SAML Metadata §2.3.1, §2.3.2: metadata past its validUntil
// must not be relied on).
func (d *Document) Check(now time.Time) error {
	if vu := d.ValidUntil(); expired(vu, now) {
		return Errorf(KindExpired, "document valid until %s", vu.UTC().Format(time.RFC3339))
	}
	return nil
}

// Entries checks the document at now and returns its entities with their
// inherited validity. An entity or nested group that has expired is left
// out and reported in skipped (each an ErrExpired); an expired document is
// ErrExpired and an entityID listed twice is ErrDuplicate.
func (d *Document) Entries(now time.Time) (live []Entry, skipped []error, err error) {
	all, err := d.entries(now)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range all {
		if e.Expired(now) {
			skipped = append(skipped, Errorf(KindExpired, "%s valid until %s", e.Entity.EntityID, e.ValidUntil.UTC().Format(time.RFC3339)))
			continue
		}
		live = append(live, e)
	}
	return live, skipped, nil
}

// entries checks the document at now and lists all its entities, expired
// or not, refusing an entityID listed twice.
func (d *Document) entries(now time.Time) ([]Entry, error) {
	if err := d.Check(now); err != nil {
		return nil, err
	}
	if d.Entity != nil {
		return []Entry{{Entity: d.Entity, ValidUntil: d.Entity.ValidUntil}}, nil
	}
	all := collect(d.Group, time.Time{}, nil, 0)
	seen := make(map[string]bool, len(all))
	for _, e := range all {
		if seen[e.Entity.EntityID] {
			return nil, Errorf(KindDuplicate, "%s", e.Entity.EntityID)
		}
		seen[e.Entity.EntityID] = true
	}
	return all, nil
}

// collect walks g and its nested groups (depth bounded by the decoder's
// maxNesting) and lists every entity with the earliest validUntil on its
// path.
func collect(g *EntitiesDescriptor, bound time.Time, out []Entry, depth int) []Entry {
	if depth > maxNesting {
		return out
	}
	bound = earliest(bound, g.ValidUntil)
	for _, e := range g.Entities {
		out = append(out, Entry{Entity: e, ValidUntil: earliest(bound, e.ValidUntil)})
	}
	for _, sub := range g.Groups {
		out = collect(sub, bound, out, depth+1)
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// CacheDuration returns the shortest cacheDuration anywhere in the document
// (root, nested groups, entities, role descriptors), zero when none is
// given: SAML Metadata §2.3.1 lets each level ask to be refreshed that
// often.
func (d *Document) CacheDuration() time.Duration {
	if d.Entity != nil {
		return entityCache(d.Entity)
	}
	return groupCache(d.Group, 0)
}

func groupCache(g *EntitiesDescriptor, depth int) time.Duration {
	best := g.CacheDuration
	if depth > maxNesting {
		return best
	}
	for _, e := range g.Entities {
		best = shortest(best, entityCache(e))
	}
	for _, sub := range g.Groups {
		best = shortest(best, groupCache(sub, depth+1))
	}
	return best
}

func shortest(a, b time.Duration) time.Duration {
	if a == 0 || (b > 0 && b < a) {
		return b
	}
	return a
}

// Live returns the entity as usable at now: e itself when none of its role
// descriptors has passed its own validUntil (SAML Metadata §2.4.1), else a
// shallow copy without those roles.
func (e *EntityDescriptor) Live(now time.Time) *EntityDescriptor {
	idp := liveRoles(e.IDPSSO, now, func(d *IDPSSODescriptor) time.Time { return d.ValidUntil })
	sp := liveRoles(e.SPSSO, now, func(d *SPSSODescriptor) time.Time { return d.ValidUntil })
	other := liveRoles(e.Roles, now, func(d *RoleDescriptor) time.Time { return d.ValidUntil })
	if len(idp) == len(e.IDPSSO) && len(sp) == len(e.SPSSO) && len(other) == len(e.Roles) {
		return e
	}
	cp := *e
	cp.IDPSSO, cp.SPSSO, cp.Roles = idp, sp, other
	return &cp
}

func liveRoles[T any](roles []T, now time.Time, validUntil func(T) time.Time) []T {
	out := roles[:0:0]
	for _, r := range roles {
		if !expired(validUntil(r), now) {
			out = append(out, r)
		}
	}
	if len(out) == len(roles) {
		return roles
	}
	return out
}

// entityCache is the shortest cacheDuration of an entity and its roles.
func entityCache(e *EntityDescriptor) time.Duration {
	best := e.CacheDuration
	for _, d := range e.IDPSSO {
		best = shortest(best, d.CacheDuration)
	}
	for _, d := range e.SPSSO {
		best = shortest(best, d.CacheDuration)
	}
	for _, d := range e.Roles {
		best = shortest(best, d.CacheDuration)
	}
	return best
}
