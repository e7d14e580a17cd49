package conformance

import (
	"context"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// rowNIMSOAPIdP is the IdP-initiated Name Identifier Management row over
// SOAP.
const rowNIMSOAPIdP = "SAML2-Conf/nim-soap-idp"

// NIMTrigger makes the IdP under test terminate, at its own initiative,
// the federation of the principal sp knows by the persistent nameID: the
// IdP's operator command or admin call, or its engine driven in process.
// SAML defines no such trigger.
type NIMTrigger func(ctx context.Context, sp, nameID string) error

// SAMLIdPInitiatedNIMCases returns the IdP-initiated ManageNameID case
// over SOAP for an IdP that offers a trigger and has back's SP in its
// metadata: the suite logs in as back's SP for a persistent NameID, pulls
// the trigger, and the IdP must send back's SOAP ManageNameIDService a
// signed Terminate about that NameID, accept our signed Success, and
// issue that NameID no more.
func SAMLIdPInitiatedNIMCases(trigger NIMTrigger, back *BackChannelSP) []Case {
	return []Case{{ID: "SAML2-Prof-4.5/nim-idp-initiated-soap-terminate",
		Clause: "SAML Profiles §4.5.3, §4.5.4.1; SAML Core §3.6.1, §3.6.3; SAML Bindings §3.2", Row: rowNIMSOAPIdP, Role: RoleIdP, Positive: true,
		Summary: "Pulled by its trigger, the IdP sends our SOAP ManageNameIDService one Terminate about our persistent NameID, signed by a metadata key (xmlsec1 agrees), to that endpoint; it takes our signed Success, and a later login with AllowCreate=false gets no assertion with that NameID.",
		Run:     func(ctx context.Context, e *Env) Outcome { return runNIMIdPInitiated(ctx, e, trigger, back) }}}
}

func runNIMIdPInitiated(ctx context.Context, e *Env, trigger NIMTrigger, back *BackChannelSP) Outcome {
	sub := *e // the same target, as back's SP; its messages go to e's log
	sub.SP, sub.messages = back.SP, nil
	defer func() { e.messages = append(e.messages, sub.messages...); e.adoptWarnings(&sub) }()
	back.take()
	nid, err := sub.persistentNameID(ctx)
	if err != nil {
		return outcomeOf(err)
	}
	terr := trigger(ctx, back.SP.EntityID, nid.Value)
	got := back.take()
	for _, r := range got {
		if b, err := xmlsec.Serialize(r.el); err == nil {
			sub.Record(Message{Direction: "received", Label: "ManageNameIDRequest (SOAP)", URL: back.SP.SOAPNIM, Body: string(b)})
		}
	}
	if len(got) == 0 && terr != nil {
		// The trigger failed: the IdP may never have been told to act.
		return broken("the trigger failed and our SOAP ManageNameIDService received nothing, so the case cannot judge the IdP: %v", terr)
	}
	if len(got) != 1 {
		return failed("our SOAP ManageNameIDService received %d requests, want 1 (the trigger said: %v)", len(got), terr)
	}
	if err := sub.judgeIdPTerminate(ctx, got[0].el, nid, back.SP.SOAPNIM, sub.tlsAuthenticated(got[0])); err != nil {
		return outcomeOf(err)
	}
	if terr != nil {
		return failed("the IdP did not take our signed Success ManageNameIDResponse: %v", terr)
	}
	x, err := sub.persistentLogin(ctx, false)
	if err != nil {
		return outcomeOf(err)
	}
	if x.Response != nil {
		if _, a, err := sub.success(x); err == nil && a.Subject != nil && a.Subject.NameID != nil && a.Subject.NameID.Value == nid.Value {
			return failed("after its Terminate the IdP still issues the terminated NameID")
		}
	}
	return passed("one signed Terminate over SOAP (xmlsec1 agrees) about our NameID; our Success taken, the NameID no longer issued")
}

// judgeIdPTerminate checks the IdP's ManageNameIDRequest el (SAML Core
// §3.6.1; SAML Profiles §4.5.4.1): schema-valid, signed by a metadata key
// (our verifier and xmlsec1), Destination dest, a Terminate about nid.
func (e *Env) judgeIdPTerminate(ctx context.Context, el *etree.Element, nid *saml.NameID, dest string, tlsAuth bool) error {
	sch, err := xsd.Default()
	if err != nil {
		return err
	}
	if err := sch.ValidateElement(el); err != nil {
		return errTarget("the ManageNameIDRequest is not schema-valid: %v", err)
	}
	var req *samlp.ManageNameIDRequest
	if tlsAuth {
		// Unsigned, from a TLS client key of the IdP's metadata.
		if req, err = samlp.DecodeManageNameIDRequest(el); err != nil {
			return errTarget("the ManageNameIDRequest does not decode: %v", err)
		}
	} else {
		if err = e.verifyIdP(func(v *dsig.Verifier) (err error) {
			req, _, err = samlp.VerifyManageNameIDRequest(el, v)
			return err
		}); err != nil {
			return errTarget("the ManageNameIDRequest is neither signed by a metadata key of the IdP nor sent with a TLS client key of its metadata: %v", err)
		}
		ok, out, err := e.Oracle.VerifyEnveloped(ctx, el, samlp.NS, "ManageNameIDRequest", e.Target.IDP.SigningCertificates())
		if err != nil {
			return oracleError(err)
		}
		if !ok {
			return errTarget("xmlsec1 does not verify the ManageNameIDRequest signature: %s", out)
		}
	}
	switch {
	case req.Destination != dest:
		return errTarget("Destination %q, want our ManageNameIDService %q", req.Destination, dest)
	case !req.Terminate:
		return errTarget("the request is not a Terminate")
	case req.NameID == nil || req.NameID.Value != nid.Value:
		return errTarget("the request does not name our persistent NameID %q (SAML Core §3.6.1)", nid.Value)
	}
	return nil
}
