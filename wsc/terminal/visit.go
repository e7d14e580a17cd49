package terminal

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// ErrEnded reports a Visit used after End, or after its card login's
// life passed: nothing more is fetched with it.
var ErrEnded = errors.New("terminal: the visit has ended")

// Visit is one patient at the desk: the card login and the WSC sessions
// made from its bootstrap, one per purpose. End drops them all.
type Visit struct {
	t *Terminal

	mu       sync.Mutex
	login    *sp.Login
	eligible *wsc.Session // purpose eligibility
	treat    *wsc.Session // purpose treatment
	// since is when the login was received, by this terminal's clock;
	// lives how long it serves (TokenLife, or less when the IdP gave
	// less).
	since  time.Time
	lives  time.Duration
	ended  bool
	timing Timing
}

// Timing is where a visit's time went, for the benchmark and the log.
type Timing struct {
	// Card is the time the card spent signing; ECP the rest of the
	// login; Discovery the disco:Query; WSP the DST calls.
	Card, ECP, Discovery, WSP time.Duration
}

// open makes the sessions of l and installs them, unless the visit has
// ended meanwhile. The login's life is counted on this terminal's clock
// from now: the IdP's clock may be minutes off.
func (v *Visit) open(l *sp.Login) error {
	e, err := v.t.session(l, wsf.PurposeEligibility)
	if err != nil {
		return err
	}
	tr, err := v.t.session(l, wsf.PurposeTreatment)
	if err != nil {
		return err
	}
	life := v.t.cfg.TokenLife
	if end := l.SessionNotOnOrAfter; !end.IsZero() && end.Sub(l.AuthnInstant) < life {
		life = end.Sub(l.AuthnInstant)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ended {
		return ErrEnded
	}
	v.login, v.eligible, v.treat = l, e, tr
	v.since, v.lives = v.t.cfg.Now(), life
	return nil
}

// Login returns the verified login of the visit.
func (v *Visit) Login() *sp.Login {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.login
}

// Timing returns where the visit's time went so far.
func (v *Visit) Timing() Timing {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.timing
}

// Expires is when the card login stops serving: its life after it was
// received.
func (v *Visit) Expires() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.since.Add(v.lives)
}

// life is how long the current login serves.
func (v *Visit) life() time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.lives
}

// sessionFor returns the session of purpose, or ErrEnded.
func (v *Visit) sessionFor(purpose string) (*wsc.Session, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ended || !v.t.cfg.Now().Before(v.since.Add(v.lives)) {
		return nil, ErrEnded
	}
	if purpose == wsf.PurposeEligibility {
		return v.eligible, nil
	}
	return v.treat, nil
}

// Renewal is what a renewal ended: the old login's logout at the IdP.
type Renewal struct {
	Logout    *sp.LogoutResult
	LogoutErr error
}

// Renew replaces the visit's login by a fresh ECP login with the card,
// which must be the same patient's. The old login's tokens are dropped,
// and its IdP session is logged out, so that they end at the WSPs too
// rather than live out their life; the Renewal says how that went.
func (v *Visit) Renew(ctx context.Context, c Card) (*Renewal, error) {
	l, err := v.t.ecp(ctx, c)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	old, old1, old2 := v.login, v.eligible, v.treat
	v.mu.Unlock()
	if old == nil || l.NameID.Value != old.NameID.Value {
		return nil, errors.New("terminal: the card now presented is another patient's")
	}
	if err := v.open(l); err != nil {
		return nil, err
	}
	old1.Forget()
	old2.Forget()
	res, err := v.t.logout(ctx, old)
	return &Renewal{Logout: res, LogoutErr: err}, nil
}

// Problem says why a section is missing (wsc.Problem: NoProblem, Slow,
// Down, Refused).
type Problem = wsc.Problem

// Section is one service of one institution: its items by item type, or
// why not.
type Section struct {
	Provider    string
	Institution Name
	ServiceType string
	Service     *dst.Service
	Items       map[string][]dst.Item
	Problem     Problem
	Err         error
}

// fetch discovers the service type under purpose and queries every
// institution the DS names (but those skip excludes) for all its items,
// in parallel, each under the timeout. Only the DS failing is an error.
func (v *Visit) fetch(ctx context.Context, purpose, typ string, skip func(provider string) bool) ([]*Section, error) {
	s, err := v.sessionFor(purpose)
	if err != nil {
		return nil, err
	}
	svc := dst.Lookup(typ)
	t0 := v.t.cfg.Now()
	dctx, cancel := context.WithTimeout(ctx, v.t.cfg.Timeout)
	eprs, err := s.Discover(dctx, typ)
	cancel()
	t1 := v.t.cfg.Now()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &HopError{Hop: HopDS, Err: err}
	}
	var sections []*Section
	var calls []wsc.Call
	seen := map[string]bool{}
	for _, e := range eprs {
		p := e.Metadata.ProviderID
		if seen[p] || skip != nil && skip(p) {
			continue
		}
		seen[p] = true
		q := &dst.Query{}
		for _, it := range svc.Items {
			q.Items = append(q.Items, dst.QueryItem{ItemID: it.Name, Select: "/" + svc.Prefix + ":" + it.Name, HasSelect: true, Count: -1})
		}
		call, err := wsc.DSTQuery(typ, p, q)
		if err != nil {
			return nil, err
		}
		calls = append(calls, call)
		sections = append(sections, &Section{Provider: p, Institution: v.t.name(p), ServiceType: typ, Service: svc})
	}
	outs := s.CallAll(ctx, calls, v.t.cfg.Timeout)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	for i, sec := range sections {
		sec.Items, sec.Err = decode(svc, outs[i])
		sec.Problem = wsc.ProblemOf(sec.Err)
	}
	sort.SliceStable(sections, func(i, j int) bool { return sections[i].Provider < sections[j].Provider })
	v.mu.Lock()
	v.timing.Discovery += t1.Sub(t0)
	v.timing.WSP += v.t.cfg.Now().Sub(t1)
	v.mu.Unlock()
	return sections, nil
}

func decode(svc *dst.Service, o wsc.Outcome) (map[string][]dst.Item, error) {
	items, err := wsc.DecodeItems(svc, o)
	for _, list := range items {
		sort.SliceStable(list, func(i, j int) bool { return list[i].Get("Date") > list[j].Get("Date") })
	}
	return items, err
}

// Coverage is the patient's insurance at one insurer, as its eligibility
// service answered.
type Coverage struct {
	Provider    string
	Institution Name
	Insured     bool
	// The fields of the eligibility item (wsf/dst catalog), as the
	// insurer gave them.
	InsurerNumber, InsurerName, Kind, Symbol, Number, Branch string
	Copayment, ValidFrom, ValidUntil                         string
	// Valid is Insured and today within [ValidFrom, ValidUntil].
	Valid bool
}

// Eligibility is the answer to "is this patient insured": each insurer
// the DS names under the reception-desk rule, and the sections that did
// not answer.
type Eligibility struct {
	Coverages []Coverage
	Missing   []*Section
}

// Eligibility discovers the patient's insurers' eligibility services
// (purpose eligibility) and asks each.
func (v *Visit) Eligibility(ctx context.Context) (*Eligibility, error) {
	secs, err := v.fetch(ctx, wsf.PurposeEligibility, dst.Eligibility, nil)
	if err != nil {
		return nil, err
	}
	today := v.t.cfg.Now().Format(time.DateOnly)
	out := &Eligibility{}
	for _, s := range secs {
		if s.Problem != wsc.NoProblem {
			out.Missing = append(out.Missing, s)
			continue
		}
		for _, it := range s.Items["Eligibility"] {
			c := Coverage{Provider: s.Provider, Institution: s.Institution, Insured: it.Get("Insured") == "true" || it.Get("Insured") == "1",
				InsurerNumber: it.Get("InsurerNumber"), InsurerName: it.Get("InsurerName"), Kind: it.Get("Kind"),
				Symbol: it.Get("Symbol"), Number: it.Get("Number"), Branch: it.Get("Branch"), Copayment: it.Get("Copayment"),
				ValidFrom: it.Get("ValidFrom"), ValidUntil: it.Get("ValidUntil")}
			c.Valid = c.Insured && c.ValidFrom <= today && (c.ValidUntil == "" || today <= c.ValidUntil)
			out.Coverages = append(out.Coverages, c)
		}
	}
	return out, nil
}

// Records are the patient's lab results and prescriptions at the other
// institutions, with the card present (purpose treatment, the
// reception-desk rule): the institution's own are in its own system.
func (v *Visit) Records(ctx context.Context) ([]*Section, error) {
	return v.fetch(ctx, wsf.PurposeTreatment, dst.Clinical, func(p string) bool { return p == v.t.cfg.Self })
}

// Enrol links the institution's own patient number to the patient
// (ARCHITECTURE "Enrolment of a link"): a ManageNameID NewID at the IdP,
// which takes it only shortly after this card login, then the
// association of the institution's services at the DS, the card's
// presence being the consent. A refusal of the IdP is an *sp.StatusError,
// of the DS a *wsc.StatusError.
func (v *Visit) Enrol(ctx context.Context, number string) error {
	if v.t.cfg.DS == nil {
		return errors.New("terminal: enrolment is not configured")
	}
	s, err := v.sessionFor(wsf.PurposeTreatment)
	if err != nil {
		return err
	}
	l := v.Login()
	if l == nil {
		return ErrEnded
	}
	ctx, cancel := context.WithTimeout(ctx, 3*v.t.cfg.Timeout)
	defer cancel()
	req, err := v.t.cfg.SP.StartNewID(ctx, l, number)
	if err != nil {
		return err
	}
	answer, err := v.t.cfg.Transport.Post(ctx, req)
	if err != nil {
		return &HopError{Hop: HopIdP, Err: err}
	}
	if err := v.t.cfg.SP.ConsumeNewID(ctx, bytes.NewReader(answer), req.ID); err != nil {
		return err
	}
	ids, err := v.ownSvcMDs(ctx)
	if err != nil {
		return err
	}
	res, err := s.CallDS(ctx, "SvcMDAssociationAdd", (&disco.SvcMDAssociationAdd{SvcMDIDs: ids}).Element(),
		wsf.Header{Consent: &wsf.Consent{URI: wsf.ConsentObtained}})
	if err != nil {
		return &HopError{Hop: HopDS, Err: err}
	}
	resp, err := disco.DecodeSvcMDAssociationAddResponse(res.Payload)
	if err != nil {
		return err
	}
	if resp.Status.Code != disco.OK {
		return &wsc.StatusError{Status: resp.Status}
	}
	return nil
}

// ownSvcMDs asks the DS, as the institution itself, for the IDs of its
// SvcMDs, but its access log's (which needs no association).
func (v *Visit) ownSvcMDs(ctx context.Context) ([]string, error) {
	res, err := v.t.cfg.AsItself.Call(ctx, &client.Call{EPR: v.t.cfg.DS, Action: disco.Action("SvcMDQuery"),
		Payload: (&disco.SvcMDQuery{}).Element()})
	if err != nil {
		return nil, &HopError{Hop: HopDS, Err: err}
	}
	resp, err := disco.DecodeSvcMDQueryResponse(res.Payload)
	if err != nil {
		return nil, err
	}
	if resp.Status.Code != disco.OK {
		return nil, &wsc.StatusError{Status: resp.Status}
	}
	var ids []string
	for _, m := range resp.SvcMDs {
		if len(m.ServiceContexts) > 0 && len(m.ServiceContexts[0].ServiceTypes) > 0 && m.ServiceContexts[0].ServiceTypes[0] == audit.NS {
			continue
		}
		ids = append(ids, m.ID)
	}
	if len(ids) == 0 {
		return nil, errors.New("terminal: the institution has no service registered at the DS")
	}
	return ids, nil
}

// End ends the visit: the sessions and their tokens are dropped at once,
// then a signed LogoutRequest goes to the IdP over SOAP. The visit is
// ended even when the IdP cannot be told, which the error then says.
func (v *Visit) End(ctx context.Context) (*sp.LogoutResult, error) {
	v.mu.Lock()
	if v.ended {
		v.mu.Unlock()
		return nil, ErrEnded
	}
	v.ended = true
	l := v.login
	for _, s := range []*wsc.Session{v.eligible, v.treat} {
		s.Forget()
	}
	v.login, v.eligible, v.treat = nil, nil, nil
	v.mu.Unlock()
	return v.t.logout(ctx, l)
}

// logout sends the IdP a signed SOAP LogoutRequest for l and checks its
// answer.
func (t *Terminal) logout(ctx context.Context, l *sp.Login) (*sp.LogoutResult, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	req, err := t.cfg.SP.StartLogoutSOAP(ctx, l)
	if err != nil {
		return nil, err
	}
	answer, err := t.cfg.Transport.Post(ctx, req)
	if err != nil {
		return nil, &HopError{Hop: HopIdP, Err: err}
	}
	return t.cfg.SP.ConsumeLogoutSOAP(ctx, bytes.NewReader(answer), req.ID)
}

// timedSigner measures the time the card spends signing.
type timedSigner struct {
	crypto.Signer
	now   func() time.Time
	spent *time.Duration
	mu    *sync.Mutex
}

func (s timedSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	t0 := s.now()
	sig, err := s.Signer.Sign(r, digest, opts)
	s.mu.Lock()
	*s.spent += s.now().Sub(t0)
	s.mu.Unlock()
	return sig, err
}
