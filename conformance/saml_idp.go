package conformance

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Rows of the matrix the SAML IdP cases count for.
const (
	rowRedirect = "SAML2-Conf/websso-redirect"
	rowPOST     = "SAML2-Conf/websso-post"
	rowMetadata = "SAML2-Conf/metadata"
)

// SAMLIdPCases returns the SAML 2.0 IdP and IdP Lite cases: Web SSO over
// HTTP-Redirect and HTTP-POST, positive and negative, and the metadata
// checks. The suite plays the SP.
func SAMLIdPCases() []Case {
	cs := slices.Concat(positiveCases(), negativeCases(), postCases(), ecpCases(), metadataCases(), sloCases(), nimCases(),
		artifactCases(), queryCases(), nimapCases())
	for i := range cs {
		cs[i].Role = RoleIdP
	}
	return cs
}

// login runs one conforming SSO exchange and returns the verified response
// and assertion, or the outcome that ends the case.
func login(ctx context.Context, e *Env) (*exchange, *samlp.Response, *saml.Assertion, *Outcome) {
	dest, err := e.ssoEndpoint("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect")
	if err != nil {
		o := failed("%v", err)
		return nil, nil, nil, &o
	}
	x, err := e.sendRedirect(ctx, e.authnRequest(dest), redirectOpts{})
	if err != nil {
		o := outcomeOf(err)
		return nil, nil, nil, &o
	}
	r, a, err := e.success(x)
	if err != nil {
		o := outcomeOf(err)
		return x, nil, nil, &o
	}
	return x, r, a, nil
}

// positive wraps a check of a successful SSO exchange as a case.
func positive(id, clause, row, summary string, check func(ctx context.Context, e *Env, x *exchange, r *samlp.Response, a *saml.Assertion) Outcome) Case {
	return Case{ID: id, Clause: clause, Row: row, Positive: true, Summary: summary,
		Run: func(ctx context.Context, e *Env) Outcome {
			x, r, a, o := login(ctx, e)
			if o != nil {
				return *o
			}
			return check(ctx, e, x, r, a)
		}}
}

func positiveCases() []Case {
	return []Case{
		positive("SAML2-Bind-3.4/redirect-authnrequest", "SAML Bindings §3.4; SAML Profiles §4.1.4.1", rowRedirect,
			"A signed AuthnRequest over HTTP-Redirect yields a Success Response with a signed assertion.",
			func(ctx context.Context, e *Env, x *exchange, r *samlp.Response, a *saml.Assertion) Outcome {
				return passed("Success, assertion %s signed by a metadata key", a.ID)
			}),
		positive("SAML2-Bind-3.5.5.2/post-response-destination", "SAML Bindings §3.5.5.2; SAML Profiles §4.1.4.5", rowPOST,
			"The Response is posted to our ACS URL and its Destination names it.", checkDestination),
		positive("SAML2-Core-3.3.3/response-schema-valid", "SAML Core §3.3.3 (schema)", rowPOST,
			"The Response is valid against the SAML 2.0 protocol schema.", checkSchema),
		positive("SAML2-Core-3.2.2/response-header", "SAML Core §3.2.2; SAML Profiles §4.1.4.2", rowPOST,
			"InResponseTo names our request, Issuer is the IdP's entity ID, Version 2.0, status Success.", checkHeader),
		positive("SAML2-Prof-4.1.3.5/assertion-signed-xmlsec1", "SAML Profiles §4.1.3.5; SAML Core §5.4", rowPOST,
			"The assertion's signature also verifies with xmlsec1, an independent implementation, against the IdP's metadata key.", checkOracle),
		positive("SAML2-Prof-4.1.4.2/bearer-confirmation", "SAML Profiles §4.1.4.2", rowPOST,
			"A bearer SubjectConfirmation with Recipient = ACS, NotOnOrAfter in the future, InResponseTo = request, no NotBefore.", checkBearer),
		positive("SAML2-Prof-4.1.4.2/audience-restriction", "SAML Profiles §4.1.4.2; SAML Core §2.5.1.4", rowPOST,
			"Conditions carry an AudienceRestriction naming our SP, and the assertion is within its validity window.", checkAudience),
		positive("SAML2-Prof-4.1.4.2/authn-statement", "SAML Profiles §4.1.4.2; SAML Core §2.7.2", rowPOST,
			"At least one AuthnStatement with an AuthnInstant.", checkAuthnStatement),
		positive("SAML2-Core-3.4.1.1/nameid-format", "SAML Core §3.4.1.1", rowPOST,
			"The NameID has the format the NameIDPolicy asked for.", checkNameIDFormat),
	}
}

func checkDestination(ctx context.Context, e *Env, x *exchange, r *samlp.Response, a *saml.Assertion) Outcome {
	if x.Landing.Form.Action != e.SP.ACS {
		return failed("the form posts to %q, not our ACS %q", x.Landing.Form.Action, e.SP.ACS)
	}
	if r.Destination != e.SP.ACS {
		return failed("Destination %q, want our ACS %q (required on a signed Response, SAML Bindings §3.5.5.2)", r.Destination, e.SP.ACS)
	}
	return passed("posted to %s with Destination set", e.SP.ACS)
}

func checkSchema(ctx context.Context, e *Env, x *exchange, r *samlp.Response, a *saml.Assertion) Outcome {
	s, err := xsd.Default()
	if err != nil {
		return broken("schema set: %v", err)
	}
	if err := s.ValidateElement(x.Response); err != nil {
		return failed("the Response is not schema-valid: %v", err)
	}
	return passed("schema-valid")
}

func checkHeader(ctx context.Context, e *Env, x *exchange, r *samlp.Response, a *saml.Assertion) Outcome {
	switch {
	case x.Response.SelectAttrValue("Version", "") != "2.0":
		return failed("Version %q, want 2.0", x.Response.SelectAttrValue("Version", ""))
	case r.InResponseTo != x.Request.ID:
		return failed("InResponseTo %q, want our request ID %q", r.InResponseTo, x.Request.ID)
	case r.Issuer == nil || r.Issuer.Value != e.Target.Entity.EntityID:
		return failed("Response Issuer %v, want %q", r.Issuer, e.Target.Entity.EntityID)
	case a.Issuer.Value != e.Target.Entity.EntityID:
		return failed("assertion Issuer %q, want %q", a.Issuer.Value, e.Target.Entity.EntityID)
	}
	return passed("InResponseTo, Issuer and status as required")
}

func checkBearer(ctx context.Context, e *Env, x *exchange, r *samlp.Response, a *saml.Assertion) Outcome {
	if a.Subject == nil {
		return failed("the assertion has no Subject")
	}
	now := e.now()
	for _, c := range a.Subject.ConfirmationsBy("urn:oasis:names:tc:SAML:2.0:cm:bearer") {
		d := c.Data
		switch {
		case d == nil:
			return failed("bearer SubjectConfirmation without SubjectConfirmationData")
		case d.Recipient != e.SP.ACS:
			return failed("Recipient %q, want our ACS %q", d.Recipient, e.SP.ACS)
		case d.NotOnOrAfter.IsZero() || !now.Before(d.NotOnOrAfter):
			return failed("NotOnOrAfter %v missing or past (now %v)", d.NotOnOrAfter, now)
		case d.InResponseTo != x.Request.ID:
			return failed("InResponseTo %q, want %q", d.InResponseTo, x.Request.ID)
		case !d.NotBefore.IsZero():
			return failed("NotBefore is present on a bearer confirmation")
		}
		return passed("bearer confirmation to %s until %v", d.Recipient, d.NotOnOrAfter)
	}
	return failed("no bearer SubjectConfirmation")
}

func checkAudience(ctx context.Context, e *Env, x *exchange, r *samlp.Response, a *saml.Assertion) Outcome {
	if a.Conditions == nil || len(a.Conditions.AudienceRestrictions) == 0 {
		return failed("no Conditions/AudienceRestriction")
	}
	if err := a.CheckConditions(e.now(), 3*time.Minute, e.SP.EntityID); err != nil {
		return failed("conditions for audience %s: %v", e.SP.EntityID, err)
	}
	return passed("audience %s, within the validity window", e.SP.EntityID)
}

func checkAuthnStatement(ctx context.Context, e *Env, x *exchange, r *samlp.Response, a *saml.Assertion) Outcome {
	if len(a.AuthnStatements) == 0 {
		return failed("no AuthnStatement")
	}
	if a.AuthnStatements[0].AuthnInstant.IsZero() {
		return failed("AuthnStatement without AuthnInstant")
	}
	return passed("AuthnStatement, class %q", a.AuthnStatements[0].ClassRef)
}

func checkNameIDFormat(ctx context.Context, e *Env, x *exchange, r *samlp.Response, a *saml.Assertion) Outcome {
	want := x.Request.NameIDPolicy.Format
	if a.Subject == nil || a.Subject.NameID == nil {
		return failed("no NameID in the Subject (an EncryptedID was not asked for)")
	}
	if got := a.Subject.NameID.Format; got != want {
		return failed("NameID Format %q, the request asked for %q", got, want)
	}
	return passed("NameID of format %s", want)
}

// describe names what came back, for a reason.
func (x *exchange) describe() string {
	if x.Response != nil {
		top, second, _ := x.status()
		return fmt.Sprintf("a Response with status %s %s", top, second)
	}
	return fmt.Sprintf("a page, HTTP %d", x.Landing.Status)
}
