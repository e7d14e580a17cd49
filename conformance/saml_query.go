package conformance

import (
	"context"
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Rows of the SOAP query cases: the attribute authority's AttributeQuery
// (SAML Profiles §6, the Assertion Query/Request profile) and Name
// Identifier Mapping (SAML Profiles §4.8).
const (
	rowAttributeQuery = "SAML2-Conf/attribute-query-soap"
	rowNameIDMapping  = "SAML2-Conf/nameid-mapping-soap"
)

// queryCases are the AttributeQuery cases: the suite's SP logs in for a
// persistent NameID and asks about it; Env.Other, an SP the IdP releases
// nothing to, gives the NameID of another SP and the unlisted SP.
func queryCases() []Case {
	return []Case{
		{ID: "SAML2-Core-3.3.2.3/aq-released", Clause: "SAML Core §3.3.2.3, §3.3.3; SAML Profiles §6.3; SAML Bindings §3.2", Row: rowAttributeQuery, Positive: true,
			Summary: "A signed AttributeQuery about our NameID gets a signed Success Response whose signed assertion names that subject, for us, with its attributes (urn:oid: names of NameFormat uri are checked as a practice).",
			Run:     runAQReleased},
		{ID: "SAML2-Core-3.3.2.3/aq-requested-only", Clause: "SAML Core §3.3.2.3 (Attribute elements of the query)", Row: rowAttributeQuery, Positive: true,
			Summary: "A query naming one released attribute gets that attribute alone.",
			Run:     runAQRequestedOnly},
		{ID: "SAML2-Bind-3.2/aq-unsigned", Clause: "SAML Profiles §6.3.2; SAML Bindings §3.2.2.2; SAML Security Considerations (an attribute authority authenticates its requesters: no MUST, a practice)", Level: LevelPractice, Row: rowAttributeQuery,
			Summary: "An unsigned AttributeQuery over a channel that does not authenticate us is not answered with Success.",
			Run:     func(ctx context.Context, e *Env) Outcome { return runAQRefused(ctx, e, aqUnsigned) }},
		{ID: "SAML2-Core-3.3.2.3/aq-unknown-nameid", Clause: "SAML Core §3.3.2.3, §3.2.2.2 (UnknownPrincipal)", Row: rowAttributeQuery,
			Summary: "An AttributeQuery about a NameID the IdP never issued is refused with UnknownPrincipal.",
			Run:     func(ctx context.Context, e *Env) Outcome { return runAQRefused(ctx, e, aqUnknown) }},
		{ID: "SAML2-Core-3.3.2.3/aq-other-sps-nameid", Clause: "SAML Core §8.3.7 (a persistent identifier is pairwise: a privacy protection)", Level: LevelPractice, Row: rowAttributeQuery,
			Summary: "An AttributeQuery of ours about the NameID the IdP issued to another SP is not answered with Success.",
			Run:     func(ctx context.Context, e *Env) Outcome { return runAQRefused(ctx, e, aqOtherSPs) }},
		{ID: "SAML2-Core-2.7.3/aq-unlisted-sp-gets-none", Clause: "SAML Core §2.7.3; SAML Security Considerations, privacy (attributes released by policy: Env.Other gets none)", Level: LevelPractice, Row: rowAttributeQuery,
			Summary: "The SP the IdP releases nothing to gets an SSO assertion without attributes.",
			Run:     runAQUnlisted},
	}
}

// aaEndpoint is the AttributeService (SOAP) of the target's attribute
// authority, or an outcome saying the case does not apply.
func (e *Env) aaEndpoint() (string, *Outcome) {
	if e.Target != nil && e.Target.Entity != nil {
		for _, r := range e.Target.Entity.Roles {
			for _, ep := range r.Endpoints {
				if r.Local == "AttributeAuthorityDescriptor" && ep.Local == "AttributeService" && ep.Binding == md.BindingSOAP {
					return ep.Location, nil
				}
			}
		}
	}
	o := notApplicable("the metadata has no AttributeAuthorityDescriptor with a SOAP AttributeService")
	return "", &o
}

// asOther runs fn with Env.Other playing the suite's SP.
func (e *Env) asOther(fn func() error) error {
	saved := e.SP
	e.SP = e.Other
	defer func() { e.SP = saved }()
	return fn()
}

// otherNameID logs Env.Other in for a persistent NameID.
func (e *Env) otherNameID(ctx context.Context) (*saml.NameID, *Outcome) {
	if e.Other == nil {
		o := notApplicable("no second SP (Env.Other) is registered at the IdP")
		return nil, &o
	}
	var nid *saml.NameID
	err := e.asOther(func() (err error) { nid, err = e.persistentNameID(ctx); return err })
	if err != nil {
		o := outcomeOf(err)
		return nil, &o
	}
	return nid, nil
}

// soapQuery posts m to dest, signed with our SP's key when sign is set,
// and returns the Body of the answer, or nil with the HTTP status of an
// error or SOAP fault.
func (e *Env) soapQuery(ctx context.Context, dest, label string, m samlp.Message, sign bool) (*etree.Element, int, error) {
	el := m.Element()
	if sign {
		var err error
		if el, err = samlp.Sign(m, e.spSigner()); err != nil {
			return nil, 0, err
		}
	}
	return e.soapBody(ctx, dest, label, el)
}

// soapBody sends el over SOAP to dest from a client of its own, not the
// user's browser: no TLS client certificate of the user's login goes with
// it, so only the message's signature authenticates the suite's SP (an
// unsigned request stays unauthenticated). It returns the answer's Body
// and the HTTP status.
func (e *Env) soapBody(ctx context.Context, dest, label string, el *etree.Element) (*etree.Element, int, error) {
	b, err := e.backChannel()
	if err != nil {
		return nil, 0, err
	}
	env, status, err := e.soapCall(ctx, b, dest, label, el, &binding.SOAPDecoder{Understood: []string{}}, nil)
	if env == nil {
		return nil, status, err
	}
	return env.Body, status, err
}

// signedAnswer checks that el is a schema-valid samlp message named name
// and, when it is signed, that a metadata key of the IdP signed it; it
// returns what was signed (el itself when unsigned) and whether it was.
// An unsigned answer is for the caller to judge: see authenticAnswer.
func (e *Env) signedAnswer(el *etree.Element, name string) (*etree.Element, bool, error) {
	s, err := xsd.Default()
	if err != nil {
		return nil, false, err
	}
	if err := s.ValidateElement(el); err != nil {
		return nil, false, errTarget("the %s is not schema-valid: %v", name, err)
	}
	u, err := samlp.Peek(el)
	if err != nil || u.Name != name {
		return nil, false, errTarget("the SOAP Body is not a samlp:%s", name)
	}
	if !u.Signed {
		return el, false, nil
	}
	var signed *etree.Element
	err = e.verifyIdP(func(v *dsig.Verifier) (err error) {
		signed, err = v.Verify(el)
		return err
	})
	if err != nil {
		return nil, true, errTarget("the %s does not verify with the IdP's metadata keys: %v", name, err)
	}
	return signed, true, nil
}

// authenticAnswer judges an unsigned SOAP answer named name from dest:
// SAML Bindings §3.2.2 lets the channel (TLS) authenticate the responder
// instead of a signature, so over https an unsigned answer is a SHOULD
// warning (the suite recommends the signature, SAML Profiles §6.3.2);
// over plain http nothing authenticates it, a failure.
func (e *Env) authenticAnswer(name, dest string) error {
	if strings.HasPrefix(strings.ToLower(dest), "https://") {
		e.warn(LevelShould, "the "+name+" is unsigned; only TLS authenticates the IdP (SAML Bindings §3.2.2 allows it; a signature SHOULD be used, SAML Profiles §6.3.2)")
		return nil
	}
	return errTarget("the %s is unsigned and came over plain http: nothing authenticates the IdP (SAML Bindings §3.2.2)", name)
}

// queryResponse judges the answer to an AttributeQuery sent to dest: a
// samlp:Response from the IdP in response to reqID ("": any), signed or
// over TLS.
func (e *Env) queryResponse(el *etree.Element, reqID, dest string) (*samlp.Response, error) {
	signed, ok, err := e.signedAnswer(el, "Response")
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := e.authenticAnswer("Response", dest); err != nil {
			return nil, err
		}
	}
	r, err := samlp.DecodeResponse(signed)
	if err != nil {
		return nil, errTarget("the Response does not decode: %v", err)
	}
	return r, e.nimHeader(&r.StatusResponseHeader, reqID)
}

func (e *Env) attrQuery(dest string, nid *saml.NameID, attrs ...saml.Attribute) *samlp.AttributeQuery {
	cur := *nid
	return &samlp.AttributeQuery{RequestHeader: samlp.RequestHeader{ID: e.newID(), IssueInstant: e.now().UTC(),
		Destination: dest, Issuer: &saml.Issuer{Value: e.SP.EntityID}}, NameID: &cur, Attributes: attrs}
}

// askAttributes logs in, sends a signed query about our NameID naming
// attrs and returns the verified assertion of a Success answer.
func (e *Env) askAttributes(ctx context.Context, attrs ...saml.Attribute) (*saml.Assertion, *Outcome) {
	dest, o := e.aaEndpoint()
	if o != nil {
		return nil, o
	}
	nid, err := e.persistentNameID(ctx)
	if err != nil {
		o := outcomeOf(err)
		return nil, &o
	}
	q := e.attrQuery(dest, nid, attrs...)
	a, err := e.aqExchange(ctx, dest, q)
	if err != nil {
		o := outcomeOf(err)
		return nil, &o
	}
	return a, nil
}

// aqExchange sends q signed and judges a Success answer: one assertion,
// signed by the IdP, about q's subject and for us (SAML Core §3.3.2.3: the
// subject of the assertion strongly matches the query's).
func (e *Env) aqExchange(ctx context.Context, dest string, q *samlp.AttributeQuery) (*saml.Assertion, error) {
	body, status, err := e.soapQuery(ctx, dest, "AttributeQuery", q, true)
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, errTarget("a conforming AttributeQuery was answered with HTTP %d, not a Response (SAML Bindings §3.2.3.3)", status)
	}
	r, err := e.queryResponse(body, q.ID, dest)
	if err != nil {
		return nil, err
	}
	if !r.Status.Success() {
		return nil, errTarget("status %s %s (%s), want Success", r.Status.Code.Value, r.Status.Second(), r.Status.Message)
	}
	if len(r.Assertions) != 1 {
		return nil, errTarget("%d assertions, want one", len(r.Assertions))
	}
	el, err := e.SP.open(r.Assertions[0])
	if err != nil {
		return nil, err
	}
	var a *saml.Assertion
	err = e.verifyIdP(func(v *dsig.Verifier) (err error) {
		a, _, err = saml.VerifyAssertion(el, v)
		return err
	})
	if err != nil {
		return nil, errTarget("the assertion does not verify with the IdP's metadata keys: %v", err)
	}
	if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value != q.NameID.Value {
		return nil, errTarget("the assertion's subject is not the NameID queried (SAML Core §3.3.4)")
	}
	if err := a.CheckConditions(e.now(), 0, e.SP.EntityID); err != nil {
		return nil, errTarget("the assertion's conditions: %v", err)
	}
	return a, nil
}

// attributesOf lists an assertion's attributes. A name that is not a
// urn:oid: name of NameFormat uri is a practice warning, not a failure:
// SAML Core §2.7.3.1 leaves the name and NameFormat free, and urn:oid:
// names are what the SAML V2.0 X.500/LDAP attribute profile (SAML
// Profiles §8.2) and federations (eduPerson) use.
func (e *Env) attributesOf(a *saml.Assertion) []saml.Attribute {
	var out []saml.Attribute
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if at.NameFormat != saml.AttrNameFormatURI || !strings.HasPrefix(at.Name, "urn:oid:") {
				e.warn(LevelPractice, fmt.Sprintf("attribute %q of NameFormat %q, not a urn:oid: name of NameFormat uri (SAML Profiles §8.2, the X.500/LDAP attribute profile federations use)", at.Name, at.NameFormat))
			}
			out = append(out, at)
		}
	}
	return out
}

func runAQReleased(ctx context.Context, e *Env) Outcome {
	a, o := e.askAttributes(ctx)
	if o != nil {
		return *o
	}
	attrs := e.attributesOf(a)
	return passed("Success, about our NameID, %d attributes", len(attrs))
}

func runAQRequestedOnly(ctx context.Context, e *Env) Outcome {
	all, o := e.askAttributes(ctx)
	if o != nil {
		return *o
	}
	attrs := e.attributesOf(all)
	if len(attrs) == 0 {
		return notApplicable("the IdP releases no attribute to us")
	}
	want := attrs[0].Name
	one, o := e.askAttributes(ctx, saml.Attribute{Name: want, NameFormat: attrs[0].NameFormat})
	if o != nil {
		return *o
	}
	got := e.attributesOf(one)
	if len(got) != 1 || got[0].Name != want {
		return failed("asked for %s alone, got %d attributes", want, len(got))
	}
	return passed("asked for %s alone and got it alone", want)
}

// aqRefusal is how a negative case breaks the query.
type aqRefusal int

const (
	aqUnsigned aqRefusal = iota
	aqUnknown
	aqOtherSPs
)

func runAQRefused(ctx context.Context, e *Env, how aqRefusal) Outcome {
	dest, o := e.aaEndpoint()
	if o != nil {
		return *o
	}
	nid, err := e.persistentNameID(ctx)
	if err != nil {
		return outcomeOf(err)
	}
	q, sign, second := e.attrQuery(dest, nid), true, ""
	switch how {
	case aqUnsigned:
		sign = false
	case aqUnknown:
		q.NameID.Value, second = e.newID(), samlp.StatusUnknownPrincipal
	case aqOtherSPs:
		other, o := e.otherNameID(ctx)
		if o != nil {
			return *o
		}
		q.NameID = other
	}
	body, status, err := e.soapQuery(ctx, dest, "AttributeQuery", q, sign)
	if err != nil {
		return outcomeOf(err)
	}
	return e.judgeRefusal(body, status, "Response", second)
}

// serverTrouble reports whether an HTTP status says the request never
// reached the service's judgement: no such endpoint (404, 501) or a
// gateway or an unavailable server (502 and above). HTTP 500 is not: it
// is the status of a SOAP 1.1 fault (SAML Bindings §3.2.3.3), the
// back channel's refusal.
func serverTrouble(status int) bool {
	return status == 404 || status == 501 || status >= 502
}

// httpRefusal judges a back-channel request answered with an HTTP error
// and no SOAP body: a refusal, unless serverTrouble says the request never
// reached the service.
func httpRefusal(status int) Outcome {
	if serverTrouble(status) {
		return broken("answered HTTP %d, a server error or a missing endpoint and not a refusal: the case cannot judge the request", status)
	}
	return passed("refused with HTTP %d", status)
}

// judgeRefusal passes an HTTP error, or an answer named name whose status
// is not Success (and has the second-level code second, when set), signed
// or not: a refusal gives nothing away, so it needs no authentication. A
// Success with no assertion passes too (SAML Core §3.3.4: an authority
// that cannot provide any statement answers Success without assertion).
func (e *Env) judgeRefusal(body *etree.Element, status int, name, second string) Outcome {
	if body == nil {
		return httpRefusal(status)
	}
	signed, _, err := e.signedAnswer(body, name)
	if err != nil {
		return outcomeOf(err)
	}
	var h samlp.StatusResponseHeader
	empty := false
	if r, err := samlp.DecodeResponse(signed); err == nil {
		h, empty = r.StatusResponseHeader, len(r.Assertions) == 0
	} else if m, err := samlp.DecodeNameIDMappingResponse(signed); err == nil {
		h = m.StatusResponseHeader
	} else {
		return failed("the %s does not decode: %v", name, err)
	}
	switch {
	case h.Status.Success() && empty:
		return passed("Success without assertion: no statement provided (SAML Core §3.3.4)")
	case h.Status.Success():
		return failed("answered Success to a request that must be refused; %s", e.successDetail(signed))
	case second != "" && h.Status.Second() != second:
		// The refusal is the MUST; the second-level code is a SHOULD.
		return failedAt(LevelShould, "status %s %s, want second-level %s", h.Status.Code.Value, h.Status.Second(), second)
	}
	return passed("refused: %s %s", h.Status.Code.Value, h.Status.Second())
}

// successDetail says what a wrongly successful answer gave away.
func (e *Env) successDetail(signed *etree.Element) string {
	if r, err := samlp.DecodeResponse(signed); err == nil && len(r.Assertions) == 1 {
		return "an assertion about a NameID issued to another SP came back"
	}
	return "a NameID came back"
}

func runAQUnlisted(ctx context.Context, e *Env) Outcome {
	if e.Other == nil {
		return notApplicable("no second SP (Env.Other) is registered at the IdP")
	}
	var a *saml.Assertion
	err := e.asOther(func() error {
		_, o := e.aaEndpoint()
		if o != nil {
			return nil
		}
		x, err := e.persistentLogin(ctx, true)
		if err != nil {
			return err
		}
		_, a, err = e.success(x)
		return err
	})
	switch {
	case err != nil:
		return outcomeOf(err)
	case a == nil:
		return notApplicable("the IdP is no attribute authority")
	}
	if n := len(a.AttributeStatements); n > 0 {
		return failed("the IdP released attributes (%d statements) to %s, which its release policy does not list", n, e.Other.EntityID)
	}
	return passed("no attribute released to %s", e.Other.EntityID)
}
