package discovery_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// query sends q to the DS as the portal with the principal's DS token and
// returns the decoded response and the payload's bytes.
func query(t *testing.T, f *dskit.Federation, c *client.Client, epr *wsf.EPR, q *disco.Query, h wsf.Header) (*disco.QueryResponse, []byte, error) {
	t.Helper()
	res, err := f.Call(t, c, epr, q, "Query", h)
	if err != nil {
		return nil, nil, err
	}
	raw, err := xmlsec.Serialize(res.Payload)
	if err != nil {
		t.Fatal(err)
	}
	r, err := disco.DecodeQueryResponse(res.Payload)
	if err != nil {
		t.Fatalf("QueryResponse: %v\n%s", err, raw)
	}
	return r, raw, nil
}

func portal(t *testing.T, f *dskit.Federation, principal string, o dskit.TokenOptions) (*client.Client, *wsf.EPR) {
	t.Helper()
	tok := f.DSToken(t, principal, f.Keys.Portal.Cert, o)
	return f.Client(t, dskit.PortalID, f.Keys.Portal), f.DSEPR(tok)
}

func byType(q ...string) *disco.Query {
	out := &disco.Query{}
	for _, t := range q {
		out.RequestedServices = append(out.RequestedServices, disco.RequestedService{ServiceTypes: []string{t}})
	}
	return out
}

// wspToken checks the token of epr as its WSP would (issuer signature,
// audience, time) and returns the subject it reads with its own key.
func wspToken(t *testing.T, f *dskit.Federation, w *dskit.WSP, epr *wsf.EPR) *secmech.Token {
	t.Helper()
	if len(epr.Metadata.SecurityContexts) == 0 || len(epr.Metadata.SecurityContexts[0].Tokens) == 0 {
		t.Fatalf("EPR of %s carries no token", w.EntityID)
	}
	el := epr.Metadata.SecurityContexts[0].Tokens[0].Element
	c := &secmech.TokenChecker{Self: w.EntityID, Directory: f.Directory, Decrypter: w.Decrypter(), Skew: time.Minute}
	tok, err := c.Check(context.Background(), el, f.Clock.Now(), false)
	if err != nil {
		t.Fatalf("token for %s as its WSP reads it: %v", w.EntityID, err)
	}
	return tok
}

// TestQueryFiveServices: the portal gets one EPR per associated sample
// service, each token readable by its WSP alone and carrying that
// institution's local identifier, while nothing the portal receives holds
// a local identifier.
func TestQueryFiveServices(t *testing.T) {
	f := dskit.New(t, dskit.Options{})
	f.Link(t, f.Principal, false)
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
	q := byType(dskit.Clinical, dskit.Checkup, dskit.Appointment, dskit.Eligibility, dskit.Pension)
	r, raw, err := query(t, f, c, epr, q, wsf.Header{UsageDirectives: []wsf.UsageDirective{wsf.PurposeDirective(wsf.PurposeSelf)}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status.Code != disco.OK || len(r.EPRs) != len(f.WSPs) {
		t.Fatalf("status %s with %d EPRs, want OK with %d", r.Status.Code, len(r.EPRs), len(f.WSPs))
	}
	for _, w := range f.WSPs {
		if bytes.Contains(raw, []byte(w.LocalID)) {
			t.Errorf("the portal received %s's local identifier", w.EntityID)
		}
	}
	for _, w := range f.WSPs {
		var e *wsf.EPR
		for _, x := range r.EPRs {
			if x.Address == w.Address {
				e = x
			}
		}
		if e == nil {
			t.Fatalf("no EPR for %s", w.Address)
		}
		if e.Address != w.Address || e.Metadata.ProviderID != w.EntityID || e.Metadata.ServiceType != w.ServiceType {
			t.Fatalf("EPR: %s %s %s, want %s %s %s", e.Address, e.Metadata.ProviderID, e.Metadata.ServiceType, w.Address, w.EntityID, w.ServiceType)
		}
		if got := e.Metadata.SecurityContexts[0].Mechanisms[0]; got != string(wsf.ClientTLSSAMLV2) {
			t.Errorf("%s: first mechanism %s", w.EntityID, got)
		}
		tok := wspToken(t, f, w, e)
		if tok.Subject.SPProvidedID != w.LocalID || tok.Subject.SPNameQualifier != w.EntityID || tok.Subject.NameQualifier != dskit.IdPID {
			t.Errorf("%s reads subject %+v", w.EntityID, tok.Subject)
		}
		if keys := tok.HolderOfKeys(f.Clock.Now(), 0); len(keys) != 1 || !f.Keys.Portal.Cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(keys[0]) {
			t.Errorf("%s's token is not bound to the portal's key", w.EntityID)
		}
		for _, other := range f.WSPs {
			if other.EntityID == w.EntityID {
				continue
			}
			c := &secmech.TokenChecker{Self: other.EntityID, Directory: f.Directory, Decrypter: other.Decrypter(), Skew: time.Minute}
			if _, err := c.Check(context.Background(), e.Metadata.SecurityContexts[0].Tokens[0].Element, f.Clock.Now(), false); err == nil {
				t.Errorf("%s accepted the token minted for %s", other.EntityID, w.EntityID)
			}
		}
	}
	events := auditEvents(t, f, f.Principal)
	var tokens int
	for _, e := range events {
		if e.Action == discovery.AuditToken {
			tokens++
			var d discovery.AuditDetail
			if err := json.Unmarshal(e.Detail, &d); err != nil || d.Basis != discovery.BasisAssociation || e.Actor != dskit.PortalID || e.Purpose != wsf.PurposeSelf {
				t.Errorf("audit event %+v detail %s", e, e.Detail)
			}
		}
	}
	if tokens != len(f.WSPs) {
		t.Errorf("%d token events audited, want %d", tokens, len(f.WSPs))
	}
}

func auditEvents(t *testing.T, f *dskit.Federation, principal string) []store.AuditEvent {
	t.Helper()
	p, err := f.Store.AuditEvents(context.Background(), store.AuditQuery{PrincipalID: principal, Limit: store.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p.Events
}

// TestQueryFilters: resultsType, ProviderID, Options, Action and
// SecurityMechID narrow the answer as IDWSF2 §4.1 says; no match is
// NoResults.
func TestQueryFilters(t *testing.T) {
	f := dskit.New(t, dskit.Options{})
	f.Link(t, f.Principal, false)
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
	hospA := f.WSPs[0].EntityID
	for _, tc := range []struct {
		name string
		rs   disco.RequestedService
		want int
		code wsf.Code
	}{
		{"everything", disco.RequestedService{}, 6, disco.OK}, // and the DS's audit service
		{"only-one", disco.RequestedService{ResultsType: disco.ResultsOnlyOne}, 1, disco.OK},
		{"best", disco.RequestedService{ResultsType: disco.ResultsBest}, 1, disco.OK},
		{"provider", disco.RequestedService{ProviderIDs: []string{hospA}}, 2, disco.OK},
		{"provider and type", disco.RequestedService{ProviderIDs: []string{hospA}, ServiceTypes: []string{dskit.Clinical}}, 1, disco.OK},
		{"option nobody offers", disco.RequestedService{Options: []disco.Options{{"urn:liberty:dst:multipleModification"}}}, 0, disco.NoResults},
		{"empty options", disco.RequestedService{Options: []disco.Options{{}}}, 6, disco.OK},
		{"framework 2.0", disco.RequestedService{Frameworks: []disco.Framework{{Version: "2.0"}}}, 6, disco.OK},
		{"framework 1.1", disco.RequestedService{Frameworks: []disco.Framework{{Version: "1.1"}}}, 0, disco.NoResults},
		{"mechanism offered", disco.RequestedService{SecurityMechIDs: []string{string(wsf.ClientTLSPeerSAMLV2)}}, 6, disco.OK},
		{"mechanism not offered", disco.RequestedService{SecurityMechIDs: []string{string(wsf.TLSSAMLV2)}}, 0, disco.NoResults},
		{"bearer for a strict portal", disco.RequestedService{SecurityMechIDs: []string{string(wsf.TLSBearer)}}, 0, disco.NoResults},
		{"unknown type", disco.RequestedService{ServiceTypes: []string{"urn:x-echo"}}, 0, disco.NoResults},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _, err := query(t, f, c, epr, &disco.Query{RequestedServices: []disco.RequestedService{tc.rs}}, wsf.Header{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status.Code != tc.code || len(r.EPRs) != tc.want {
				t.Fatalf("%s with %d EPRs, want %s with %d", r.Status.Code, len(r.EPRs), tc.code, tc.want)
			}
			if tc.name == "mechanism offered" && r.EPRs[0].Metadata.SecurityContexts[0].Mechanisms[0] != string(wsf.ClientTLSPeerSAMLV2) {
				t.Errorf("mechanisms %v", r.EPRs[0].Metadata.SecurityContexts[0].Mechanisms)
			}
		})
	}
}

// TestQueryBearerPeer: a portal whose profile enables TLS:Bearer (ZXID's)
// gets bearer tokens when it asks for them, as EncryptedAssertion under
// the policy that says so.
func TestQueryBearerPeer(t *testing.T) {
	pol := dskit.DefaultPolicy()
	pol.EncryptBearer = true
	f := dskit.New(t, dskit.Options{PortalProfile: wsf.Profile{Name: "bearer", AllowBearer: true}, Policy: &pol})
	f.Link(t, f.Principal, false)
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
	r, _, err := query(t, f, c, epr, &disco.Query{RequestedServices: []disco.RequestedService{{
		ServiceTypes: []string{dskit.Pension}, SecurityMechIDs: []string{string(wsf.TLSBearer)}}}}, wsf.Header{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.EPRs) != 1 {
		t.Fatalf("%s, %d EPRs", r.Status.Code, len(r.EPRs))
	}
	sc := r.EPRs[0].Metadata.SecurityContexts[0]
	if sc.Mechanisms[0] != string(wsf.TLSBearer) || !wire.Is(sc.Tokens[0].Element, wsf.NSSAML, "EncryptedAssertion") {
		t.Fatalf("context %v with %s", sc.Mechanisms, wire.Name(sc.Tokens[0].Element))
	}
	w := f.WSPs[4]
	c2 := &secmech.TokenChecker{Self: w.EntityID, Directory: f.Directory, Decrypter: w.Decrypter(), Skew: time.Minute}
	tok, err := c2.Check(context.Background(), sc.Tokens[0].Element, f.Clock.Now(), true)
	if err != nil || !tok.IsBearer(f.Clock.Now(), 0, false) || tok.Subject.SPProvidedID != w.LocalID {
		t.Fatalf("bearer token: %v %+v", err, tok)
	}
}

// TestQueryNoKeyNoToken: an institution without an encryption key gets no
// EPR, and the audit log says why.
func TestQueryNoKeyNoToken(t *testing.T) {
	f := dskit.New(t, dskit.Options{NoKeyClinic: true})
	f.Link(t, f.Principal, false)
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
	r, _, err := query(t, f, c, epr, byType(dskit.Clinical), wsf.Header{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.EPRs) != 1 || r.EPRs[0].Metadata.ProviderID != f.WSPs[0].EntityID {
		t.Fatalf("%d EPRs, want only hospital A's", len(r.EPRs))
	}
	refused := false
	for _, e := range auditEvents(t, f, f.Principal) {
		refused = refused || (e.Action == discovery.AuditRefused && e.ProviderID == "https://clinic.renkei.test/metadata")
	}
	if !refused {
		t.Error("no audit event for the clinic left without a token")
	}
}

// TestQueryRefusals: a token naming nobody the DS knows, a terminated
// link with the DS, and a token for another audience or expired are
// refused, each with its status or fault.
func TestQueryRefusals(t *testing.T) {
	f := dskit.New(t, dskit.Options{})
	f.Link(t, f.Principal, false)
	c := f.Client(t, dskit.PortalID, f.Keys.Portal)

	t.Run("another audience", func(t *testing.T) {
		tok := f.DSToken(t, f.Principal, f.Keys.Portal.Cert, dskit.TokenOptions{Audience: f.WSPs[0].EntityID})
		_, _, err := query(t, f, c, f.DSEPR(tok), byType(dskit.Clinical), wsf.Header{})
		wantFault(t, err, "")
	})
	t.Run("expired", func(t *testing.T) {
		tok := f.DSToken(t, f.Principal, f.Keys.Portal.Cert, dskit.TokenOptions{Lifetime: time.Minute})
		f.Clock.Advance(5 * time.Minute)
		defer f.Clock.Advance(-5 * time.Minute)
		_, _, err := query(t, f, c, f.DSEPR(tok), byType(dskit.Clinical), wsf.Header{})
		wantFault(t, err, "")
	})
	t.Run("bound to another WSC", func(t *testing.T) {
		tok := f.DSToken(t, f.Principal, f.Keys.Other.Cert, dskit.TokenOptions{})
		_, _, err := query(t, f, c, f.DSEPR(tok), byType(dskit.Clinical), wsf.Header{})
		wantFault(t, err, "")
	})
	t.Run("terminated link with the DS", func(t *testing.T) {
		p := f.NewPrincipal(t)
		tok := f.DSToken(t, p, f.Keys.Portal.Cert, dskit.TokenOptions{})
		_, err := f.Store.UpdateFederation(context.Background(), p, dskit.DSID, func(fd store.Federation) (store.Federation, error) {
			fd.Terminated = f.Clock.Now()
			return fd, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := query(t, f, c, f.DSEPR(tok), byType(dskit.Clinical), wsf.Header{})
		if err != nil || r.Status.Code != disco.Forbidden || len(r.EPRs) != 0 {
			t.Fatalf("%v %+v", err, r)
		}
	})
	t.Run("no link at all", func(t *testing.T) {
		p := f.NewPrincipal(t)
		tok := f.DSToken(t, p, f.Keys.Portal.Cert, dskit.TokenOptions{})
		r, _, err := query(t, f, c, f.DSEPR(tok), byType(dskit.Clinical), wsf.Header{})
		if err != nil || r.Status.Code != disco.NoResults {
			t.Fatalf("%v %+v", err, r)
		}
	})
}

func wantFault(t *testing.T, err error, code wsf.Code) {
	t.Helper()
	var fl *wsf.Fault
	if !errors.As(err, &fl) {
		t.Fatalf("got %v, want a SOAP fault", err)
	}
	if code != "" && fl.StatusCode() != code {
		t.Fatalf("fault %s, want %s", fl.StatusCode(), code)
	}
}

// TestConsent: linked but not associated, the portal that may not
// redirect gets InteractionRequired; one that may gets a RedirectRequest
// to the consent page, whose answer records the associations, and the
// re-sent Query gets the services.
func TestConsent(t *testing.T) {
	f := dskit.New(t, dskit.Options{Consent: true})
	f.Link(t, f.Principal, true)
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
	q := byType(dskit.Clinical, dskit.Pension)

	_, _, err := query(t, f, c, epr, q, wsf.Header{})
	wantFault(t, err, wsf.InteractionRequired)

	_, _, err = query(t, f, c, epr, q, wsf.Header{UserInteraction: &wsf.UserInteraction{Redirect: true}})
	var re *client.RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a RedirectRequest", err)
	}
	if !strings.HasPrefix(re.URL, f.ConsentURL+"?tx=") {
		t.Fatalf("redirect to %s", re.URL)
	}
	tx := strings.TrimPrefix(strings.SplitN(re.URL, "&", 2)[0], f.ConsentURL+"?tx=")
	ctx := context.Background()
	if _, err := f.DS.OpenConsent(ctx, tx, "https://evil.example/return"); !errors.Is(err, discovery.ErrReturnTo) {
		t.Fatalf("ReturnToURL of another host: %v", err)
	}
	// The refused ReturnToURL spent the link: a new redirect is needed.
	_, _, err = query(t, f, c, epr, q, wsf.Header{UserInteraction: &wsf.UserInteraction{Redirect: true}})
	if !errors.As(err, &re) {
		t.Fatal(err)
	}
	tx = strings.TrimPrefix(strings.SplitN(re.URL, "&", 2)[0], f.ConsentURL+"?tx=")
	p, err := f.DS.OpenConsent(ctx, tx, "https://portal.renkei.test/return?x=1")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Services) != 2 || p.WSC != dskit.PortalID {
		t.Fatalf("prompt %+v", p)
	}
	if _, err := f.DS.OpenConsent(ctx, tx, "https://portal.renkei.test/return"); !errors.Is(err, discovery.ErrConsentUnknown) {
		t.Fatalf("link used twice: %v", err)
	}
	back, err := f.DS.DecideConsent(ctx, p.Form, true)
	if err != nil || back != "https://portal.renkei.test/return?x=1&ResendMessage=1" {
		t.Fatalf("return %q, %v", back, err)
	}
	if _, err := f.DS.DecideConsent(ctx, p.Form, true); !errors.Is(err, discovery.ErrConsentUnknown) {
		t.Fatalf("form used twice: %v", err)
	}
	r, _, err := query(t, f, c, epr, q, wsf.Header{})
	if err != nil || len(r.EPRs) != 2 {
		t.Fatalf("after consent: %v %+v", err, r)
	}

	// A WSC that is no portal is never handed a consent link (the page
	// does not authenticate the card holder, so it could answer itself),
	// nor told that consent is missing: to it the principal's links
	// without an association are not there.
	other := f.Client(t, dskit.OtherWSCID, f.Keys.Other)
	oepr := f.DSEPR(f.DSToken(t, f.Principal, f.Keys.Other.Cert, dskit.TokenOptions{}))
	r, _, err = query(t, f, other, oepr, byType(dskit.Checkup), wsf.Header{UserInteraction: &wsf.UserInteraction{Redirect: true}})
	if err != nil || r.Status.Code != disco.NoResults || len(r.EPRs) != 0 {
		t.Fatalf("another WSC: %v %+v, want NoResults", err, r)
	}
}

// TestReceptionDesk: a reception terminal with a fresh card login may
// discover the purpose's services at the institutions the patient is
// linked with, without an association; an older login, another purpose
// or another WSC gets nothing.
func TestReceptionDesk(t *testing.T) {
	f := dskit.New(t, dskit.Options{})
	f.Link(t, f.Principal, true)
	term := f.Client(t, dskit.TerminalID, f.Keys.Terminal)
	eligibility := wsf.Header{UsageDirectives: []wsf.UsageDirective{wsf.PurposeDirective(wsf.PurposeEligibility)}}

	tok := f.DSToken(t, f.Principal, f.Keys.Terminal.Cert, dskit.TokenOptions{AuthnAge: 30 * time.Second})
	r, _, err := query(t, f, term, f.DSEPR(tok), &disco.Query{}, eligibility)
	if err != nil || len(r.EPRs) != 1 || r.EPRs[0].Metadata.ServiceType != dskit.Eligibility {
		t.Fatalf("fresh card login: %v %+v", err, r)
	}
	w := f.WSPs[3]
	if tk := wspToken(t, f, w, r.EPRs[0]); tk.Subject.SPProvidedID != w.LocalID ||
		tk.Assertion.Conditions.NotOnOrAfter.Sub(f.Clock.Now()) > discovery.DefaultReceptionAge {
		t.Fatalf("terminal token %+v until %s", tk.Subject, tk.Assertion.Conditions.NotOnOrAfter)
	}
	var basis string
	for _, e := range auditEvents(t, f, f.Principal) {
		if e.Action == discovery.AuditToken && e.Actor == dskit.TerminalID {
			var d discovery.AuditDetail
			_ = json.Unmarshal(e.Detail, &d)
			basis = d.Basis
		}
	}
	if basis != discovery.BasisCardPresent {
		t.Errorf("audited basis %q", basis)
	}

	old := f.DSToken(t, f.Principal, f.Keys.Terminal.Cert, dskit.TokenOptions{AuthnAge: 200 * time.Second})
	r, _, err = query(t, f, term, f.DSEPR(old), &disco.Query{}, eligibility)
	if err != nil || r.Status.Code != disco.NoResults {
		t.Fatalf("older card login: %v %+v, want NoResults", err, r)
	}

	r, _, err = query(t, f, term, f.DSEPR(tok), byType(dskit.Pension), eligibility)
	if err == nil && len(r.EPRs) > 0 {
		t.Fatal("the pension record reached the reception desk")
	}

	other := f.Client(t, dskit.OtherWSCID, f.Keys.Other)
	otok := f.DSToken(t, f.Principal, f.Keys.Other.Cert, dskit.TokenOptions{AuthnAge: 10 * time.Second})
	r, _, err = query(t, f, other, f.DSEPR(otok), &disco.Query{}, eligibility)
	if err != nil || r.Status.Code != disco.NoResults {
		t.Fatalf("another WSC with a fresh card login: %v %+v, want NoResults", err, r)
	}

	// The card's presence ends with the login: a token minted late in the
	// bound lives only until the bound.
	late := f.DSToken(t, f.Principal, f.Keys.Terminal.Cert, dskit.TokenOptions{AuthnAge: 100 * time.Second})
	r, _, err = query(t, f, term, f.DSEPR(late), &disco.Query{}, eligibility)
	if err != nil || len(r.EPRs) != 1 {
		t.Fatalf("late card login: %v %+v", err, r)
	}
	if tk := wspToken(t, f, w, r.EPRs[0]); tk.Assertion.Conditions.NotOnOrAfter.After(f.Clock.Now().Add(20 * time.Second)) {
		t.Fatalf("token of a 100 s old card login lives until %s, past the 120 s bound", tk.Assertion.Conditions.NotOnOrAfter)
	}
}

// TestConsentLifetime: a consent transaction ends ConsentLifetime after
// the Query asked for it, however often its page is shown again.
func TestConsentLifetime(t *testing.T) {
	f := dskit.New(t, dskit.Options{Consent: true})
	f.Link(t, f.Principal, true)
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{Lifetime: 2 * time.Hour})
	_, _, err := query(t, f, c, epr, byType(dskit.Pension), wsf.Header{UserInteraction: &wsf.UserInteraction{Redirect: true}})
	var re *client.RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a RedirectRequest", err)
	}
	tx := strings.TrimPrefix(strings.SplitN(re.URL, "&", 2)[0], f.ConsentURL+"?tx=")
	ctx := context.Background()
	p, err := f.DS.OpenConsent(ctx, tx, "https://portal.renkei.test/return")
	if err != nil {
		t.Fatal(err)
	}
	form := p.Form
	for range 3 { // the page shown again, as a language switch does
		f.Clock.Advance(discovery.ConsentLifetime / 4)
		p, err := f.DS.ReopenConsent(ctx, form)
		if err != nil {
			t.Fatal(err)
		}
		form = p.Form
	}
	f.Clock.Advance(discovery.ConsentLifetime / 4)
	if _, err := f.DS.DecideConsent(ctx, form, true); !errors.Is(err, discovery.ErrConsentUnknown) {
		t.Fatalf("answer after the lifetime: %v", err)
	}
}
