package sp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// TestConsumeLogin: the IdP's own shape (signed assertion, encrypted, in
// a signed Response) gives the login: pseudonym, session, authentication
// and bootstrap; an unsigned Response around the signed assertion does
// too; a NameID sent encrypted is decrypted.
func TestConsumeLogin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(e *env, id string) *etree.Element
	}{
		{"ok/idp-shape", func(e *env, id string) *etree.Element { return e.idpResponse(id, e.assertion(id)) }},
		{"ok/unsigned-response", func(e *env, id string) *etree.Element {
			return e.response(id, success, nil, e.encrypt(e.sign(e.assertion(id), e.signer())))
		}},
		{"ok/encrypted-nameid", func(e *env, id string) *etree.Element {
			a := e.assertion(id)
			enc, err := saml.EncryptNameID(a.Subject.NameID, &xmlenc.Encrypter{}, xmlenc.Recipient{Cert: e.k.spEnc.Cert})
			e.must(err)
			a.Subject.NameID, a.Subject.EncryptedID = nil, enc
			return e.idpResponse(id, a)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.login(relay)
			l, err := e.sp.Consume(ctx, e.post(tc.build(e, id), relay), id)
			if err != nil {
				t.Fatal(err)
			}
			n := l.NameID
			switch {
			case n.Value != pseudo || n.Format != saml.NameIDPersistent || n.NameQualifier != idpID || n.SPNameQualifier != spID:
				t.Fatalf("NameID %+v, want the persistent pseudonym %s", n, pseudo)
			case l.IdP != idpID || l.SessionIndex != spSessIx || l.AuthnContext != saml.ACSmartcardPKI:
				t.Fatalf("IdP %s, SessionIndex %q, AuthnContext %s", l.IdP, l.SessionIndex, l.AuthnContext)
			case !l.AuthnInstant.Equal(e.now.Add(-time.Second)) || !l.SessionNotOnOrAfter.Equal(e.now.Add(8*time.Hour)):
				t.Fatalf("AuthnInstant %s, SessionNotOnOrAfter %s", l.AuthnInstant, l.SessionNotOnOrAfter)
			case l.Bootstrap == nil || l.Bootstrap.Address != dsSOAP || l.Bootstrap.Metadata.ProviderID != dsID:
				t.Fatalf("bootstrap %+v, want the DS at %s", l.Bootstrap, dsSOAP)
			case l.RelayState != relay || l.Assertion == nil:
				t.Fatalf("RelayState %q", l.RelayState)
			}
		})
	}
}

// TestConsumeRefuses: each hostile or broken Response fails with the
// error of the check that catches it, and a lower layer's kind stays
// reachable where it says more (xmlsec.ErrAlgorithm for SHA-1).
func TestConsumeRefuses(t *testing.T) {
	plain := func(c *sp.Config) { c.AllowPlainAssertions = true }
	type build func(e *env, id string) (*binding.POSTMessage, string)
	// shaped posts the IdP's shape of a mutated assertion.
	shaped := func(mut func(e *env, a *saml.Assertion)) build {
		return func(e *env, id string) (*binding.POSTMessage, string) {
			a := e.assertion(id)
			mut(e, a)
			return e.post(e.idpResponse(id, a), relay), id
		}
	}
	cases := []struct {
		name  string
		tweak func(*sp.Config)
		build build
		want  error
		cause error
	}{
		{"fail/wrong-destination", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			r := &samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_r1", InResponseTo: id, IssueInstant: e.now,
				Destination: "https://elsewhere.test/acs", Issuer: &saml.Issuer{Value: idpID}, Status: success},
				Assertions: []*etree.Element{e.encrypt(e.sign(e.assertion(id), e.signer()))}}
			el, err := samlp.Sign(r, e.signer())
			e.must(err)
			return e.post(el, relay), id
		}, sp.ErrDestination, nil},
		{"fail/wrong-audience", nil, shaped(func(_ *env, a *saml.Assertion) {
			a.Conditions.AudienceRestrictions[0].Audiences = []string{"https://other-sp.test"}
		}), sp.ErrAudience, nil},
		{"fail/expired", nil, shaped(func(e *env, a *saml.Assertion) {
			a.Conditions.NotBefore, a.Conditions.NotOnOrAfter = e.now.Add(-20*time.Minute), e.now.Add(-10*time.Minute)
		}), sp.ErrExpired, nil},
		{"fail/not-yet-valid", nil, shaped(func(e *env, a *saml.Assertion) {
			a.Conditions.NotBefore = e.now.Add(10 * time.Minute)
		}), sp.ErrNotYetValid, nil},
		{"fail/session-already-over", nil, shaped(func(e *env, a *saml.Assertion) {
			a.AuthnStatements[0].SessionNotOnOrAfter = e.now.Add(-time.Hour)
		}), sp.ErrExpired, nil},
		{"fail/bearer-expired", nil, shaped(func(e *env, a *saml.Assertion) {
			a.Subject.Confirmations[0].Data.NotOnOrAfter = e.now.Add(-10 * time.Minute)
		}), sp.ErrConfirmation, nil},
		{"fail/bearer-not-before", nil, shaped(func(e *env, a *saml.Assertion) {
			a.Subject.Confirmations[0].Data.NotBefore = e.now
		}), sp.ErrConfirmation, nil},
		{"fail/bearer-recipient", nil, shaped(func(_ *env, a *saml.Assertion) {
			a.Subject.Confirmations[0].Data.Recipient = "https://other-sp.test/acs"
		}), sp.ErrConfirmation, nil},
		{"fail/bearer-answers-other-request", nil, shaped(func(_ *env, a *saml.Assertion) {
			a.Subject.Confirmations[0].Data.InResponseTo = "_another"
		}), sp.ErrConfirmation, nil},
		{"fail/holder-of-key-only", nil, shaped(func(_ *env, a *saml.Assertion) {
			a.Subject.Confirmations[0].Method = saml.CMHolderOfKey
		}), sp.ErrConfirmation, nil},
		{"fail/no-authn-statement", nil, shaped(func(_ *env, a *saml.Assertion) { a.AuthnStatements = nil }), sp.ErrAuthnStatement, nil},
		{"fail/transient-nameid", nil, shaped(func(_ *env, a *saml.Assertion) {
			a.Subject.NameID.Format = saml.NameIDTransient
		}), sp.ErrSubject, nil},
		{"fail/nameid-for-other-sp", nil, shaped(func(_ *env, a *saml.Assertion) {
			a.Subject.NameID.SPNameQualifier = "https://other-sp.test"
		}), sp.ErrSubject, nil},
		{"fail/assertion-by-other-issuer", nil, shaped(func(_ *env, a *saml.Assertion) {
			a.Issuer.Value = "https://other-idp.test"
		}), sp.ErrIssuer, nil},
		{"fail/bootstrap-not-an-epr", nil, shaped(func(_ *env, a *saml.Assertion) {
			a.AttributeStatements[0].Attributes[0].Values = []saml.AttributeValue{{Text: dsSOAP}}
		}), sp.ErrBootstrap, nil},
		{"fail/response-by-other-issuer", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			r := &samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_r1", InResponseTo: id, IssueInstant: e.now,
				Destination: acsURL, Issuer: &saml.Issuer{Value: "https://other-idp.test"}, Status: success},
				Assertions: []*etree.Element{e.encrypt(e.sign(e.assertion(id), e.signer()))}}
			return e.post(r.Element(), relay), id
		}, sp.ErrIssuer, nil},
		{"fail/unsolicited", nil, func(e *env, _ string) (*binding.POSTMessage, string) {
			return e.post(e.idpResponse("", e.assertion("")), ""), ""
		}, sp.ErrUnsolicited, nil},
		{"fail/another-browsers-request", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			other := e.login(relay)
			return e.post(e.idpResponse(other, e.assertion(other)), relay), id
		}, sp.ErrUnknownRequest, nil},
		{"fail/request-never-made", nil, func(e *env, _ string) (*binding.POSTMessage, string) {
			return e.post(e.idpResponse("_forged", e.assertion("_forged")), relay), "_forged"
		}, sp.ErrUnknownRequest, nil},
		{"fail/request-expired", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			e.now = e.now.Add(sp.DefaultRequestLifetime + time.Second)
			return e.post(e.idpResponse(id, e.assertion(id)), relay), id
		}, sp.ErrUnknownRequest, nil},
		{"fail/relaystate-changed", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			return e.post(e.idpResponse(id, e.assertion(id)), "https://evil.test/"), id
		}, sp.ErrRelayState, nil},
		{"fail/unsigned-assertion-in-signed-response", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			a := e.assertion(id).Element()
			return e.post(e.response(id, success, e.signer(), e.encrypt(a)), relay), id
		}, sp.ErrSignature, xmlsec.ErrNoSignature},
		{"fail/assertion-by-untrusted-key", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			return e.post(e.response(id, success, e.signer(), e.encrypt(e.sign(e.assertion(id), e.evilSigner()))), relay), id
		}, sp.ErrSignature, xmlsec.ErrUntrustedKey},
		{"fail/response-by-untrusted-key", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			return e.post(e.response(id, success, e.evilSigner(), e.encrypt(e.sign(e.assertion(id), e.signer()))), relay), id
		}, sp.ErrSignature, xmlsec.ErrUntrustedKey},
		{"fail/sha1-assertion-signature", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			s := e.signer()
			s.SignatureMethod, s.DigestMethod, s.Policy = xmlsec.RSASHA1, xmlsec.DigestSHA1, xmlsec.Policy{AllowSHA1: true}
			return e.post(e.response(id, success, nil, e.encrypt(e.sign(e.assertion(id), s))), relay), id
		}, sp.ErrSignature, xmlsec.ErrAlgorithm},
		{"fail/tampered-after-signing", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			el := e.sign(e.assertion(id), e.signer())
			nid := el.FindElement(".//NameID")
			nid.SetText("p-someone-else")
			return e.post(e.response(id, success, nil, e.encrypt(el)), relay), id
		}, sp.ErrSignature, xmlsec.ErrDigest},
		{"fail/plain-assertion", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			return e.post(e.response(id, success, e.signer(), e.sign(e.assertion(id), e.signer())), relay), id
		}, sp.ErrUnencrypted, nil},
		{"fail/encrypted-for-another-key", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			w := e.encryptFor(e.sign(e.assertion(id), e.signer()), e.k.other.Cert)
			return e.post(e.response(id, success, e.signer(), w), relay), id
		}, sp.ErrDecrypt, xmlsec.ErrDecrypt},
		{"fail/two-assertions", plain, func(e *env, id string) (*binding.POSTMessage, string) {
			a := e.sign(e.assertion(id), e.signer())
			return e.post(e.response(id, success, e.signer(), a, e.encrypt(e.sign(e.assertion(id), e.signer()))), relay), id
		}, sp.ErrMalformed, nil},
		{"fail/schema-invalid", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			el := e.idpResponse(id, e.assertion(id))
			el.CreateAttr("Bogus", "1")
			return e.post(el, relay), id
		}, sp.ErrMalformed, xmlsec.ErrSchema},
		{"fail/an-authnrequest-at-the-acs", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			m := e.post(e.idpResponse(id, e.assertion(id)), relay)
			m.Param = binding.ParamRequest
			return m, id
		}, sp.ErrMalformed, nil},
		{"fail/unsigned-error-status", nil, func(e *env, id string) (*binding.POSTMessage, string) {
			return e.post(e.response(id, samlp.NewStatus(samlp.StatusResponder, samlp.StatusAuthnFailed), nil), relay), id
		}, sp.ErrSignature, nil},
		// Signature wrapping (SAML2.md §9.4): the verified element alone is
		// read, so moving the signed assertion and putting an evil one where
		// a reader looks fails at the signature, whichever way it is done.
		{"fail/xsw-evil-first-signed-in-extensions", plain, func(e *env, id string) (*binding.POSTMessage, string) {
			signed := e.sign(e.assertion(id), e.signer())
			evil := evilCopy(signed, "p-victim")
			r := e.response(id, success, nil, evil)
			ext := etree.NewElement("samlp:Extensions")
			holder := ext.CreateElement("x:Holder")
			holder.CreateAttr("xmlns:x", "urn:example:xsw")
			holder.AddChild(signed)
			r.InsertChildAt(r.SelectElement("Status").Index(), ext)
			return e.post(r, relay), id
		}, sp.ErrMalformed, xmlsec.ErrSchema}, // xs:ID is unique: the schema sees the duplicate first
		{"fail/xsw-signed-id-twice", plain, func(e *env, id string) (*binding.POSTMessage, string) {
			signed := e.sign(e.assertion(id), e.signer())
			r := e.response(id, success, nil, signed)
			ext := etree.NewElement("samlp:Extensions")
			decoy := ext.CreateElement("x:Decoy")
			decoy.CreateAttr("xmlns:x", "urn:example:xsw")
			decoy.CreateAttr("ID", signed.SelectAttrValue("ID", ""))
			r.InsertChildAt(r.SelectElement("Status").Index(), ext)
			return e.post(r, relay), id
		}, sp.ErrSignature, xmlsec.ErrDuplicateID},
		{"fail/xsw-signature-moved-to-evil", plain, func(e *env, id string) (*binding.POSTMessage, string) {
			evil := evilCopy(e.sign(e.assertion(id), e.signer()), "p-victim")
			return e.post(e.response(id, success, nil, evil), relay), id
		}, sp.ErrSignature, xmlsec.ErrDigest},
		{"fail/xsw-evil-wraps-signed", plain, func(e *env, id string) (*binding.POSTMessage, string) {
			signed := e.sign(e.assertion(id), e.signer())
			evil := evilCopy(signed, "p-victim")
			evil.CreateAttr("ID", "_evil")
			adv := etree.NewElement("saml:Advice")
			adv.AddChild(signed)
			evil.InsertChildAt(evil.SelectElement("AuthnStatement").Index(), adv)
			return e.post(e.response(id, success, nil, evil), relay), id
		}, sp.ErrSignature, xmlsec.ErrReference},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tweaks []func(*sp.Config)
			if tc.tweak != nil {
				tweaks = append(tweaks, tc.tweak)
			}
			e := newEnv(t, tweaks...)
			msg, reqID := tc.build(e, e.login(relay))
			l, err := e.sp.Consume(ctx, msg, reqID)
			if !errors.Is(err, tc.want) || tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Fatalf("Consume = %+v, %v; want %v (%v)", l, err, tc.want, tc.cause)
			}
			if l != nil {
				t.Fatalf("a login came with the error: %+v", l)
			}
		})
	}
}

// evilCopy is a copy of a signed assertion, signature and ID included,
// that names someone else: what a wrapping attack puts where the SP reads.
func evilCopy(signed *etree.Element, nameID string) *etree.Element {
	evil := xmlsec.DetachCopy(signed)
	evil.FindElement(".//NameID").SetText(nameID)
	return evil
}

// TestConsumeCommentInNameID: a comment slipped into the signed NameID
// (exclusive c14n without comments leaves the digest unchanged) does not
// cut the value: the SP reads the whole verified text, not the part
// before the comment (SAML2.md §9.4 item 4).
func TestConsumeCommentInNameID(t *testing.T) {
	e := newEnv(t, func(c *sp.Config) { c.AllowPlainAssertions = true })
	id := e.login(relay)
	a := e.assertion(id)
	a.Subject.NameID.Value = "p-victim.attacker"
	el := e.sign(a, e.signer())
	nid := el.FindElement(".//NameID")
	nid.SetText("p-victim")
	nid.AddChild(etree.NewComment("cut here"))
	nid.CreateText(".attacker")
	b, err := xmlsec.Serialize(e.response(id, success, nil, el))
	e.must(err)
	if !strings.Contains(string(b), "p-victim<!--cut here-->.attacker") {
		t.Fatalf("the comment is not inside the NameID as sent:\n%s", b)
	}
	l, err := e.sp.Consume(ctx, e.postBytes(b, relay), id)
	if err != nil {
		t.Fatal(err)
	}
	if l.NameID.Value != "p-victim.attacker" {
		t.Fatalf("NameID read as %q, the signed value is p-victim.attacker", l.NameID.Value)
	}
}

// TestConsumeReplay: a Response consumed once cannot be consumed again (its
// request is taken), and an assertion ID accepted once is refused in a
// second Response to a second request, re-signed by the IdP's key.
func TestConsumeReplay(t *testing.T) {
	e := newEnv(t)
	first := e.login(relay)
	a := e.assertion(first)
	msg := e.post(e.idpResponse(first, a), relay)
	if _, err := e.sp.Consume(ctx, msg, first); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sp.Consume(ctx, msg, first); !errors.Is(err, sp.ErrUnknownRequest) {
		t.Fatalf("the same Response again: %v, want ErrUnknownRequest", err)
	}
	second := e.login(relay)
	a.Subject.Confirmations[0].Data.InResponseTo = second
	e.now = e.now.Add(time.Minute)
	if _, err := e.sp.Consume(ctx, e.post(e.idpResponse(second, a), relay), second); !errors.Is(err, sp.ErrReplay) {
		t.Fatalf("the assertion ID again, for another request: %v, want ErrReplay", err)
	}
	third := e.login(relay)
	if _, err := e.sp.Consume(ctx, e.post(e.idpResponse(third, e.assertion(third)), relay), third); err != nil {
		t.Fatalf("a fresh assertion after a replay: %v", err)
	}
}

// TestConsumeStatus: an error status of the IdP, in a signed Response,
// comes back as a *StatusError with the codes and message the portal
// shows, and answers (uses up) the request.
func TestConsumeStatus(t *testing.T) {
	e := newEnv(t)
	id := e.login(relay)
	st := samlp.NewStatus(samlp.StatusResponder, samlp.StatusAuthnFailed)
	st.Message = "the card was refused"
	msg := e.post(e.response(id, st, e.signer()), relay)
	_, err := e.sp.Consume(ctx, msg, id)
	var se *sp.StatusError
	if !errors.As(err, &se) || !errors.Is(err, sp.ErrStatus) || sp.KindOf(err) != sp.KindStatus {
		t.Fatalf("Consume = %v, want a *StatusError", err)
	}
	if se.Status.Code.Value != samlp.StatusResponder || se.Status.Second() != samlp.StatusAuthnFailed || se.Status.Message != st.Message {
		t.Fatalf("status %+v, want Responder/AuthnFailed with the IdP's message", se.Status)
	}
	if _, err := e.sp.Consume(ctx, msg, id); !errors.Is(err, sp.ErrUnknownRequest) {
		t.Fatalf("the answered request again: %v, want ErrUnknownRequest", err)
	}
}
