package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// otherSP is the audience of an assertion meant for another SP.
const otherSP = "https://other-sp.conformance.invalid/metadata"

// SPCases returns the SP cases of Web Browser SSO (SAML Profiles §4.1):
// the SP's AuthnRequest over HTTP-Redirect, a conforming Response over
// HTTP-POST that it must accept, and broken ones that it must refuse,
// each after a control login whose conforming Response it accepts, so
// that a refusal proves something. Where SAML requires nothing and only
// practice does (SHA-1, unsolicited Responses), a target that does not
// follow the practice gets an advisory verdict. The suite plays the IdP.
// Then the Single Logout cases the SP receives (spSLOCases) and its
// metadata (spMetadataCases).
func SPCases() []Case {
	cs := []Case{
		{ID: "SAML2-Prof-4.1.4.1/sp-authnrequest", Clause: "SAML Profiles §4.1.4.1; SAML Bindings §3.4.4.1, §3.4.5.2", Row: rowRedirect, Positive: true,
			Summary: "The SP's login sends a schema-valid AuthnRequest over HTTP-Redirect to the IdP's SSO endpoint, issued by the SP, query-signed when its metadata says AuthnRequestsSigned, its Destination the SSO endpoint.",
			Run:     runSPAuthnRequest},
		{ID: "SAML2-Prof-4.1.4.3/sp-accepts-response", Clause: "SAML Profiles §4.1.4.3, §4.1.3.5; SAML Core §2.3.4, §6; SAML Bindings §3.5", Row: rowPOST, Positive: true,
			Summary: "A conforming Response, its signed assertion encrypted for the SP's metadata key with the algorithms its metadata lists, posted to the ACS, opens a session.",
			Run:     runSPAccepts},
		refuseCase("SAML2-Prof-4.1.3.5/sp-unsigned", "SAML Profiles §4.1.3.5; SAML Bindings §3.5.5.2",
			"A Response whose assertion and Response are both unsigned is refused.", "an unsigned assertion in an unsigned Response",
			func(context.Context, *Env, *spLogin) (respOpts, error) { return respOpts{unsigned: true}, nil }),
		refuseCase("SAML2-Meta-2.4.4/sp-unsigned-assertion-signed-response", "SAML Metadata §2.4.4 WantAssertionsSigned; SAML Profiles §4.1.3.5",
			"From an SP whose metadata says WantAssertionsSigned, an unsigned assertion in a signed Response is refused.", "an unsigned assertion in a signed Response",
			func(_ context.Context, e *Env, _ *spLogin) (respOpts, error) {
				if !e.SPT.WantAssertionsSigned {
					return respOpts{}, errNotApplicable("the SP's metadata does not say WantAssertionsSigned: a signed Response protects its assertion")
				}
				return respOpts{unsigned: true, signResponse: true}, nil
			}),
		refuseCase("SAML2-Core-5.4/sp-untrusted-key", "SAML Core §5.4; SAML Profiles §4.1.4.3; SAML Metadata §2.4.1.1 (keys from metadata, never from the message's KeyInfo)",
			"An assertion (and Response) signed by a key the IdP's metadata does not list, its certificate in KeyInfo, is refused.", "an assertion signed by a key not in the IdP's metadata",
			func(_ context.Context, e *Env, _ *spLogin) (respOpts, error) {
				p, err := e.newImpostor()
				return respOpts{signer: p, signResponse: true}, err
			}),
		refuseCase("SAML2-Core-2.5.1.4/sp-wrong-audience", "SAML Core §2.5.1.4; SAML Profiles §4.1.4.2-3",
			"An assertion whose AudienceRestriction names another SP is refused.", "an assertion whose audience is another SP",
			func(context.Context, *Env, *spLogin) (respOpts, error) { return respOpts{audience: otherSP}, nil }),
		refuseCase("SAML2-Core-2.5.1.2/sp-expired", "SAML Core §2.5.1.2",
			"An assertion whose Conditions NotOnOrAfter passed an hour ago is refused.", "an expired assertion (Conditions NotOnOrAfter an hour ago)",
			func(_ context.Context, e *Env, _ *spLogin) (respOpts, error) {
				now := e.now().UTC()
				return respOpts{notBefore: now.Add(-2 * hour), notOnOrAfter: now.Add(-hour)}, nil
			}),
		refuseCase("SAML2-Prof-4.1.4.3/sp-expired-confirmation", "SAML Profiles §4.1.4.3; SAML Core §2.4.1.2",
			"An assertion whose bearer SubjectConfirmationData NotOnOrAfter passed an hour ago is refused.", "an expired bearer confirmation (NotOnOrAfter an hour ago)",
			func(_ context.Context, e *Env, _ *spLogin) (respOpts, error) {
				return respOpts{scdNotOnOrAfter: e.now().UTC().Add(-hour)}, nil
			}),
		refuseCase("SAML2-Core-2.5.1.2/sp-not-yet-valid", "SAML Core §2.5.1.2",
			"An assertion whose Conditions NotBefore is an hour ahead is refused.", "an assertion not yet valid (NotBefore an hour ahead)",
			func(_ context.Context, e *Env, _ *spLogin) (respOpts, error) {
				now := e.now().UTC()
				return respOpts{notBefore: now.Add(hour), notOnOrAfter: now.Add(2 * hour)}, nil
			}),
		refuseCase("SAML2-Prof-4.1.4.3/sp-wrong-recipient", "SAML Profiles §4.1.4.3",
			"An assertion whose bearer confirmation's Recipient is not the ACS is refused.", "a bearer confirmation for another Recipient",
			func(_ context.Context, e *Env, _ *spLogin) (respOpts, error) {
				return respOpts{recipient: e.SPT.ACS + "/elsewhere"}, nil
			}),
		refuseCase("SAML2-Bind-3.5.5.2/sp-wrong-destination", "SAML Bindings §3.5.5.2; SAML Core §3.2.2",
			"A signed Response whose Destination is not the ACS it was posted to is refused.", "a signed Response with another Destination",
			func(_ context.Context, e *Env, _ *spLogin) (respOpts, error) {
				return respOpts{destination: e.SPT.ACS + "/elsewhere", signResponse: true}, nil
			}),
		refuseCase("SAML2-Prof-4.1.4.3/sp-inresponseto-other", "SAML Profiles §4.1.4.3; SAML Core §3.2.2",
			"A Response (and its bearer confirmation) answering the request of another browser's login is refused.", "a Response to another login's AuthnRequest",
			func(ctx context.Context, e *Env, l *spLogin) (respOpts, error) {
				other, err := e.beginLogin(ctx)
				if err != nil {
					return respOpts{}, err
				}
				return respOpts{inResponseTo: other.req.ID}, nil
			}),
		{ID: "SAML2-Prof-4.1.5/sp-unsolicited", Clause: "SAML Profiles §4.1.5; SAML Security Considerations (login CSRF)", Level: LevelPractice, Row: rowPOST,
			Summary: "An unsolicited Response (no InResponseTo) in a browser whose login is under way is refused by an SP not configured for IdP-initiated SSO (a practice against login CSRF: advisory).",
			Run:     runSPUnsolicited},
		{ID: "SAML2-Prof-4.1.4.5/sp-replayed-response", Clause: "SAML Profiles §4.1.4.5", Row: rowPOST,
			Summary: "A Response the SP accepted, posted again in a new login, is refused.",
			Run: func(ctx context.Context, e *Env) Outcome {
				return runSPReplay(ctx, e, false)
			}},
		{ID: "SAML2-Prof-4.1.4.5/sp-replayed-assertion", Clause: "SAML Profiles §4.1.4.5", Row: rowPOST,
			Summary: "A new Response answering a new login, carrying an assertion whose ID the SP accepted before, is refused.",
			Run: func(ctx context.Context, e *Env) Outcome {
				return runSPReplay(ctx, e, true)
			}},
		refuseCase("SAML2-Core-5.4.2/sp-xsw-sibling", "SAML Core §5.4.2; SAML Profiles §4.1.3.5; XSW (Somorovsky et al. 2012)",
			"A Response with an unsigned assertion for the SP before an assertion the IdP signed for another SP is refused (signature wrapping).",
			"an unsigned assertion beside a signed one (wrapping)", xswSibling),
		refuseCase("SAML2-Core-5.4.2/sp-xsw-object", "SAML Core §5.4.2; XSW (Somorovsky et al. 2012)",
			"An unsigned assertion whose ds:Signature is the IdP's signature of another assertion, that assertion inside ds:Object, is refused (signature wrapping).",
			"an unsigned assertion wrapping a signed one in its ds:Signature (wrapping)", xswObject),
		refuseCase("SAML2-Core-5.4.2/sp-xsw-advice", "SAML Core §5.4.2, §1.3.4 (ID unique); XSW (Somorovsky et al. 2012)",
			"An unsigned assertion with the ID of the signed one, which it holds in its saml:Advice, is refused (signature wrapping, duplicate ID).",
			"an unsigned assertion holding a signed one of the same ID in its Advice (wrapping)", xswAdvice),
		{ID: "SAML2-Core-5.4/sp-nameid-comment", Clause: "SAML Core §5.4; XML Signature (comments excluded by exclusive c14n, CVE-2017-11427 class)", Level: LevelPractice, Row: rowPOST,
			Summary: "A signed assertion whose NameID holds an XML comment (the signature still verifies) is accepted or refused; which value the SP read is not observable, so neither fails.",
			Run:     runSPComment},
		{ID: "SAML2-Core-5.4/sp-sha1-signature", Clause: "SAML Core §5.4; NIST SP 800-131A (SHA-1 signatures disallowed)", Level: LevelPractice, Row: rowPOST,
			Summary: "An assertion signed with rsa-sha1 and sha1 digests is refused: recommended practice, not a MUST (advisory).",
			Run:     runSPSHA1},
		refuseCase("SAML2-Core-3.2.2.2/sp-error-status", "SAML Core §3.2.2.2; SAML Profiles §4.1.4.2",
			"A signed Response with status Responder/AuthnFailed opens no session, even with a valid assertion inside.", "a Response whose status is not Success",
			func(context.Context, *Env, *spLogin) (respOpts, error) {
				st := samlp.NewStatus(samlp.StatusResponder, samlp.StatusAuthnFailed)
				return respOpts{status: &st, signResponse: true}, nil
			}),
	}
	cs = append(cs, spSLOCases()...)
	cs = append(cs, spMetadataCases()...)
	for i := range cs {
		cs[i].Role = RoleSP
	}
	return cs
}

const hour = time.Hour

// notApplicableError ends a case as not applicable.
type notApplicableError struct{ msg string }

func (n *notApplicableError) Error() string { return n.msg }

func errNotApplicable(msg string) error { return &notApplicableError{msg: msg} }

// spOutcome turns an error of an SP case into its verdict.
func spOutcome(err error) Outcome {
	if na, ok := err.(*notApplicableError); ok {
		return notApplicable("%s", na.msg)
	}
	return outcomeOf(err)
}

// refuseCase is a negative case: after a control login, the SP must
// refuse the Response opts describes for a fresh login; what names it in
// the verdict.
func refuseCase(id, clause, summary, what string, opts func(ctx context.Context, e *Env, l *spLogin) (respOpts, error)) Case {
	return Case{ID: id, Clause: clause, Row: rowPOST, Summary: summary, Run: func(ctx context.Context, e *Env) Outcome {
		if o := e.control(ctx, what); o != nil {
			return *o
		}
		l, err := e.beginLogin(ctx)
		if err != nil {
			return spOutcome(err)
		}
		o, err := opts(ctx, e, l)
		if err != nil {
			return spOutcome(err)
		}
		return e.expectRefusal(ctx, l, o, what)
	}}
}

// expectRefusal posts the Response of o for l and requires a refusal.
func (e *Env) expectRefusal(ctx context.Context, l *spLogin, o respOpts, what string) Outcome {
	r, _, err := e.buildResponse(l, o)
	if err != nil {
		return broken("building %s: %v", what, err)
	}
	a, err := e.post(ctx, l, r, what)
	if err != nil {
		return spOutcome(err)
	}
	if a.Accepted {
		return failed("the SP accepted %s: %s", what, a)
	}
	return passed("refused %s: %s", what, a)
}

// control runs a conforming login and returns nil when the SP accepts
// it, or the verdict that ends a negative case: a refusal of the broken
// Response would prove nothing if the conforming one is refused too.
func (e *Env) control(ctx context.Context, what string) *Outcome {
	if e.SPT == nil {
		o := broken("no SP target")
		return &o
	}
	l, err := e.beginLogin(ctx)
	if err != nil {
		o := spOutcome(err)
		return &o
	}
	r, _, err := e.buildResponse(l, respOpts{})
	if err != nil {
		o := broken("building the control Response: %v", err)
		return &o
	}
	a, err := e.post(ctx, l, r, "control: a conforming Response")
	if err != nil {
		o := spOutcome(err)
		return &o
	}
	if !a.Accepted {
		o := Outcome{Verdict: Error, Side: SideTarget, Reason: fmt.Sprintf("the SP refused the conforming Response of the control login (%s), so its refusal of %s would prove nothing (see the positive case)", a, what)}
		return &o
	}
	return nil
}

func runSPAuthnRequest(ctx context.Context, e *Env) Outcome {
	if e.SPT == nil {
		return broken("no SP target")
	}
	l, err := e.beginLogin(ctx)
	if err != nil {
		return spOutcome(err)
	}
	t, r := e.SPT, l.req
	var problems []string
	if r.Issuer == nil || r.Issuer.Value != t.EntityID {
		problems = append(problems, fmt.Sprintf("Issuer %+v is not the SP's entityID %q (SAML Profiles §4.1.4.1)", r.Issuer, t.EntityID))
	}
	switch {
	case r.Destination == "" && l.sigAlg != "":
		problems = append(problems, "a signed request without Destination (SAML Bindings §3.4.5.2)")
	case r.Destination != "" && r.Destination != t.IdP.SSOURL():
		problems = append(problems, fmt.Sprintf("Destination %q is not the SSO endpoint %q (SAML Bindings §3.4.5.2)", r.Destination, t.IdP.SSOURL()))
	}
	if s, err := xsd.Default(); err != nil {
		return broken("schemas: %v", err)
	} else if err := s.ValidateElement(r.Element()); err != nil {
		problems = append(problems, fmt.Sprintf("not valid against the SAML protocol schema: %v", err))
	}
	if len(problems) > 0 {
		return failed("%s", strings.Join(problems, "; "))
	}
	signed := "unsigned"
	if l.sigAlg != "" {
		signed = "query-signed (" + l.sigAlg + ") with a key of the SP's metadata"
	}
	return passed("AuthnRequest %s from %s, %s", r.ID, t.EntityID, signed)
}

func runSPAccepts(ctx context.Context, e *Env) Outcome {
	if e.SPT == nil {
		return broken("no SP target")
	}
	l, err := e.beginLogin(ctx)
	if err != nil {
		return spOutcome(err)
	}
	r, id, err := e.buildResponse(l, respOpts{})
	if err != nil {
		return broken("building the Response: %v", err)
	}
	a, err := e.post(ctx, l, r, "a conforming Response")
	if err != nil {
		return spOutcome(err)
	}
	if !a.Accepted {
		return failed("the SP refused a conforming Response (assertion %s): %s", id, a)
	}
	how := "a plain signed assertion (the SP's metadata lists no encryption key)"
	if e.SPT.Encryption != nil {
		how = "a signed assertion in an EncryptedAssertion"
	}
	return passed("accepted %s: %s", how, a)
}

func runSPUnsolicited(ctx context.Context, e *Env) Outcome {
	if e.SPT == nil {
		return broken("no SP target")
	}
	if e.SPT.AcceptsUnsolicited {
		return notApplicable("the SP is configured for IdP-initiated SSO")
	}
	if o := e.control(ctx, "an unsolicited Response"); o != nil {
		return *o
	}
	l, err := e.beginLogin(ctx)
	if err != nil {
		return spOutcome(err)
	}
	r, _, err := e.buildResponse(l, respOpts{noInResponseTo: true})
	if err != nil {
		return broken("building the Response: %v", err)
	}
	a, err := e.post(ctx, l, r, "an unsolicited Response")
	if err != nil {
		return spOutcome(err)
	}
	if a.Accepted {
		return advisory("the SP accepted an unsolicited Response while a login of this browser was under way (%s): SAML Profiles §4.1.5 allows IdP-initiated SSO, but an SP that does not offer it should refuse it (login CSRF)", a)
	}
	return passed("refused an unsolicited Response: %s", a)
}

// runSPReplay posts an accepted Response again in a new login (or, with
// sameAssertion, a new Response for the new login carrying the accepted
// assertion's ID), in a fresh browser, and requires a refusal.
func runSPReplay(ctx context.Context, e *Env, sameAssertion bool) Outcome {
	if e.SPT == nil {
		return broken("no SP target")
	}
	first, err := e.beginLogin(ctx)
	if err != nil {
		return spOutcome(err)
	}
	r1, id, err := e.buildResponse(first, respOpts{})
	if err != nil {
		return broken("building the first Response: %v", err)
	}
	a, err := e.post(ctx, first, r1, "the first presentation")
	if err != nil {
		return spOutcome(err)
	}
	if !a.Accepted {
		return Outcome{Verdict: Error, Side: SideTarget, Reason: fmt.Sprintf("the SP refused the first, conforming presentation (%s): a replay cannot be judged", a)}
	}
	second, err := e.beginLogin(ctx)
	if err != nil {
		return spOutcome(err)
	}
	if !sameAssertion {
		a, err := e.post(ctx, second, r1, "the same Response again")
		if err != nil {
			return spOutcome(err)
		}
		if a.Accepted {
			return failed("the SP accepted a replayed Response (assertion %s) in a new login: %s", id, a)
		}
		return passed("refused the replayed Response: %s", a)
	}
	return e.expectRefusal(ctx, second, respOpts{assertionID: id}, "a replayed assertion ID "+id+" in a new Response")
}

func runSPComment(ctx context.Context, e *Env) Outcome {
	if e.SPT == nil {
		return broken("no SP target")
	}
	l, err := e.beginLogin(ctx)
	if err != nil {
		return spOutcome(err)
	}
	value := "conformance-" + e.newID()[1:13] + ".evil.invalid"
	r, _, err := e.buildResponse(l, respOpts{nameID: value, signed: func(el *etree.Element) (*etree.Element, error) {
		nid := el.FindElement("./Subject/NameID")
		if nid == nil {
			return nil, fmt.Errorf("no NameID to inject a comment into")
		}
		head, tail, _ := strings.Cut(value, ".")
		nid.SetText(head)
		nid.CreateComment("")
		nid.CreateText("." + tail)
		return el, nil
	}})
	if err != nil {
		return broken("building the Response: %v", err)
	}
	a, err := e.post(ctx, l, r, "a NameID with a comment inside")
	if err != nil {
		return spOutcome(err)
	}
	verb := "refused"
	if a.Accepted {
		verb = "accepted"
	}
	return passed("%s a signed assertion whose NameID is %q with a comment after %q (%s); whether an accepting SP read the whole value is not observable from outside, so this is no verdict on it", verb, value, value[:strings.Index(value, ".")], a)
}

func runSPSHA1(ctx context.Context, e *Env) Outcome {
	if e.SPT == nil {
		return broken("no SP target")
	}
	l, err := e.beginLogin(ctx)
	if err != nil {
		return spOutcome(err)
	}
	r, _, err := e.buildResponse(l, respOpts{sha1: true})
	if err != nil {
		return broken("building the Response: %v", err)
	}
	a, err := e.post(ctx, l, r, "an assertion signed with rsa-sha1")
	if err != nil {
		return spOutcome(err)
	}
	if a.Accepted {
		return advisory("the SP accepted an assertion signed with %s and %s digests (%s): SAML 2.0 allows it, refusing SHA-1 is recommended practice (NIST SP 800-131A)", xmlsec.RSASHA1, xmlsec.DigestSHA1, a)
	}
	return passed("refused an rsa-sha1 signature: %s", a)
}

// The wrapping shapes (XSW, Somorovsky et al. 2012): in each, the IdP's signed
// assertion is one for another SP (audience otherSP), as an attacker
// would hold it, and an unsigned copy for this SP is where a careless
// SP looks. An SP that accepts relied on the unsigned one, or ignored
// the audience: either way a MUST is broken.

// xswSibling puts the unsigned assertion first in the Response, the
// signed one after it.
func xswSibling(_ context.Context, e *Env, l *spLogin) (respOpts, error) {
	evil := e.assertion(l, respOpts{}, e.now().UTC()).Element()
	return respOpts{audience: otherSP, before: []*etree.Element{evil}}, nil
}

// xswObject makes the unsigned assertion carry the signed one's
// ds:Signature, the signed assertion inside its ds:Object (the shape of
// XSW 7 and 8): the Reference resolves, to an element that is not the
// signature's parent.
func xswObject(_ context.Context, e *Env, l *spLogin) (respOpts, error) {
	return respOpts{audience: otherSP, signed: func(orig *etree.Element) (*etree.Element, error) {
		evil := e.assertion(l, respOpts{}, e.now().UTC()).Element()
		sig := signatureOf(orig)
		if sig == nil {
			return nil, fmt.Errorf("the signed assertion has no ds:Signature")
		}
		sig = xmlsec.DetachCopy(sig)
		obj := sig.CreateElement(sig.Space + ":Object")
		obj.AddChild(xmlsec.DetachCopy(orig))
		return evil, insertAfter(evil, "Issuer", sig)
	}}, nil
}

// xswAdvice gives the unsigned assertion the signed one's ID and puts
// the signed one in its saml:Advice: two elements of one ID.
func xswAdvice(_ context.Context, e *Env, l *spLogin) (respOpts, error) {
	id := e.newID()
	return respOpts{audience: otherSP, assertionID: id, signed: func(orig *etree.Element) (*etree.Element, error) {
		evil := e.assertion(l, respOpts{assertionID: id}, e.now().UTC()).Element()
		adv := etree.NewElement(orig.Space + ":Advice")
		adv.AddChild(xmlsec.DetachCopy(orig))
		return evil, insertAfter(evil, "Conditions", adv)
	}}, nil
}

// signatureOf returns el's ds:Signature child.
func signatureOf(el *etree.Element) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == "http://www.w3.org/2000/09/xmldsig#" {
			return c
		}
	}
	return nil
}

// insertAfter inserts child after el's first child element named tag.
func insertAfter(el *etree.Element, tag string, child *etree.Element) error {
	i := slices.IndexFunc(el.ChildElements(), func(c *etree.Element) bool { return c.Tag == tag })
	if i < 0 {
		return fmt.Errorf("no %s in the assertion", tag)
	}
	el.InsertChildAt(el.ChildElements()[i].Index()+1, child)
	return nil
}
