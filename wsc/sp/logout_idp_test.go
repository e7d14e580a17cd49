package sp_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// TestReceiveLogoutRequest: the IdP's front-channel LogoutRequest gives
// the sessions to end and is answered with a LogoutResponse the IdP can
// verify, to its SLO endpoint, with its RelayState; a replayed, expired,
// misdirected or foreign one is refused, and an authenticated request that
// fails a check is still answered, with an error status.
func TestReceiveLogoutRequest(t *testing.T) {
	t.Run("ok/answered", func(t *testing.T) {
		e := newEnv(t)
		q := redirectQuery(t, e.idpLogoutRequest("_slo1", sloURL).Element(), "chain-handle", e.k.idp.Key, "")
		if sp.IsLogoutResponse(q) {
			t.Fatal("IsLogoutResponse takes a request for a response")
		}
		l, err := e.sp.ReceiveLogoutRequest(ctx, q)
		e.must(err)
		if *l.NameID != *session().NameID || len(l.SessionIndexes) != 1 || l.SessionIndexes[0] != spSessIx ||
			l.RequestID != "_slo1" || l.RelayState != "chain-handle" || l.Binding != samlp.BindingHTTPRedirect {
			t.Fatalf("IdPLogout %+v", l)
		}
		u, err := e.sp.LogoutResponseURL(l, sp.LogoutStatus(nil))
		e.must(err)
		m, el := e.readRedirect(u, idpSLO)
		resp, err := samlp.DecodeLogoutResponse(el)
		e.must(err)
		if resp.InResponseTo != "_slo1" || resp.Destination != idpSLO || !resp.Status.Success() || m.RelayState != "chain-handle" ||
			resp.Issuer.Value != spID {
			t.Fatalf("LogoutResponse %+v, RelayState %q", resp.StatusResponseHeader, m.RelayState)
		}
		if _, err := e.sp.ReceiveLogoutRequest(ctx, q); !errors.Is(err, sp.ErrReplay) {
			t.Fatalf("the same LogoutRequest again: %v, want ErrReplay", err)
		}
	})
	for _, tc := range []struct {
		name       string
		query      func(e *env) string
		want       error
		cause      error
		answerable bool
		status     string // second-level status of the answer
	}{
		{"fail/unsigned", func(e *env) string {
			return redirectQuery(t, e.idpLogoutRequest("_u", sloURL).Element(), "", nil, "")
		}, sp.ErrSignature, xmlsec.ErrNoSignature, false, ""},
		{"fail/untrusted-key", func(e *env) string {
			return redirectQuery(t, e.idpLogoutRequest("_u", sloURL).Element(), "", e.k.evil.Key, "")
		}, sp.ErrSignature, nil, false, ""},
		{"fail/expired", func(e *env) string {
			r := e.idpLogoutRequest("_u", sloURL)
			r.IssueInstant, r.NotOnOrAfter = e.now.Add(-10*time.Minute), e.now.Add(-5*time.Minute)
			return redirectQuery(t, r.Element(), "", e.k.idp.Key, "")
		}, sp.ErrExpired, nil, true, samlp.StatusRequestDenied},
		{"fail/from-the-future", func(e *env) string {
			r := e.idpLogoutRequest("_u", sloURL)
			r.IssueInstant = e.now.Add(time.Hour)
			return redirectQuery(t, r.Element(), "", e.k.idp.Key, "")
		}, sp.ErrNotYetValid, nil, true, samlp.StatusRequestDenied},
		{"fail/wrong-destination", func(e *env) string {
			return redirectQuery(t, e.idpLogoutRequest("_u", "https://other-sp.test/slo").Element(), "", e.k.idp.Key, "")
		}, sp.ErrDestination, nil, true, samlp.StatusRequestDenied},
		{"fail/no-destination", func(e *env) string {
			return redirectQuery(t, e.idpLogoutRequest("_u", "").Element(), "", e.k.idp.Key, "")
		}, sp.ErrDestination, nil, true, samlp.StatusRequestDenied},
		{"fail/nameid-of-another-sp", func(e *env) string {
			r := e.idpLogoutRequest("_u", sloURL)
			r.NameID.SPNameQualifier = "https://other-sp.test"
			return redirectQuery(t, r.Element(), "", e.k.idp.Key, "")
		}, sp.ErrSubject, nil, true, samlp.StatusUnknownPrincipal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			l, err := e.sp.ReceiveLogoutRequest(ctx, tc.query(e))
			if !errors.Is(err, tc.want) || tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Fatalf("ReceiveLogoutRequest = %+v, %v; want %v (%v)", l, err, tc.want, tc.cause)
			}
			if (l != nil) != tc.answerable {
				t.Fatalf("IdPLogout %+v: answerable %v, want %v", l, l != nil, tc.answerable)
			}
			if !tc.answerable {
				return
			}
			if l.NameID != nil {
				t.Fatalf("a refused request names %+v as the subject to log out", l.NameID)
			}
			st := sp.LogoutStatus(err)
			u, err := e.sp.LogoutResponseURL(l, st)
			e.must(err)
			_, el := e.readRedirect(u, idpSLO)
			resp, err := samlp.DecodeLogoutResponse(el)
			e.must(err)
			if resp.Status.Code.Value != samlp.StatusRequester || resp.Status.Second() != tc.status {
				t.Fatalf("answered %s/%s, want Requester/%s", resp.Status.Code.Value, resp.Status.Second(), tc.status)
			}
		})
	}
}

// soapRequest is the IdP's back-channel LogoutRequest in its envelope.
func (e *env) soapRequest(req *samlp.LogoutRequest, s *dsig.Signer, header ...*etree.Element) []byte {
	el := req.Element()
	if s != nil {
		var err error
		el, err = samlp.Sign(req, s)
		e.must(err)
	}
	b, err := xmlsec.Serialize((&binding.Envelope{Header: header, Body: el}).Element())
	e.must(err)
	return b
}

// readSOAPResponse checks the SP's answer as the IdP does: a LogoutResponse
// signed with the SP's metadata key, schema-valid.
func (e *env) readSOAPResponse(b []byte) *samlp.LogoutResponse {
	e.t.Helper()
	env, err := (&binding.SOAPDecoder{Understood: []string{}}).Decode(bytes.NewReader(b))
	e.must(err)
	e.must(e.schema.ValidateElement(env.Body))
	resp, _, err := samlp.VerifyLogoutResponse(env.Body, &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{e.k.spSign.Cert})})
	if err != nil {
		e.t.Fatalf("the SP's LogoutResponse does not verify with its metadata key: %v", err)
	}
	return resp
}

// TestReceiveLogoutSOAP: a signed back-channel LogoutRequest of the IdP
// reaches the portal's end function and is answered with a signed
// LogoutResponse; a failing end is Responder; a refused check is a
// Requester status; what cannot be authenticated gets a SOAP fault.
func TestReceiveLogoutSOAP(t *testing.T) {
	t.Run("ok/ended", func(t *testing.T) {
		e := newEnv(t)
		var ended []*sp.IdPLogout
		end := func(_ context.Context, l *sp.IdPLogout) error { ended = append(ended, l); return nil }
		reply, err := e.sp.ReceiveLogoutSOAP(ctx, bytes.NewReader(e.soapRequest(e.idpLogoutRequest("_b1", soapURL), e.signer())), end)
		e.must(err)
		if len(ended) != 1 || *ended[0].NameID != *session().NameID || ended[0].SessionIndexes[0] != spSessIx ||
			ended[0].Binding != samlp.BindingSOAP || reply.Logout != ended[0] || reply.Fault {
			t.Fatalf("ended %+v, reply %+v", ended, reply)
		}
		resp := e.readSOAPResponse(reply.Envelope)
		if resp.InResponseTo != "_b1" || !resp.Status.Success() || resp.Issuer.Value != spID {
			t.Fatalf("LogoutResponse %+v", resp.StatusResponseHeader)
		}
		reply, err = e.sp.ReceiveLogoutSOAP(ctx, bytes.NewReader(e.soapRequest(e.idpLogoutRequest("_b1", ""), e.signer())), end)
		if !errors.Is(err, sp.ErrReplay) || len(ended) != 1 || e.readSOAPResponse(reply.Envelope).Status.Second() != samlp.StatusRequestDenied {
			t.Fatalf("a replay: %v, %d sessions ended", err, len(ended))
		}
	})
	t.Run("fail/end-fails-responder", func(t *testing.T) {
		e := newEnv(t)
		reply, err := e.sp.ReceiveLogoutSOAP(ctx, bytes.NewReader(e.soapRequest(e.idpLogoutRequest("_b2", ""), e.signer())),
			func(context.Context, *sp.IdPLogout) error { return errors.New("session store down") })
		if !errors.Is(err, sp.ErrInternal) || reply == nil || reply.Logout != nil {
			t.Fatalf("reply %+v, %v", reply, err)
		}
		if st := e.readSOAPResponse(reply.Envelope).Status; st.Code.Value != samlp.StatusResponder {
			t.Fatalf("status %+v, want Responder", st)
		}
	})
	must := etree.NewElement("x:Trace")
	must.CreateAttr("xmlns:x", "urn:example:trace")
	must.CreateAttr("xmlns:S", binding.NSSOAP)
	must.CreateAttr("S:mustUnderstand", "1")
	for _, tc := range []struct {
		name  string
		body  func(e *env) []byte
		want  error
		fault string
	}{
		{"fail/unsigned", func(e *env) []byte { return e.soapRequest(e.idpLogoutRequest("_f", ""), nil) }, sp.ErrSignature, binding.FaultClient},
		{"fail/untrusted-key", func(e *env) []byte { return e.soapRequest(e.idpLogoutRequest("_f", ""), e.evilSigner()) }, sp.ErrSignature, binding.FaultClient},
		{"fail/must-understand", func(e *env) []byte {
			return e.soapRequest(e.idpLogoutRequest("_f", ""), e.signer(), must)
		}, sp.ErrMalformed, binding.FaultMustUnderstand},
		{"fail/not-xml", func(*env) []byte { return []byte("<S:Envelope") }, sp.ErrMalformed, binding.FaultClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			called := false
			reply, err := e.sp.ReceiveLogoutSOAP(ctx, bytes.NewReader(tc.body(e)),
				func(context.Context, *sp.IdPLogout) error { called = true; return nil })
			if !errors.Is(err, tc.want) || called || reply == nil || !reply.Fault {
				t.Fatalf("reply %+v, %v, end called %v; want a fault for %v", reply, err, called, tc.want)
			}
			_, derr := (&binding.SOAPDecoder{}).Decode(bytes.NewReader(reply.Envelope))
			var f *binding.Fault
			if !errors.As(derr, &f) || f.Code != tc.fault {
				t.Fatalf("the reply is %v, want a %s fault:\n%s", derr, tc.fault, reply.Envelope)
			}
		})
	}
}

// TestSOAPHandler: over HTTP, a back-channel answer is 200 with a SOAP
// body, a fault 500, and anything but POST is refused.
func TestSOAPHandler(t *testing.T) {
	e := newEnv(t)
	var logged []error
	h := e.sp.SOAPHandler(func(context.Context, *sp.IdPLogout) error { return nil }, func(err error) { logged = append(logged, err) })
	for _, tc := range []struct {
		name, method string
		body         []byte
		status       int
	}{
		{"ok/logout", http.MethodPost, e.soapRequest(e.idpLogoutRequest("_h1", ""), e.signer()), http.StatusOK},
		{"fail/unsigned-is-a-fault", http.MethodPost, e.soapRequest(e.idpLogoutRequest("_h2", ""), nil), http.StatusInternalServerError},
		{"fail/get", http.MethodGet, nil, http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, soapURL, bytes.NewReader(tc.body)))
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.status || tc.method == http.MethodPost && (rec.Header().Get("Content-Type") != binding.ContentTypeSOAP ||
				!strings.Contains(string(body), "Envelope")) {
				t.Fatalf("HTTP %d %s:\n%s", rec.Code, rec.Header().Get("Content-Type"), body)
			}
		})
	}
	if len(logged) != 1 || !errors.Is(logged[0], sp.ErrSignature) {
		t.Fatalf("logged %v, want the unsigned request's refusal only", logged)
	}
}
