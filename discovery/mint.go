package discovery

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// target is one WSP the tokens of a Query are for: the principal's
// pairwise NameID there, with its local identifier, and its encryption
// key. err is why it gets no token.
type target struct {
	nameID *saml.NameID
	to     xmlenc.Recipient
	err    *refusal
	// sessionIndex is the WSP's SessionIndex in the IdP session of the
	// DS token; "" when the token names none.
	sessionIndex string
}

// issue is one token to mint: a match and the mechanisms it serves.
type issue struct {
	m      *match
	mechs  []wsf.Mechanism
	bearer bool
	tok    *secmech.Minted
	err    error
}

// mintAll mints the tokens of every match, several at once (each costs a
// signature and a key encryption), and returns the EPRs of those that got
// one, in the order of the matches. Each token issued and each refusal is
// audited, in one append (auditBatch). A session that ended before the
// WSPs could join it is a *refusal.
func (d *DS) mintAll(ctx context.Context, inv *Invoker, principal string, sess *store.Session, ms []*match, now time.Time) ([]*wsf.EPR, error) {
	targets, err := d.targets(ctx, principal, ms, now)
	if err != nil {
		return nil, err
	}
	if err := d.joinSession(ctx, sess, targets, now); err != nil {
		return nil, err
	}
	var issues []*issue
	var audits auditBatch
	for _, m := range ms {
		t := targets[m.svc.ProviderID]
		if t.err != nil {
			if err := audits.refusal(inv, principal, m.svc.ProviderID, "query "+m.serviceType, t.err, now); err != nil {
				return nil, err
			}
			continue
		}
		hok, bearer := split(m.mechs)
		if len(hok) > 0 {
			issues = append(issues, &issue{m: m, mechs: hok})
		}
		if len(bearer) > 0 {
			issues = append(issues, &issue{m: m, mechs: bearer, bearer: true})
		}
	}
	d.mintParallel(inv, targets, issues, now)
	eprs, err := d.eprs(inv, principal, issues, &audits, now)
	if err != nil {
		return nil, err
	}
	return eprs, audits.append(ctx, d)
}

// targets reads, once per WSP, the principal's pairwise NameID there
// (created on first use, as the IdP does) and the WSP's encryption key.
// The principal's federations are read in one statement; store.Pairwise
// runs only for a WSP the principal has none with yet.
func (d *DS) targets(ctx context.Context, principal string, ms []*match, now time.Time) (map[string]*target, error) {
	out := map[string]*target{}
	fs, err := d.cfg.Store.Federations(ctx, principal)
	if err != nil {
		return nil, err
	}
	known := make(map[string]store.Federation, len(fs))
	for _, f := range fs {
		known[f.ProviderID] = f
	}
	for _, m := range ms {
		p := m.svc.ProviderID
		if out[p] != nil {
			continue
		}
		t := &target{}
		out[p] = t
		to, err := d.cfg.Providers.Recipient(ctx, p)
		if err == nil {
			err = secmech.CheckTarget(to)
		}
		if err != nil {
			t.err = refuse(disco.NoResults, "%s has no encryption key: no token (%v)", p, err)
			continue
		}
		t.to = to
		f, ok := known[p]
		switch {
		case ok && !f.Active():
			err = store.ErrConflict
		case !ok:
			f, err = store.Pairwise(ctx, d.cfg.Store, principal, p, true, now, d.cfg.Rand)
		}
		switch {
		case errors.Is(err, store.ErrConflict):
			t.err = refuse(disco.NoResults, "link of the principal with %s terminated", p)
			continue
		case err != nil:
			return nil, err
		}
		t.nameID = &saml.NameID{Value: f.NameID, Format: saml.NameIDPersistent, NameQualifier: d.cfg.NameQualifier,
			SPNameQualifier: p, SPProvidedID: f.SPProvidedID}
	}
	return out, nil
}

// split sorts an EPR's mechanisms into those a holder-of-key token serves
// and those a bearer token serves.
func split(ms []wsf.Mechanism) (hok, bearer []wsf.Mechanism) {
	for _, m := range ms {
		if info, _ := m.Info(); info.Token == wsf.BearerToken {
			bearer = append(bearer, m)
		} else {
			hok = append(hok, m)
		}
	}
	return hok, bearer
}

// mintParallel mints every issue, GOMAXPROCS at a time.
func (d *DS) mintParallel(inv *Invoker, targets map[string]*target, issues []*issue, now time.Time) {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, is := range issues {
		if len(issues) == 1 {
			d.mintOne(inv, targets[is.m.svc.ProviderID], is, now)
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.mintOne(inv, targets[is.m.svc.ProviderID], is, now)
		}()
	}
	wg.Wait()
}

func (d *DS) mintOne(inv *Invoker, t *target, is *issue, now time.Time) {
	req := secmech.TokenRequest{Audience: is.m.svc.ProviderID, Target: t.to, NameID: t.nameID,
		Confirmation: secmech.ConfirmHolderOfKey, Invoker: inv.Cert,
		Lifetime: d.lifetime(inv, is.m, now), SessionEnd: inv.TokenEnd,
		AuthnInstant: inv.AuthnInstant, AuthnClassRef: inv.AuthnClass, SessionIndex: t.sessionIndex,
		ServiceTypes: []string{is.m.serviceType}} // consent is per service: the WSP checks the one called
	if inv.AuthnClass == "" {
		req.AuthnInstant, req.SessionIndex = time.Time{}, ""
	}
	if d.fault(FaultWrongAudience) {
		misaddress(&req, inv.Provider)
	}
	if is.bearer {
		req.Confirmation, req.Invoker = secmech.ConfirmBearer, nil
		req.EncryptAssertion = d.cfg.Policy.EncryptBearer
	}
	m := d.minter
	if req.EncryptAssertion {
		m = d.sealed
	}
	is.tok, is.err = m.Mint(req, now)
}

// lifetime is the policy's token lifetime, and for a reception terminal
// no longer than the card-login bound (ARCHITECTURE "Reception terminal":
// terminal tokens live at most 120 s).
func (d *DS) lifetime(inv *Invoker, m *match, now time.Time) time.Duration {
	l := d.cfg.Policy.tokenLifetime()
	r := &d.cfg.Policy.Reception
	if (m.basis == BasisCardPresent || contains(r.Terminals, inv.Provider)) && r.maxAge() < l {
		l = r.maxAge()
	}
	if m.basis == BasisCardPresent {
		// The card's presence is the consent: the token ends when the card
		// login stops counting as present.
		l = min(l, inv.AuthnInstant.Add(r.maxAge()).Sub(now))
	}
	return l
}

// eprs builds the EPRs of the minted tokens, one per match with its
// security contexts in the order of the WSC's preference, and adds each
// token and each failure to the answer's audits.
func (d *DS) eprs(inv *Invoker, principal string, issues []*issue, audits *auditBatch, now time.Time) ([]*wsf.EPR, error) {
	var out []*wsf.EPR
	byMatch := map[*match]*wsf.EPR{}
	for _, is := range issues {
		m := is.m
		if is.err != nil {
			if !errors.Is(is.err, secmech.ErrNoToken) {
				return nil, is.err
			}
			ref := refuse(disco.NoResults, "no token for %s: %v", m.svc.ProviderID, is.err)
			if err := audits.refusal(inv, principal, m.svc.ProviderID, "query "+m.serviceType, ref, now); err != nil {
				return nil, err
			}
			continue
		}
		epr := byMatch[m]
		if epr == nil {
			epr = newEPR(m)
			byMatch[m] = epr
			out = append(out, epr)
		}
		sc := wsf.SecurityContext{Tokens: []wsf.Token{{Usage: wsf.UsageSecurityToken, Element: is.tok.Element}}}
		for _, mech := range is.mechs {
			sc.Mechanisms = append(sc.Mechanisms, string(mech))
		}
		epr.Metadata.SecurityContexts = append(epr.Metadata.SecurityContexts, sc)
		if err := audits.token(inv, principal, is, now); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newEPR is the EPR of IDWSF2 §4.2 for a match, without its security
// contexts: the endpoint's first address, and in Metadata the SvcMD's
// Abstract, ProviderID, the matched ServiceType, sbf:Framework 2.0, the
// service context's options and the endpoint's actions.
func newEPR(m *match) *wsf.EPR {
	md := &wsf.EPRMetadata{Abstract: m.svc.Abstract, ProviderID: m.svc.ProviderID, ServiceType: m.serviceType,
		Framework: wsf.FrameworkVersion, Actions: m.ep.Actions}
	for _, o := range m.ctx.Options {
		md.Options = append(md.Options, o...)
	}
	return &wsf.EPR{Address: m.ep.Addresses[0], Metadata: md}
}
