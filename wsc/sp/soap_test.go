package sp_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// The IdP's SOAP endpoints and the terminal's PAOS consumer.
const (
	idpECP     = "https://idp.renkei.test/ecp"
	idpSLOSOAP = "https://idp.renkei.test/slo/soap"
	idpNIM     = "https://idp.renkei.test/nim"
	ecpURL     = "https://desk.renkei.test/ecp"
)

// ecpEnv is an SP that is its own enhanced client (the reception
// terminal): the PAOS consumer alone, no browser endpoints.
func ecpEnv(t testing.TB) *env {
	return newEnv(t, func(c *sp.Config) { c.ACSURL, c.SLOURL, c.SOAPSLOURL, c.ECPACSURL = "", "", "", ecpURL })
}

// ecpAssertion is what the IdP asserts for an ECP request: the bearer
// confirmation's Recipient is the PAOS consumer.
func (e *env) ecpAssertion(requestID string) *saml.Assertion {
	a := e.assertion(requestID)
	a.Subject.Confirmations[0].Data.Recipient = ecpURL
	return a
}

// ecpAnswer is the IdP's SOAP answer: the ecp:Response header naming
// acs ("" for none), and the signed Response for dest carrying the
// assertion, signed and encrypted.
func (e *env) ecpAnswer(requestID, acs, dest string, a *saml.Assertion) []byte {
	id, err := saml.NewID(nil)
	e.must(err)
	r := &samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: id, InResponseTo: requestID,
		IssueInstant: e.now, Destination: dest, Issuer: &saml.Issuer{Value: idpID}, Status: success},
		Assertions: []*etree.Element{e.encrypt(e.sign(a, e.signer()))}}
	el, err := samlp.Sign(r, e.signer())
	e.must(err)
	env := &binding.Envelope{Body: el}
	if acs != "" {
		env.Header = []*etree.Element{(&binding.ECPResponse{AssertionConsumerServiceURL: acs}).Element()}
	}
	b, err := xmlsec.Serialize(env.Element())
	e.must(err)
	return b
}

// soapAnswer is m signed by s (nil: unsigned) in an envelope.
func (e *env) soapAnswer(m samlp.Message, s *dsig.Signer) []byte {
	el := m.Element()
	if s != nil {
		var err error
		el, err = samlp.Sign(m, s)
		e.must(err)
	}
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	e.must(err)
	return b
}

// TestECP: the terminal's own ECP exchange (SAML Profiles §4.2): the
// signed AuthnRequest for the IdP's SOAP single sign-on service, then
// the answer checked as the enhanced client and then the SP must.
func TestECP(t *testing.T) {
	e := ecpEnv(t)
	start := func(t *testing.T) *sp.SOAPRequest {
		t.Helper()
		r, err := e.sp.StartECP(ctx)
		e.must(err)
		return r
	}
	t.Run("ok/request-the-idp-accepts", func(t *testing.T) {
		r := start(t)
		env, err := (&binding.SOAPDecoder{}).Decode(bytes.NewReader(r.Envelope))
		e.must(err)
		e.must(e.schema.ValidateElement(env.Body))
		req, _, err := samlp.VerifyAuthnRequest(env.Body, &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{e.k.spSign.Cert})})
		e.must(err)
		if r.URL != idpECP || req.Destination != idpECP || req.ProtocolBinding != samlp.BindingPAOS ||
			req.AssertionConsumerServiceURL != ecpURL || req.ID != r.ID || req.Issuer.Value != spID {
			t.Fatalf("request %+v to %s", req, r.URL)
		}
	})
	t.Run("ok/login", func(t *testing.T) {
		r := start(t)
		l, err := e.sp.ConsumeECP(ctx, bytes.NewReader(e.ecpAnswer(r.ID, ecpURL, ecpURL, e.ecpAssertion(r.ID))), r.ID)
		e.must(err)
		if l.NameID.Value != pseudo || l.Bootstrap == nil || l.SessionIndex != spSessIx {
			t.Fatalf("login %+v", l)
		}
		t.Run("fail/replayed", func(t *testing.T) {
			_, err := e.sp.ConsumeECP(ctx, bytes.NewReader(e.ecpAnswer(r.ID, ecpURL, ecpURL, e.ecpAssertion(r.ID))), r.ID)
			if !errors.Is(err, sp.ErrUnknownRequest) {
				t.Fatalf("an answer to a request taken already: %v", err)
			}
		})
	})
	for _, c := range []struct {
		name      string
		acs, dest string
		recipient string
		want      error
	}{
		{"fail/ecp-header-names-another-consumer", "https://evil.example/acs", ecpURL, ecpURL, sp.ErrDestination},
		{"fail/no-ecp-header", "", ecpURL, ecpURL, sp.ErrMalformed},
		{"fail/response-for-the-browser-acs", ecpURL, acsURL, ecpURL, sp.ErrDestination},
		{"fail/bearer-for-the-browser-acs", ecpURL, ecpURL, acsURL, sp.ErrConfirmation},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := start(t)
			a := e.ecpAssertion(r.ID)
			a.Subject.Confirmations[0].Data.Recipient = c.recipient
			_, err := e.sp.ConsumeECP(ctx, bytes.NewReader(e.ecpAnswer(r.ID, c.acs, c.dest, a)), r.ID)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("fail/soap-fault", func(t *testing.T) {
		r := start(t)
		b, err := xmlsec.Serialize((&binding.Envelope{Body: (&binding.Fault{Code: binding.FaultClient, String: "no"}).Element()}).Element())
		e.must(err)
		var f *binding.Fault
		if _, err := e.sp.ConsumeECP(ctx, bytes.NewReader(b), r.ID); !errors.Is(err, sp.ErrMalformed) || !errors.As(err, &f) {
			t.Fatalf("a SOAP fault: %v", err)
		}
	})
	t.Run("fail/oversized", func(t *testing.T) {
		r := start(t)
		b := e.ecpAnswer(r.ID, ecpURL, ecpURL, e.ecpAssertion(r.ID))
		b = append(b[:len(b)-1], []byte(strings.Repeat(" ", 300<<10)+">")...)
		if _, err := e.sp.ConsumeECP(ctx, bytes.NewReader(b), r.ID); !errors.Is(err, sp.ErrMalformed) {
			t.Fatalf("an oversized answer: %v", err)
		}
	})
	t.Run("fail/no-consumer-configured", func(t *testing.T) {
		if _, err := newEnv(t).sp.StartECP(ctx); err == nil {
			t.Fatal("an SP without ECPACSURL started an ECP login")
		}
	})
}

// TestLogoutSOAP: the terminal's back-channel logout at the card's
// removal, and the checks of the IdP's answer.
func TestLogoutSOAP(t *testing.T) {
	e := ecpEnv(t)
	start := func(t *testing.T) *sp.SOAPRequest {
		t.Helper()
		r, err := e.sp.StartLogoutSOAP(ctx, session())
		e.must(err)
		return r
	}
	answer := func(id string) *samlp.LogoutResponse {
		r := e.logoutResponse(id, success)
		r.Destination = ""
		return r
	}
	t.Run("ok", func(t *testing.T) {
		r := start(t)
		env, err := (&binding.SOAPDecoder{}).Decode(bytes.NewReader(r.Envelope))
		e.must(err)
		req, _, err := samlp.VerifyLogoutRequest(env.Body, &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{e.k.spSign.Cert})})
		e.must(err)
		if r.URL != idpSLOSOAP || req.NameID.Value != pseudo || len(req.SessionIndexes) != 1 || req.SessionIndexes[0] != spSessIx {
			t.Fatalf("request %+v to %s", req, r.URL)
		}
		res, err := e.sp.ConsumeLogoutSOAP(ctx, bytes.NewReader(e.soapAnswer(answer(r.ID), e.signer())), r.ID)
		if err != nil || !res.Success() {
			t.Fatalf("%+v %v", res, err)
		}
	})
	for _, c := range []struct {
		name   string
		signer func() *dsig.Signer
		to     func(id string) string
		want   error
	}{
		{"fail/unsigned", func() *dsig.Signer { return nil }, func(id string) string { return id }, sp.ErrSignature},
		{"fail/signed-by-another-key", e.evilSigner, func(id string) string { return id }, sp.ErrSignature},
		{"fail/answers-another-request", e.signer, func(string) string { return "_other" }, sp.ErrUnknownRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := start(t)
			_, err := e.sp.ConsumeLogoutSOAP(ctx, bytes.NewReader(e.soapAnswer(answer(c.to(r.ID)), c.signer())), r.ID)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestNewID: the enrolment's ManageNameIDRequest and the IdP's answers.
func TestNewID(t *testing.T) {
	e := ecpEnv(t)
	answer := func(id string, st samlp.Status) *samlp.ManageNameIDResponse {
		return &samlp.ManageNameIDResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_nim-" + id, InResponseTo: id,
			IssueInstant: e.now, Issuer: &saml.Issuer{Value: idpID}, Status: st}}
	}
	r, err := e.sp.StartNewID(ctx, session(), "A-000123")
	e.must(err)
	env, err := (&binding.SOAPDecoder{}).Decode(bytes.NewReader(r.Envelope))
	e.must(err)
	req, _, err := samlp.VerifyManageNameIDRequest(env.Body, &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{e.k.spSign.Cert})})
	e.must(err)
	if r.URL != idpNIM || req.NewID != "A-000123" || req.NameID.Value != pseudo {
		t.Fatalf("request %+v to %s", req, r.URL)
	}
	e.must(e.sp.ConsumeNewID(ctx, bytes.NewReader(e.soapAnswer(answer(r.ID, success), e.signer())), r.ID))

	r, err = e.sp.StartNewID(ctx, session(), "A-000124")
	e.must(err)
	err = e.sp.ConsumeNewID(ctx, bytes.NewReader(e.soapAnswer(answer(r.ID, samlp.NewStatus(samlp.StatusRequester, samlp.StatusRequestDenied)), e.signer())), r.ID)
	var st *sp.StatusError
	if !errors.As(err, &st) || st.Status.Second() != samlp.StatusRequestDenied {
		t.Fatalf("a refusal: %v", err)
	}
	if _, err := e.sp.StartNewID(ctx, session(), ""); err == nil {
		t.Fatal("an empty NewID was sent")
	}
}
