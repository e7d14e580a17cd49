package discovery

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// svcCache keeps decoded SvcMDs by ID with the bytes they were decoded
// from: a Query decodes each stored SvcMD once, not every time, and a
// replaced one (whatever its Updated time) is decoded again.
type svcCache struct {
	mu sync.Mutex
	m  map[string]cachedSvc
}

type cachedSvc struct {
	xml []byte
	svc *disco.SvcMD
}

// maxCachedSvcMDs bounds the cache; past it, it starts over.
const maxCachedSvcMDs = 4096

func (d *DS) decode(r store.SvcMD) (*disco.SvcMD, error) {
	c := &d.svcs
	c.mu.Lock()
	if e, ok := c.m[r.ID]; ok && bytes.Equal(e.xml, r.XML) {
		c.mu.Unlock()
		return e.svc, nil
	}
	c.mu.Unlock()
	doc, err := xmlsec.Parse(r.XML, xmlsec.Limits{})
	if err != nil {
		return nil, fmt.Errorf("stored SvcMD %s: %w", r.ID, err)
	}
	s, err := disco.DecodeSvcMD(doc.Root())
	if err != nil {
		return nil, fmt.Errorf("stored SvcMD %s: %w", r.ID, err)
	}
	s.ID = r.ID
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedSvcMDs {
		c.m = map[string]cachedSvc{}
	}
	c.m[r.ID] = cachedSvc{xml: r.XML, svc: s}
	c.mu.Unlock()
	return s, nil
}

func (d *DS) decodeAll(rs []store.SvcMD) ([]*disco.SvcMD, error) {
	out := make([]*disco.SvcMD, 0, len(rs))
	for _, r := range rs {
		s, err := d.decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// linkedSvcMDs are the SvcMDs of every institution the principal is
// enrolled at (an active federation with a local identifier), in provider
// then ID order.
func (d *DS) linkedSvcMDs(ctx context.Context, principal string) ([]*disco.SvcMD, error) {
	fs, err := d.cfg.Store.Federations(ctx, principal)
	if err != nil {
		return nil, err
	}
	var out []*disco.SvcMD
	for _, f := range fs {
		if !f.Active() || f.ProviderID == d.cfg.EntityID || f.SPProvidedID == "" {
			// A link is an enrolment: the institution's local identifier.
			// A bare pairwise NameID (an SSO at an SP, a token minted for
			// an associated service) links the principal to nothing there.
			continue
		}
		rs, err := d.cfg.Store.SvcMDs(ctx, f.ProviderID)
		if err != nil {
			return nil, err
		}
		svcs, err := d.decodeAll(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, svcs...)
	}
	return out, nil
}

// cardPresent applies the reception-desk rule (ARCHITECTURE "Reception
// terminal", "Consent"): a registered reception terminal presenting a
// token from a card login younger than the bound, for a purpose the
// policy lists, may reach that purpose's service types. It returns them,
// or nil when the rule does not apply.
func (d *DS) cardPresent(inv *Invoker, now time.Time) []string {
	r := &d.cfg.Policy.Reception
	classes := r.AuthnClasses
	if classes == nil {
		classes = []string{saml.ACSmartcardPKI}
	}
	age := now.Sub(inv.AuthnInstant)
	switch {
	case !inv.Proven || !contains(r.Terminals, inv.Provider):
		return nil
	case inv.AuthnInstant.IsZero() || !contains(classes, inv.AuthnClass):
		return nil
	case age >= r.maxAge() || age < -time.Minute: // a login from the future is a broken clock, not a card
		return nil
	}
	return r.Purposes[inv.Purpose]
}
