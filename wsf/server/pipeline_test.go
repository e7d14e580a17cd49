package server

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
)

func TestClientTLSSAMLV2Accepted(t *testing.T) {
	f := newFixture(t, wsf.Strict)
	k := wsftest.Keys(t)
	body := f.request(req{mech: wsf.ClientTLSSAMLV2, token: f.hokToken(wsftest.TokenSpec{})})
	if err := schema(t).Validate(body); err != nil {
		t.Fatalf("request not schema-valid: %v", err)
	}
	m := f.wantOK(f.receive(body, k.WSC.Cert))
	if m.Invocation.Mechanism != wsf.ClientTLSSAMLV2 || m.Sender.EntityID != wsftest.WSCID {
		t.Fatalf("ok/signed-hok: invocation %+v", m.Invocation)
	}
	if s := m.Invocation.Token.Subject; s.Value != "pairwise-alice" || s.SPProvidedID != "patient:0042" {
		t.Fatalf("subject %+v", s)
	}
	if m.Header.MessageID == "" || m.Header.Action != action || m.Header.To != endpoint || !wsf.IsAnonymous(m.Header.ReplyTo.Address) {
		t.Fatalf("header %+v", m.Header)
	}
	if m.Payload.Tag != "Query" || m.Payload.Parent() == nil || m.Payload.Parent().Parent() != nil {
		t.Fatalf("payload is not the verified standalone copy: %v", m.Payload.Tag)
	}
}

// TestNegative runs the refusals of the acceptance list: each answers the
// spec's fault and status, and leaves nothing stored and nothing served.
func TestNegative(t *testing.T) {
	k := wsftest.Keys(t)
	other := wsftest.TokenSpec{Audience: wsftest.OtherID}
	for _, tc := range []struct {
		name   string
		r      func(f *fixture) req
		client *x509.Certificate
		fault  wsf.FaultCode
		code   wsf.Code
		opts   []func(*Config)
	}{
		{"fail/missing-framework", func(f *fixture) req {
			return hok(f, func(e *wsf.Envelope) { e.Header.RemoveChild(e.Header.SelectElement("sbf:Framework")) })
		}, k.WSC.Cert, wsf.FaultClient, wsf.FrameworkVersionMismatch, nil},
		{"fail/framework-version-1.1", func(f *fixture) req {
			r := hok(f, nil)
			r.header = func(h *wsf.Header) { h.Framework.Version = "1.1" }
			return r
		}, k.WSC.Cert, wsf.FaultClient, wsf.FrameworkVersionMismatch, nil},
		{"fail/unsigned", func(f *fixture) req {
			return req{mech: wsf.ClientTLSPeerSAMLV2, token: f.hokToken(wsftest.TokenSpec{})}
		}, k.WSC.Cert, wsf.FaultInvalidSecurity, wsf.InappropriateCredentials, onlyClientTLSSAMLV2},
		{"fail/expired-timestamp", func(f *fixture) req {
			r := hok(f, nil)
			r.created = f.now.Add(-10 * time.Minute)
			return r
		}, k.WSC.Cert, wsf.FaultClient, wsf.StaleMsg, nil},
		{"fail/timestamp-in-the-future", func(f *fixture) req {
			r := hok(f, nil)
			r.created = f.now.Add(10 * time.Minute)
			return r
		}, k.WSC.Cert, wsf.FaultClient, wsf.StaleMsg, nil},
		{"fail/token-for-another-audience", func(f *fixture) req {
			return req{mech: wsf.ClientTLSSAMLV2, token: f.hokToken(other)}
		}, k.WSC.Cert, wsf.FaultInvalidSecurityToken, wsf.InappropriateCredentials, nil},
		{"fail/expired-token", func(f *fixture) req {
			return req{mech: wsf.ClientTLSSAMLV2, token: f.hokToken(wsftest.TokenSpec{NotBefore: f.now.Add(-2 * time.Hour), NotOnOrAfter: f.now.Add(-time.Hour)})}
		}, k.WSC.Cert, wsf.FaultInvalidSecurityToken, wsf.InappropriateCredentials, nil},
		{"fail/hok-token-over-tls-with-another-key", func(f *fixture) req { return hok(f, nil) },
			k.Other.Cert, wsf.FaultInvalidSecurityToken, wsf.InappropriateCredentials, nil},
		{"fail/hok-token-over-tls-with-unknown-key", func(f *fixture) req { return hok(f, nil) },
			k.Rogue.Cert, wsf.FaultInvalidSecurityToken, wsf.InappropriateCredentials, nil},
		{"fail/unknown-must-understand-header", func(f *fixture) req {
			return hok(f, func(e *wsf.Envelope) {
				x := e.Header.CreateElement("x:Ext")
				x.CreateAttr("xmlns:x", "urn:renkei:test:ext")
				x.CreateAttr("S:mustUnderstand", "1")
			})
		}, k.WSC.Cert, wsf.FaultMustUnderstand, wsf.CodeMustUnderstand, nil},
		{"fail/oversized-body", func(f *fixture) req {
			r := hok(f, nil)
			r.payload = queryPayload()
			r.payload.CreateElement("dstref:Pad").SetText(strings.Repeat("x", 64<<10))
			return r
		}, k.WSC.Cert, wsf.FaultClient, wsf.IDStarMsgNotUnderstood, []func(*Config){func(c *Config) { c.Limits.MaxBytes = 32 << 10 }}},
		{"fail/unknown-sender", func(f *fixture) req {
			r := hok(f, nil)
			r.header = func(h *wsf.Header) { h.Sender.ProviderID = "https://rogue.example.org/" }
			return r
		}, k.WSC.Cert, wsf.FaultClient, wsf.ProviderIDNotValid, nil},
		{"fail/affiliation-not-in-metadata", func(f *fixture) req {
			r := hok(f, nil)
			r.header = func(h *wsf.Header) { h.Sender.AffiliationID = "https://aff.example.org/" }
			return r
		}, k.WSC.Cert, wsf.FaultClient, wsf.AffiliationIDNotValid, nil},
		{"fail/signed-by-a-key-not-the-senders", func(f *fixture) req {
			r := hok(f, nil)
			r.signer = k.Rogue
			return r
		}, k.WSC.Cert, wsf.FaultFailedCheck, wsf.InappropriateCredentials, nil},
		{"fail/token-from-untrusted-issuer", func(f *fixture) req {
			return req{mech: wsf.ClientTLSSAMLV2, token: f.hokToken(wsftest.TokenSpec{Issuer: wsftest.OtherID, SignWith: k.Other})}
		}, k.WSC.Cert, wsf.FaultInvalidSecurityToken, wsf.InappropriateCredentials, nil},
		{"fail/token-signed-by-unknown-key", func(f *fixture) req {
			return req{mech: wsf.ClientTLSSAMLV2, token: f.hokToken(wsftest.TokenSpec{SignWith: k.Rogue})}
		}, k.WSC.Cert, wsf.FaultFailedAuthentication, wsf.InappropriateCredentials, nil},
		{"fail/wsa-to-another-endpoint", func(f *fixture) req {
			r := hok(f, nil)
			r.header = func(h *wsf.Header) { h.To = "https://evil.example.org/" }
			return r
		}, k.WSC.Cert, wsf.FaultClient, wsf.IDStarMsgNotUnderstood, nil},
		{"fail/unknown-action", func(f *fixture) req {
			r := hok(f, nil)
			r.header = func(h *wsf.Header) { h.Action = "urn:renkei:svc:none:Query" }
			return r
		}, k.WSC.Cert, wsf.FaultClient, wsf.IDStarMsgNotUnderstood, nil},
		{"fail/processing-context-unknown", func(f *fixture) req {
			r := hok(f, nil)
			r.header = func(h *wsf.Header) { h.ProcessingContext = "urn:renkei:test:unknown-context" }
			return r
		}, k.WSC.Cert, wsf.FaultServer, wsf.ProcCtxURINotUnderstood, nil},
		{"fail/simulate-not-supported", func(f *fixture) req {
			r := hok(f, nil)
			r.header = func(h *wsf.Header) { h.ProcessingContext = wsf.ProcessingContextSimulate }
			return r
		}, k.WSC.Cert, wsf.FaultServer, wsf.ProcCtxUnwilling, nil},
		{"fail/bearer-not-enabled-for-peer", func(f *fixture) req {
			return req{mech: wsf.TLSBearer, token: f.hokToken(wsftest.TokenSpec{Method: saml.CMBearer})}
		}, nil, wsf.FaultClient, wsf.InappropriateCredentials, nil},
		{"fail/mechanism-not-accepted", func(f *fixture) req { return hok(f, nil) },
			nil, wsf.FaultClient, wsf.InappropriateCredentials, onlyClientTLSSAMLV2},
		{"fail/x509-without-client-certificate", func(f *fixture) req { return req{mech: wsf.ClientTLSX509} },
			nil, wsf.FaultClient, wsf.InappropriateCredentials, nil},
		{"fail/target-identity-expired", func(f *fixture) req {
			r := hok(f, nil)
			ti := f.hokToken(wsftest.TokenSpec{ID: "_target", Method: saml.CMBearer, NotBefore: f.now.Add(-2 * time.Hour), NotOnOrAfter: f.now.Add(-time.Hour)})
			r.header = func(h *wsf.Header) { h.TargetIdentity = &wsf.TargetIdentity{Token: ti} }
			return r
		}, k.WSC.Cert, wsf.FaultClient, wsf.TargetIdentityNotValid, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, wsf.Strict, tc.opts...)
			f.wantFault(f.receive(f.request(tc.r(f)), tc.client), tc.fault, tc.code)
		})
	}
}

var onlyClientTLSSAMLV2 = []func(*Config){func(c *Config) { c.Mechanisms = []wsf.Mechanism{wsf.ClientTLSSAMLV2} }}

// hok is a ClientTLS:SAMLV2 request with a fresh token.
func hok(f *fixture, env func(*wsf.Envelope)) req {
	return req{mech: wsf.ClientTLSSAMLV2, token: f.hokToken(wsftest.TokenSpec{}), env: env}
}

func TestNotOverTLS(t *testing.T) {
	f := newFixture(t, wsf.Strict)
	resp := f.rcv.Receive(context.Background(), Request{Body: f.request(hok(f, nil))})
	f.wantFault(resp, wsf.FaultClient, wsf.InappropriateCredentials)
}

func TestMechanismsAccepted(t *testing.T) {
	k := wsftest.Keys(t)
	for _, tc := range []struct {
		name   string
		r      func(f *fixture) req
		client *x509.Certificate
		want   wsf.Mechanism
	}{
		{"ok/tls-samlv2-without-client-certificate", func(f *fixture) req {
			return req{mech: wsf.TLSSAMLV2, token: f.hokToken(wsftest.TokenSpec{})}
		}, nil, wsf.TLSSAMLV2},
		{"ok/peer-samlv2-proved-by-tls", func(f *fixture) req {
			return req{mech: wsf.ClientTLSPeerSAMLV2, token: f.hokToken(wsftest.TokenSpec{})}
		}, k.WSC.Cert, wsf.ClientTLSPeerSAMLV2},
		{"ok/client-tls-x509-provider-call", func(f *fixture) req { return req{mech: wsf.ClientTLSX509} },
			k.WSC.Cert, wsf.ClientTLSX509},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, wsf.Strict)
			m := f.wantOK(f.receive(f.request(tc.r(f)), tc.client))
			if m.Invocation.Mechanism != tc.want {
				t.Fatalf("mechanism %s, want %s", m.Invocation.Mechanism, tc.want)
			}
		})
	}
	t.Run("fail/peer-samlv2-over-another-tls-key", func(t *testing.T) {
		f := newFixture(t, wsf.Strict)
		r := req{mech: wsf.ClientTLSPeerSAMLV2, token: f.hokToken(wsftest.TokenSpec{})}
		// Another provider's client key proves nothing for this sender, so
		// the missing signature is what is refused.
		f.wantFault(f.receive(f.request(r), k.Other.Cert), wsf.FaultInvalidSecurity, wsf.InappropriateCredentials)
	})
}

func TestEncryptedIDSubject(t *testing.T) {
	f := newFixture(t, wsf.Strict)
	k := wsftest.Keys(t)
	r := req{mech: wsf.ClientTLSSAMLV2, token: f.hokToken(wsftest.TokenSpec{EncryptFor: k.WSP.Cert})}
	m := f.wantOK(f.receive(f.request(r), k.WSC.Cert))
	if s := m.Invocation.Token.Subject; s == nil || s.Value != "pairwise-alice" || s.SPProvidedID != "patient:0042" {
		t.Fatalf("ok/encrypted-id-decrypted: %+v", s)
	}
	f2 := newFixture(t, wsf.Strict)
	r = req{mech: wsf.ClientTLSSAMLV2, token: f2.hokToken(wsftest.TokenSpec{EncryptFor: k.Other.Cert})}
	f2.wantFault(f2.receive(f2.request(r), k.WSC.Cert), wsf.FaultFailedCheck, wsf.InappropriateCredentials)
}

func TestTargetIdentityAccepted(t *testing.T) {
	f := newFixture(t, wsf.Strict)
	k := wsftest.Keys(t)
	r := hok(f, nil)
	ti := f.hokToken(wsftest.TokenSpec{ID: "_target", Method: saml.CMBearer})
	r.header = func(h *wsf.Header) { h.TargetIdentity = &wsf.TargetIdentity{Token: ti} }
	m := f.wantOK(f.receive(f.request(r), k.WSC.Cert))
	if m.Invocation.Target == nil || m.Invocation.Target.Assertion.ID != "_target" {
		t.Fatalf("ok/target-identity: %+v", m.Invocation.Target)
	}
}
