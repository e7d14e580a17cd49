package conformance

import (
	"context"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// nimapCases are the Name Identifier Mapping cases (SAML Core §3.8): our
// SP asks for the principal's NameID at Env.Other, which the IdP must let
// it obtain, encrypted for Env.Other.
func nimapCases() []Case {
	return []Case{
		{ID: "SAML2-Core-3.8/nimap-encrypted", Clause: "SAML Core §3.8.1-3.8.2; SAML Profiles §4.8; SAML Bindings §3.2", Row: rowNameIDMapping, Positive: true,
			Summary: "A signed NameIDMappingRequest for the other SP's NameID gets a signed Success response whose identifier is an EncryptedID the other SP decrypts and we cannot, the NameID the other SP then gets at login.",
			Run:     runNIMapEncrypted},
		{ID: "SAML2-Core-3.8/nimap-unlisted-target", Clause: "SAML Core §3.8.2; SAML Profiles §4.8 (the requester must be authorised by policy)", Level: LevelPractice, Row: rowNameIDMapping,
			Summary: "A request for the NameID at a provider the IdP does not know is not answered with Success.",
			Run:     func(ctx context.Context, e *Env) Outcome { return runNIMapRefused(ctx, e, false) }},
		{ID: "SAML2-Bind-3.2/nimap-unsigned", Clause: "SAML Profiles §4.8.2; SAML Bindings §3.2.2.2 (the requester is authenticated)", Row: rowNameIDMapping,
			Summary: "An unsigned NameIDMappingRequest is not answered with Success.",
			Run:     func(ctx context.Context, e *Env) Outcome { return runNIMapRefused(ctx, e, true) }},
	}
}

// nimapEndpoint is the IdP's SOAP NameIDMappingService, or an outcome
// saying the case does not apply.
func (e *Env) nimapEndpoint() (string, *Outcome) {
	if e.Target != nil && e.Target.IDP != nil {
		for _, ep := range e.Target.IDP.NameIDMapping {
			if ep.Binding == md.BindingSOAP {
				return ep.Location, nil
			}
		}
	}
	o := notApplicable("the IdP offers no NameIDMappingService with the SOAP binding")
	return "", &o
}

// nimapStart logs our SP in and returns a mapping request of its NameID
// for target.
func (e *Env) nimapStart(ctx context.Context, target string) (string, *samlp.NameIDMappingRequest, *Outcome) {
	dest, o := e.nimapEndpoint()
	if o != nil {
		return "", nil, o
	}
	nid, err := e.persistentNameID(ctx)
	if err != nil {
		o := outcomeOf(err)
		return "", nil, &o
	}
	return dest, &samlp.NameIDMappingRequest{RequestHeader: samlp.RequestHeader{ID: e.newID(), IssueInstant: e.now().UTC(),
		Destination: dest, Issuer: &saml.Issuer{Value: e.SP.EntityID}}, NameID: nid,
		Policy: samlp.NameIDPolicy{Format: FormatPersistent, SPNameQualifier: target, AllowCreate: true}}, nil
}

func runNIMapEncrypted(ctx context.Context, e *Env) Outcome {
	if e.Other == nil {
		return notApplicable("no second SP (Env.Other) is registered at the IdP")
	}
	dest, req, o := e.nimapStart(ctx, e.Other.EntityID)
	if o != nil {
		return *o
	}
	body, status, err := e.soapQuery(ctx, dest, "NameIDMappingRequest", req, true)
	if err != nil {
		return outcomeOf(err)
	}
	if body == nil {
		return failed("a conforming NameIDMappingRequest was answered with HTTP %d, not a response (SAML Bindings §3.2.3.3)", status)
	}
	r, err := e.mappingResponse(body, req.ID, dest)
	if err != nil {
		return outcomeOf(err)
	}
	got, o := e.mappedNameID(r)
	if o != nil {
		return *o
	}
	at, o := e.otherNameID(ctx)
	if o != nil {
		return *o
	}
	if at.Value != got.Value {
		return failed("mapped NameID %q, but the other SP gets %q at login", got.Value, at.Value)
	}
	return passed("Success, an EncryptedID only the other SP reads, its login NameID")
}

// mappingResponse judges a NameIDMappingResponse from dest: signed by the
// IdP (or unsigned over TLS, a SHOULD warning), in response to reqID,
// Success.
func (e *Env) mappingResponse(body *etree.Element, reqID, dest string) (*samlp.NameIDMappingResponse, error) {
	signed, ok, err := e.signedAnswer(body, "NameIDMappingResponse")
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := e.authenticAnswer("NameIDMappingResponse", dest); err != nil {
			return nil, err
		}
	}
	r, err := samlp.DecodeNameIDMappingResponse(signed)
	if err != nil {
		return nil, errTarget("the NameIDMappingResponse does not decode: %v", err)
	}
	if err := e.nimHeader(&r.StatusResponseHeader, reqID); err != nil {
		return nil, err
	}
	if !r.Status.Success() {
		return nil, errTarget("status %s %s (%s), want Success", r.Status.Code.Value, r.Status.Second(), r.Status.Message)
	}
	return r, nil
}

// mappedNameID checks that the identifier is encrypted for Env.Other and
// not readable by us, and returns it decrypted.
func (e *Env) mappedNameID(r *samlp.NameIDMappingResponse) (*saml.NameID, *Outcome) {
	fail := func(format string, args ...any) (*saml.NameID, *Outcome) {
		o := failed(format, args...)
		return nil, &o
	}
	if r.EncryptedID == nil {
		// SAML Core §3.8.2: the identifier is "usually" encrypted, not a MUST.
		o := failedAt(LevelShould, "the mapped NameID came back in clear, readable by the requester (SAML Core §3.8.2: usually encrypted for %s)", e.Other.EntityID)
		return nil, &o
	}
	// Our own key, with every algorithm our metadata allows and whatever
	// Recipient the IdP named: no way of ours may open it.
	if ours := e.SP.Decrypter(); ours != nil {
		ours.EntityID = ""
		if _, err := r.EncryptedID.Decrypt(ours); err == nil {
			return fail("the requester can decrypt the NameID meant for %s", e.Other.EntityID)
		}
	}
	d := e.Other.Decrypter()
	if d == nil {
		// The suite's own setup: the second SP has no key to decrypt with.
		o := broken("the suite's other SP (%s) has no encryption key, so the mapped NameID cannot be read; give it one", e.Other.EntityID)
		return nil, &o
	}
	nid, err := r.EncryptedID.Decrypt(d)
	if err != nil {
		return fail("the EncryptedID does not decrypt with %s's key: %v", e.Other.EntityID, err)
	}
	if nid.Format != FormatPersistent || nid.SPNameQualifier != "" && nid.SPNameQualifier != e.Other.EntityID {
		return fail("mapped NameID of format %q for %q, want persistent for %s", nid.Format, nid.SPNameQualifier, e.Other.EntityID)
	}
	return nid, nil
}

func runNIMapRefused(ctx context.Context, e *Env, unsigned bool) Outcome {
	target := "https://unlisted.invalid/sp"
	if unsigned {
		if e.Other == nil {
			return notApplicable("no second SP (Env.Other) is registered at the IdP")
		}
		target = e.Other.EntityID
	}
	dest, req, o := e.nimapStart(ctx, target)
	if o != nil {
		return *o
	}
	body, status, err := e.soapQuery(ctx, dest, "NameIDMappingRequest", req, !unsigned)
	if err != nil {
		return outcomeOf(err)
	}
	return e.judgeRefusal(body, status, "NameIDMappingResponse", "")
}
