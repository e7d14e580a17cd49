package conformance

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// ServeIdP serves the suite IdP's SingleSignOnService,
// SingleLogoutService and metadata on its loopback listener until stop is
// called. The SSO and SLO endpoints only acknowledge a message: each case
// reads it from the URL the SP sent the browser to, and judges or answers
// it itself.
func (t *SPTarget) ServeIdP() (stop func(), err error) {
	ln := t.IdP.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", t.IdP.Listen); err != nil {
			return nil, err
		}
	}
	m, err := t.IdP.Metadata()
	if err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathSuiteSSO, func(w http.ResponseWriter, r *http.Request) {
		if _, err := (&binding.RedirectDecoder{}).Decode(r.URL.RawQuery); err != nil {
			http.Error(w, "conformance IdP: not an HTTP-Redirect message: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Renkei conformance IdP: AuthnRequest received; the suite answers it.")
	})
	mux.HandleFunc("GET "+PathSuiteSLO, func(w http.ResponseWriter, r *http.Request) {
		if _, err := (&binding.RedirectDecoder{}).Decode(r.URL.RawQuery); err != nil {
			http.Error(w, "conformance IdP: not an HTTP-Redirect message: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Renkei conformance IdP: logout message received; the suite judges it.")
	})
	mux.HandleFunc("GET "+PathSuiteMetadata, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Write(m)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

// spLogin is one login under way: the browser that began it and the SP's
// AuthnRequest, as the suite IdP received it.
type spLogin struct {
	b          *Browser
	req        *samlp.AuthnRequest
	relayState string
	sigAlg     string // the query signature's algorithm, "" when unsigned
}

// beginLogin makes the SP send a fresh AuthnRequest: a new browser visits
// Login and follows the SP's redirects to the suite IdP's SSO URL, where
// the request is read and, when the SP's metadata says it signs them,
// verified with its metadata keys (SAML Bindings §3.4.4.1). A failure is
// the target's.
func (e *Env) beginLogin(ctx context.Context) (*spLogin, error) {
	b, err := e.Browser()
	if err != nil {
		return nil, err
	}
	return e.beginLoginIn(ctx, b)
}

// beginLoginIn begins a login in browser b.
func (e *Env) beginLoginIn(ctx context.Context, b *Browser) (*spLogin, error) {
	t := e.SPT
	land, err := b.Get(ctx, t.Login, "SP login")
	if err != nil {
		return nil, errTarget("the SP's login page %s: %v", t.Login, err)
	}
	sso := t.IdP.SSOURL()
	if !strings.HasPrefix(land.URL, sso+"?") {
		return nil, errTarget("the SP's login did not send the browser to the suite IdP's SSO endpoint %s: it stopped at %s (HTTP %d)", sso, land.URL, land.Status)
	}
	u, err := url.Parse(land.URL)
	if err != nil {
		return nil, errTarget("redirect URL: %v", err)
	}
	msg, err := (&binding.RedirectDecoder{}).Decode(u.RawQuery)
	if err != nil {
		return nil, errTarget("the SP's HTTP-Redirect message: %v", err)
	}
	el := msg.Unverified()
	if t.AuthnRequestsSigned {
		// SHA-1 is let through here: it is a practice, not a MUST.
		if el, _, err = msg.Verify(xmlsec.NewTrustSet(t.Keys), xmlsec.Policy{AllowSHA1: true}); err != nil {
			return nil, errTarget("the SP's metadata says AuthnRequestsSigned, and the query signature does not verify with its keys (SAML Bindings §3.4.4.1): %v", err)
		}
	}
	if msg.Param != binding.ParamRequest {
		return nil, errTarget("the SP sent %s, not a SAMLRequest", msg.Param)
	}
	req, err := samlp.DecodeAuthnRequest(el)
	if err != nil {
		return nil, errTarget("the SP's AuthnRequest: %v", err)
	}
	return &spLogin{b: b, req: req, relayState: msg.RelayState, sigAlg: msg.SigAlg}, nil
}

// respOpts change the Response the suite crafts; the zero value is a
// conforming one: a signed assertion (encrypted when the SP has an
// encryption key) in an unsigned Response answering the login's request.
type respOpts struct {
	noInResponseTo  bool
	inResponseTo    string // "" means the login's request
	destination     string // "" means the ACS
	recipient       string // "" means the ACS
	audience        string // "" means the SP
	notBefore       time.Time
	notOnOrAfter    time.Time // of the Conditions; zero means now±minutes
	scdNotOnOrAfter time.Time
	assertionID     string // "" means a fresh one
	nameID          string // "" means a fresh conformance NameID
	sessionIndex    string // "" means a fresh one
	unsigned        bool   // the assertion is not signed
	signResponse    bool
	signer          *Party // nil means the suite IdP
	sha1            bool
	status          *samlp.Status // nil means Success
	// signed, when set, changes the signed assertion before it is
	// encrypted (comment injection, wrapping).
	signed func(el *etree.Element) (*etree.Element, error)
	// extra assertions put before the one built (wrapping); each is
	// encrypted like it.
	before []*etree.Element
}

// assertion builds the assertion of o for login l at now.
func (e *Env) assertion(l *spLogin, o respOpts, now time.Time) *saml.Assertion {
	t := e.SPT
	id := o.assertionID
	if id == "" {
		id = e.newID()
	}
	nb, noa := o.notBefore, o.notOnOrAfter
	if nb.IsZero() && noa.IsZero() {
		nb, noa = now.Add(-time.Minute), now.Add(5*time.Minute)
	}
	scd := o.scdNotOnOrAfter
	if scd.IsZero() {
		scd = now.Add(5 * time.Minute)
	}
	irt := orString(o.inResponseTo, l.req.ID)
	if o.noInResponseTo {
		irt = ""
	}
	nid := t.nameID(orString(o.nameID, "conformance-"+e.newID()[1:13]))
	a := &saml.Assertion{ID: id, IssueInstant: now, Issuer: saml.Issuer{Value: t.IdP.EntityID},
		Subject: &saml.Subject{NameID: nid, Confirmations: []saml.SubjectConfirmation{{Method: saml.CMBearer,
			Data: &saml.SubjectConfirmationData{NotOnOrAfter: scd, Recipient: orString(o.recipient, t.ACS), InResponseTo: irt}}}},
		Conditions: &saml.Conditions{NotBefore: nb, NotOnOrAfter: noa,
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{orString(o.audience, t.EntityID)}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: now.Add(-time.Minute), SessionIndex: orString(o.sessionIndex, e.newID()), ClassRef: t.authnContext()}}}
	if t.Bootstrap != nil {
		a.AttributeStatements = []saml.AttributeStatement{{Attributes: []saml.Attribute{t.bootstrapAttribute(now)}}}
	}
	return a
}

// signer returns the suite IdP's XML signer, or one of o's key.
func (e *Env) signer(o respOpts) *dsig.Signer {
	key, cert := e.SPT.IdP.Key, e.SPT.IdP.Cert
	if o.signer != nil {
		key, cert = o.signer.Key, o.signer.Cert
	}
	s := &dsig.Signer{Key: key, Certificates: []*x509.Certificate{cert}, Rand: e.Rand}
	if o.sha1 {
		s.SignatureMethod, s.DigestMethod, s.Policy = xmlsec.RSASHA1, xmlsec.DigestSHA1, xmlsec.Policy{AllowSHA1: true}
	}
	return s
}

// buildResponse crafts the Response of o for login l and returns it with
// the ID of its assertion.
func (e *Env) buildResponse(l *spLogin, o respOpts) (*etree.Element, string, error) {
	now := e.now().UTC()
	t := e.SPT
	a := e.assertion(l, o, now)
	// An error status carries the assertion too: an SP must not log in
	// on it whatever the Response holds.
	el, err := e.assertionElement(a, o)
	if err != nil {
		return nil, "", err
	}
	var as []*etree.Element
	for _, x := range append(o.before, el) {
		if x, err = e.encrypt(x); err != nil {
			return nil, "", err
		}
		as = append(as, x)
	}
	st := samlp.NewStatus(samlp.StatusSuccess, "")
	if o.status != nil {
		st = *o.status
	}
	irt := orString(o.inResponseTo, l.req.ID)
	if o.noInResponseTo {
		irt = ""
	}
	r := &samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: e.newID(), InResponseTo: irt, IssueInstant: now,
		Destination: orString(o.destination, t.ACS), Issuer: &saml.Issuer{Value: t.IdP.EntityID}, Status: st}, Assertions: as}
	if !o.signResponse {
		return r.Element(), a.ID, nil
	}
	signed, err := samlp.Sign(r, e.signer(o))
	return signed, a.ID, err
}

// assertionElement renders a, signed unless o says not, changed by
// o.signed.
func (e *Env) assertionElement(a *saml.Assertion, o respOpts) (*etree.Element, error) {
	el := a.Element()
	if !o.unsigned {
		var err error
		if el, err = saml.SignAssertion(a, e.signer(o)); err != nil {
			return nil, err
		}
	}
	if o.signed != nil {
		return o.signed(el)
	}
	return el, nil
}

// encrypt wraps an assertion in an EncryptedAssertion for the SP's
// encryption key, with the algorithms its metadata lists (xmlenc.Choose);
// an SP without one gets it plain.
func (e *Env) encrypt(el *etree.Element) (*etree.Element, error) {
	if e.SPT.Encryption == nil {
		return el, nil
	}
	return (&xmlenc.Encrypter{Rand: e.Rand}).Encrypt(el, xmlenc.EncryptedAssertion, *e.SPT.Encryption)
}

// acsAnswer is the SP's answer to a Response posted at its ACS, judged by
// the target's AcceptRule.
type acsAnswer struct {
	Accepted bool
	Status   int
	Location string
	Cookies  []string
}

func (a *acsAnswer) String() string {
	s := fmt.Sprintf("HTTP %d", a.Status)
	if a.Location != "" {
		s += ", Location " + a.Location
	}
	if len(a.Cookies) > 0 {
		s += ", sets " + strings.Join(a.Cookies, ", ")
	}
	return s
}

// post posts resp to the ACS from the login's browser, with the
// RelayState of its request, and reads the SP's answer (not followed).
func (e *Env) post(ctx context.Context, l *spLogin, resp *etree.Element, label string) (*acsAnswer, error) {
	raw, err := xmlsec.Serialize(resp)
	if err != nil {
		return nil, err
	}
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(raw)}}
	if l.relayState != "" {
		form.Set("RelayState", l.relayState)
	}
	return e.postForm(ctx, l.b, form, label, string(raw))
}

func (e *Env) postForm(ctx context.Context, b *Browser, form url.Values, label, logBody string) (*acsAnswer, error) {
	acs := e.SPT.ACS
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, acs, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e.Record(Message{Direction: "sent", Label: label + " (HTTP-POST)", URL: acs, Body: logBody})
	res, err := b.client.Do(req)
	if err != nil {
		return nil, errTarget("posting to the ACS %s: %v", acs, err)
	}
	body, err := readPage(res)
	if err != nil {
		return nil, err
	}
	a := &acsAnswer{Status: res.StatusCode, Location: res.Header.Get("Location")}
	for _, c := range res.Cookies() {
		if c.Value != "" && c.MaxAge >= 0 {
			a.Cookies = append(a.Cookies, c.Name)
		}
	}
	a.Accepted = e.SPT.Accepted.accepts(acs, a)
	e.Record(Message{Direction: "received", Label: "ACS answer: " + a.String(), URL: acs, Status: res.StatusCode, Body: string(body)})
	return a, nil
}

// accepts applies the rule to an answer of the ACS at acs.
func (r AcceptRule) accepts(acs string, a *acsAnswer) bool {
	switch {
	case r.Status != 0 && a.Status != r.Status:
		return false
	case r.Status == 0 && (a.Status < 200 || a.Status >= 400):
		return false
	}
	if r.LocationPrefix != "" {
		base, err := url.Parse(acs)
		if err != nil || a.Location == "" {
			return false
		}
		loc, err1 := base.Parse(a.Location)
		want, err2 := base.Parse(r.LocationPrefix)
		if err1 != nil || err2 != nil || !strings.HasPrefix(loc.String(), want.String()) {
			return false
		}
	}
	if r.SetsCookie != "" {
		found := false
		for _, c := range a.Cookies {
			found = found || c == r.SetsCookie
		}
		return found
	}
	return true
}

// newImpostor returns a key and certificate no metadata lists.
func (e *Env) newImpostor() (*Party, error) {
	key, cert, err := selfSigned("Renkei conformance impostor IdP", e.now(), e.Rand)
	if err != nil {
		return nil, err
	}
	var k crypto.Signer = key
	return &Party{EntityID: e.SPT.IdP.EntityID, Key: k, Cert: cert}, nil
}

func orString(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
