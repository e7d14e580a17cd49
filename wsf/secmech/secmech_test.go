package secmech_test

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

var t0 = time.Date(2024, 5, 2, 10, 6, 0, 0, time.UTC)

const endpoint = "https://pp.example.org/idwsf/pp"

// msg describes a message the WSC sends to the WSP.
type msg struct {
	mech    wsf.Mechanism
	token   *etree.Element
	signer  *pki.Identity // nil: the WSC
	created time.Time     // zero: a second before t0
	client  *x509.Certificate
	profile wsf.Profile
	mechs   []wsf.Mechanism // accepted by the receiver; nil: all
	tamper  func(*wsf.Envelope)
}

func payload() *etree.Element {
	q := etree.NewElement("dstref:Query")
	q.CreateAttr("xmlns:dstref", "urn:liberty:dst:2006-08:ref")
	q.CreateElement("dstref:QueryItem").CreateElement("dstref:Select").SetText("/pp:PP")
	return q
}

// send secures the message as a WSC does and parses it as the receiver
// does, up to the Inbound secmech checks.
func send(t *testing.T, m msg) *secmech.Inbound {
	t.Helper()
	k := wsftest.Keys(t)
	h := &wsf.Header{Framework: wsf.Framework{Version: wsf.FrameworkVersion}, Sender: &wsf.Sender{ProviderID: wsftest.WSCID},
		MessageID: "urn:uuid:5d1c7e0a-3b9f-4e2d-a1c8-0f6b2e4d9a17", To: endpoint, Action: "urn:liberty:dst:2006-08:ref:Query"}
	signer := m.signer
	if signer == nil {
		signer = k.WSC
	}
	created := m.created
	if created.IsZero() {
		created = t0.Add(-time.Second)
	}
	b, err := secmech.Secure(wsf.NewEnvelope(h, payload()), &secmech.Credentials{Mechanism: m.mech, Token: m.token,
		Key: signer.Key, Certificate: signer.Cert}, created)
	if err != nil {
		t.Fatal(err)
	}
	env, err := wsf.ParseEnvelope(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.tamper != nil {
		m.tamper(env)
	}
	blocks, err := wsf.CheckMustUnderstand(env.Header)
	if err != nil {
		t.Fatal(err)
	}
	sender, _ := wsftest.Directory(t, m.profile).Peer(context.Background(), wsftest.WSCID)
	mechs := m.mechs
	if mechs == nil {
		mechs = wsf.Mechanisms()
	}
	return &secmech.Inbound{Envelope: env, Blocks: blocks, Sender: sender, TLS: true, ClientCert: m.client, Mechanisms: mechs}
}

func checker(t *testing.T) *secmech.Checker {
	return &secmech.Checker{MaxAge: 5 * time.Minute, Tokens: secmech.TokenChecker{Self: wsftest.WSPID,
		Directory: wsftest.Directory(t, wsf.Strict), Decrypter: wsftest.Decrypter(t), Skew: time.Minute}}
}

// verify runs both receiver steps of this package on the message.
func verify(t *testing.T, m msg) (*secmech.Protected, *secmech.Invocation, error) {
	t.Helper()
	c, in := checker(t), send(t, m)
	p, err := c.VerifyMessage(in, t0)
	if err != nil {
		return p, nil, err
	}
	inv, err := c.VerifyToken(context.Background(), in, p, t0)
	return p, inv, err
}

func hokToken(t *testing.T) *etree.Element {
	return wsftest.Token(t, t0.Add(-time.Minute), wsftest.TokenSpec{})
}

func bearerToken(t *testing.T) *etree.Element {
	return wsftest.Token(t, t0.Add(-time.Minute), wsftest.TokenSpec{Method: saml.CMBearer})
}

// TestMechanismDecided: the mechanism comes from how the token is
// confirmed and what the transport proved, never from what the sender
// claims (IDWSF2 §3.4 item 7).
func TestMechanismDecided(t *testing.T) {
	k := wsftest.Keys(t)
	bearerOK := wsf.Profile{AllowBearer: true}
	for _, tc := range []struct {
		name string
		m    func() msg
		want wsf.Mechanism
	}{
		{"ok/client-tls-samlv2", func() msg { return msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), client: k.WSC.Cert} }, wsf.ClientTLSSAMLV2},
		{"ok/tls-samlv2-without-client-certificate", func() msg { return msg{mech: wsf.TLSSAMLV2, token: hokToken(t)} }, wsf.TLSSAMLV2},
		{"ok/peer-samlv2-proved-by-senders-tls-key", func() msg {
			return msg{mech: wsf.ClientTLSPeerSAMLV2, token: hokToken(t), client: k.WSC.Cert}
		}, wsf.ClientTLSPeerSAMLV2},
		{"ok/x509-provider-call", func() msg { return msg{mech: wsf.ClientTLSX509, client: k.WSC.Cert} }, wsf.ClientTLSX509},
		{"ok/signed-bearer", func() msg {
			return msg{mech: wsf.TLSBearer, token: bearerToken(t), profile: bearerOK}
		}, wsf.TLSBearer},
		{"ok/unsigned-bearer-opted-in", func() msg {
			return msg{mech: wsf.ClientTLSPeerSAMLV2, token: bearerToken(t), profile: wsf.Lasso}
		}, wsf.TLSBearer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, inv, err := verify(t, tc.m())
			if err != nil {
				t.Fatal(err)
			}
			if inv.Mechanism != tc.want {
				t.Fatalf("mechanism %s, want %s", inv.Mechanism, tc.want)
			}
		})
	}
}

// TestRefused: each message is refused with the status code a WSP
// answers (IDWSF2 §2.5, §3.4).
func TestRefused(t *testing.T) {
	k := wsftest.Keys(t)
	bearerOK := wsf.Profile{AllowBearer: true}
	for _, tc := range []struct {
		name string
		m    func() msg
		want wsf.Code
	}{
		{"fail/unsigned-bearer-with-certificate-in-no-metadata", func() msg {
			return msg{mech: wsf.ClientTLSPeerSAMLV2, token: bearerToken(t), client: k.Rogue.Cert, profile: bearerOK}
		}, wsf.InappropriateCredentials},
		{"fail/unsigned-bearer-with-senders-certificate-no-opt-in", func() msg {
			return msg{mech: wsf.ClientTLSPeerSAMLV2, token: bearerToken(t), client: k.WSC.Cert, profile: bearerOK}
		}, wsf.InappropriateCredentials},
		{"fail/unsigned-bearer-opted-in-with-foreign-certificate", func() msg {
			return msg{mech: wsf.ClientTLSPeerSAMLV2, token: bearerToken(t), client: k.Other.Cert, profile: wsf.Lasso}
		}, wsf.InappropriateCredentials},
		{"fail/bearer-not-enabled", func() msg { return msg{mech: wsf.TLSBearer, token: bearerToken(t)} }, wsf.InappropriateCredentials},
		{"fail/peer-samlv2-over-certificate-in-no-metadata", func() msg {
			return msg{mech: wsf.ClientTLSPeerSAMLV2, token: wsftest.Token(t, t0.Add(-time.Minute), wsftest.TokenSpec{Key: k.Rogue.Cert}), client: k.Rogue.Cert}
		}, wsf.InappropriateCredentials},
		{"fail/signed-by-key-in-no-metadata", func() msg {
			return msg{mech: wsf.ClientTLSSAMLV2, token: wsftest.Token(t, t0.Add(-time.Minute), wsftest.TokenSpec{Key: k.Rogue.Cert}),
				signer: k.Rogue, client: k.Rogue.Cert}
		}, wsf.InappropriateCredentials},
		{"fail/tls-key-differs-from-holder-of-key", func() msg {
			return msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), client: k.Other.Cert}
		}, wsf.InappropriateCredentials},
		{"fail/x509-without-client-certificate", func() msg { return msg{mech: wsf.ClientTLSX509} }, wsf.InappropriateCredentials},
		{"fail/stale-timestamp", func() msg {
			return msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), client: k.WSC.Cert, created: t0.Add(-time.Hour)}
		}, wsf.StaleMsg},
		{"fail/mechanism-not-accepted-here", func() msg {
			return msg{mech: wsf.TLSSAMLV2, token: hokToken(t), mechs: []wsf.Mechanism{wsf.ClientTLSSAMLV2}}
		}, wsf.InappropriateCredentials},
		{"fail/token-for-another-audience", func() msg {
			return msg{mech: wsf.ClientTLSSAMLV2, client: k.WSC.Cert,
				token: wsftest.Token(t, t0.Add(-time.Minute), wsftest.TokenSpec{Audience: wsftest.OtherID})}
		}, wsf.InappropriateCredentials},
		{"fail/unsigned-header-block", func() msg {
			return msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), client: k.WSC.Cert, tamper: func(e *wsf.Envelope) {
				e.Header.SelectElement("wsa:To").SetText("https://evil.example.org/")
			}}
		}, wsf.InappropriateCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, inv, err := verify(t, tc.m())
			if err == nil {
				t.Fatalf("accepted as %s", inv.Mechanism)
			}
			f := wsf.FaultFor(err)
			if got := f.StatusCode(); got != tc.want {
				t.Fatalf("status %s, want %s (%v)", got, tc.want, err)
			}
			if tc.name == "fail/token-for-another-audience" && f.Code != wsf.FaultInvalidSecurityToken {
				t.Fatalf("fault %s, want wsse:InvalidSecurityToken", f.Code.Local)
			}
		})
	}
}

// TestProtectedReadsOnlyWhatWasSigned: the decoded header and payload
// come from the verified copy, and the Body's digest is taken.
func TestProtectedReadsOnlyWhatWasSigned(t *testing.T) {
	k := wsftest.Keys(t)
	p, _, err := verify(t, msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), client: k.WSC.Cert})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Signed || p.Header.To != endpoint || p.Payload.Tag != "Query" {
		t.Fatalf("signed=%v to=%q payload=%s", p.Signed, p.Header.To, p.Payload.Tag)
	}
	if p.BodyDigest == ([32]byte{}) {
		t.Fatal("body digest missing")
	}
	in := send(t, msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), client: k.Rogue.Cert})
	if in.ClientKeyIsSenders() || p.SenderProven(in) != true {
		t.Fatal("a certificate in no metadata counted as the sender's, or a signed message as unproven")
	}
	unsigned := &secmech.Protected{}
	if unsigned.SenderProven(in) {
		t.Fatal("an unsigned message over a certificate in no metadata counted as proven")
	}
	if !unsigned.SenderProven(send(t, msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), client: k.WSC.Cert})) {
		t.Fatal("the sender's own TLS client key did not prove the sender")
	}
}

// TestNoSecurityHeader: a message without wsse:Security is refused.
func TestNoSecurityHeader(t *testing.T) {
	in := send(t, msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), tamper: func(e *wsf.Envelope) {
		sec, _ := e.Security()
		e.Header.RemoveChild(sec)
	}})
	_, err := checker(t).VerifyMessage(in, t0)
	var xe *xmlsec.Error
	if !errors.As(err, &xe) || xe.Kind != xmlsec.KindNoSignature {
		t.Fatalf("got %v, want a missing-signature error", err)
	}
}

// swapToken replaces the signed message's token with tok, leaving the
// signature and its SecurityTokenReference (which names the first token)
// as they were: the signature no longer references the token presented.
func swapToken(t *testing.T, tok *etree.Element) func(*wsf.Envelope) {
	return func(e *wsf.Envelope) {
		sec, err := e.Security()
		if err != nil || sec == nil {
			t.Fatalf("no wsse:Security: %v", err)
		}
		old := sec.SelectElement("saml:Assertion")
		if old == nil {
			t.Fatal("no saml:Assertion in wsse:Security")
		}
		sec.InsertChildAt(old.Index(), tok)
		sec.RemoveChild(old)
	}
}

// TestUnreferencedToken: a token the signature does not reference is
// refused from a strict peer; under the UnreferencedToken profile item
// (ZXID) it is accepted only when it confirms the key that signed the
// message, never a bearer token or a token confirming another key.
func TestUnreferencedToken(t *testing.T) {
	k := wsftest.Keys(t)
	unref := wsf.Profile{Name: "unreferenced", UnreferencedToken: true, AllowBearer: true}
	other := wsftest.Token(t, t0.Add(-time.Minute), wsftest.TokenSpec{ID: "_tok2"})
	_, _, err := verify(t, msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), client: k.WSC.Cert, tamper: swapToken(t, other)})
	if !errors.Is(err, xmlsec.ErrReference) {
		t.Fatalf("strict peer, unreferenced token: %v, want a reference error", err)
	}
	_, inv, err := verify(t, msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), client: k.WSC.Cert, profile: unref, tamper: swapToken(t, other)})
	if err != nil || inv.Mechanism != wsf.ClientTLSSAMLV2 || inv.Token.Assertion.ID != "_tok2" {
		t.Fatalf("profile, token confirming the signing key: %v", err)
	}
	for name, tok := range map[string]*etree.Element{
		"another key": wsftest.Token(t, t0.Add(-time.Minute), wsftest.TokenSpec{ID: "_tok3", Key: k.Other.Cert}),
		"bearer":      wsftest.Token(t, t0.Add(-time.Minute), wsftest.TokenSpec{ID: "_tok4", Method: saml.CMBearer}),
	} {
		_, inv, err := verify(t, msg{mech: wsf.ClientTLSSAMLV2, token: hokToken(t), client: k.WSC.Cert, profile: unref, tamper: swapToken(t, tok)})
		if err == nil {
			t.Fatalf("profile, unreferenced token confirming %s: accepted as %s", name, inv.Mechanism)
		}
	}
}
