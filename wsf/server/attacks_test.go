package server

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestUnsignedBearerNeedsOptIn: an unsigned message carrying a bearer
// token passes only under the peer profile's explicit UnsignedBearer
// opt-in. A TLS client certificate proves nothing unless it is the
// sender's metadata key, so a certificate in no metadata (or another
// provider's) never stands in for the missing signature.
func TestUnsignedBearerNeedsOptIn(t *testing.T) {
	k := wsftest.Keys(t)
	bearerAllowed := wsf.Profile{AllowBearer: true}
	for _, tc := range []struct {
		name    string
		profile wsf.Profile
		client  *x509.Certificate
		fault   wsf.FaultCode // the zero FaultCode: accepted
	}{
		// Without the opt-in, the missing signature is refused at once.
		{"fail/certificate-in-no-metadata", bearerAllowed, k.Rogue.Cert, wsf.FaultInvalidSecurity},
		{"fail/zxid-profile-certificate-in-no-metadata", wsf.ZXID, k.Rogue.Cert, wsf.FaultInvalidSecurity},
		{"fail/another-providers-certificate", bearerAllowed, k.Other.Cert, wsf.FaultInvalidSecurity},
		// The sender's own key or the opt-in gets the message past the
		// signature step; the Bearer rule refuses it.
		{"fail/senders-own-certificate-without-opt-in", bearerAllowed, k.WSC.Cert, wsf.FaultClient},
		{"fail/opt-in-but-certificate-in-no-metadata", wsf.Lasso, k.Rogue.Cert, wsf.FaultClient},
		{"ok/opt-in-senders-certificate", wsf.Lasso, k.WSC.Cert, wsf.FaultCode{}},
		{"ok/opt-in-no-certificate", wsf.Lasso, nil, wsf.FaultCode{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.profile)
			// ClientTLS:peerSAMLV2 credentials: the token and a Timestamp,
			// no signature.
			body := f.request(req{mech: wsf.ClientTLSPeerSAMLV2, token: f.hokToken(wsftest.TokenSpec{Method: saml.CMBearer})})
			resp := f.receive(body, tc.client)
			if tc.fault == (wsf.FaultCode{}) {
				if m := f.wantOK(resp); m.Invocation.Mechanism != wsf.TLSBearer {
					t.Fatalf("mechanism %s, want Bearer", m.Invocation.Mechanism)
				}
				return
			}
			f.wantFault(resp, tc.fault, wsf.InappropriateCredentials)
		})
	}
}

// TestRetransmissionNeedsTheSameAuthenticatedSender: the stored first
// response goes only to a retransmission that passed every check the
// first request passed, token included, from the same authenticated
// sender. A request that reuses another party's MessageID and Body
// without its token, or with another token, gets no stored response.
func TestRetransmissionNeedsTheSameAuthenticatedSender(t *testing.T) {
	f := newFixture(t, wsf.Lasso)
	victim := unsignedBearer(t, f)
	first := f.receive(victim, nil)
	f.wantOK(first)

	t.Run("fail/same-message-id-and-body-without-token", func(t *testing.T) {
		env := f.build(req{})
		b, err := env.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		resp := f.receive(b, nil)
		if resp.Replayed || resp.Fault == nil {
			t.Fatalf("a request without token got the stored response (replayed=%v status=%d)", resp.Replayed, resp.Status)
		}
		if got := resp.Fault.StatusCode(); got != wsf.InappropriateCredentials {
			t.Fatalf("status %s, want %s", got, wsf.InappropriateCredentials)
		}
	})
	t.Run("fail/same-message-id-and-body-with-another-token", func(t *testing.T) {
		env := f.build(req{})
		sec, _ := env.Security()
		other := f.hokToken(wsftest.TokenSpec{ID: "_tok2", Method: saml.CMBearer})
		sec.AddChild(xmlsec.DetachCopy(other))
		b, err := env.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		resp := f.receive(b, nil)
		if resp.Replayed || resp.Fault == nil || resp.Fault.StatusCode() != wsf.DuplicateMsg {
			t.Fatalf("want DuplicateMsg, got replayed=%v status=%d", resp.Replayed, resp.Status)
		}
	})
	t.Run("fail/identical-bytes-without-the-senders-client-key", func(t *testing.T) {
		// Nothing proves who holds these bytes: the stored response goes
		// only to the sender's own TLS client key.
		resp := f.receive(victim, nil)
		if resp.Replayed || resp.Fault == nil || resp.Fault.StatusCode() != wsf.DuplicateMsg {
			t.Fatalf("want DuplicateMsg, got replayed=%v status=%d", resp.Replayed, resp.Status)
		}
	})
	if c := f.calls.Load(); c != 1 {
		t.Fatalf("%d service calls, want 1", c)
	}
}

// TestStoredResponseNeedsTheSendersClientKey: under TLS:SAMLV2 (signed,
// no client certificate) a copy of the exact bytes is no proof of who
// sends it, so it gets DuplicateMsg; the sender's own retransmission over
// its client key gets the stored response.
func TestStoredResponseNeedsTheSendersClientKey(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	body := f.request(req{mech: wsf.TLSSAMLV2, token: f.hokToken(wsftest.TokenSpec{})})
	f.wantOK(f.receive(body, nil))
	if resp := f.receive(body, nil); resp.Replayed || resp.Fault == nil || resp.Fault.StatusCode() != wsf.DuplicateMsg {
		t.Fatalf("fail/copy-without-client-key: replayed=%v status=%d", resp.Replayed, resp.Status)
	}
	g := newFixture(t, wsf.Strict)
	hokBody := g.request(hok(g, nil))
	g.wantOK(g.receive(hokBody, k.WSC.Cert))
	if resp := g.receive(hokBody, k.WSC.Cert); !resp.Replayed || resp.Status != 200 {
		t.Fatalf("ok/sender-retransmits: replayed=%v status=%d", resp.Replayed, resp.Status)
	}
}

// TestRetransmissionCoversTheHeader: a request that reuses a MessageID
// with the same Body and token but another wsa:To is a different request,
// answered DuplicateMsg, never with the first one's response.
func TestRetransmissionCoversTheHeader(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict, func(c *Config) { c.Endpoints = append(c.Endpoints, endpoint+"/v2") })
	tok := f.hokToken(wsftest.TokenSpec{})
	f.wantOK(f.receive(f.request(req{mech: wsf.ClientTLSSAMLV2, token: tok}), k.WSC.Cert))
	other := req{mech: wsf.ClientTLSSAMLV2, token: tok, header: func(h *wsf.Header) { h.To = endpoint + "/v2" }}
	resp := f.receive(f.request(other), k.WSC.Cert)
	if resp.Replayed || resp.Fault == nil || resp.Fault.StatusCode() != wsf.DuplicateMsg {
		t.Fatalf("want DuplicateMsg, got replayed=%v status=%d", resp.Replayed, resp.Status)
	}
}

// TestTimestamplessMessageKeptForTheTokensLife: an unsigned Bearer message
// without a Timestamp (the Lasso opt-in) carries nothing that ages, so its
// MessageID is kept for as long as its token is valid, not only for the
// Timestamp window; and only Bearer may leave the Timestamp out.
func TestTimestamplessMessageKeptForTheTokensLife(t *testing.T) {
	f := newFixture(t, wsf.Lasso)
	body := unsignedBearer(t, f)
	f.wantOK(f.receive(body, nil))
	f.now = f.now.Add(20 * time.Minute) // past the Timestamp window, the token still valid
	resp := f.receive(body, nil)
	if resp.Fault == nil || resp.Fault.StatusCode() != wsf.DuplicateMsg {
		t.Fatalf("fail/replayed-after-window: status %d", resp.Status)
	}
	if c := f.calls.Load(); c != 1 {
		t.Fatalf("%d service calls, want 1", c)
	}

	k := wsftest.Keys(t)
	g := newFixture(t, wsf.Lasso)
	env := g.build(req{})
	sec, _ := env.Security()
	sec.AddChild(xmlsec.DetachCopy(g.hokToken(wsftest.TokenSpec{})))
	b, err := env.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	g.wantFault(g.receive(b, k.WSC.Cert), wsf.FaultClient, wsf.StaleMsg)
}

// TestLenientSchemaOnlyForTheVerifiedSender: a peer profile that skips
// the schema check applies only once the message is proven to come from
// that peer. A message that names a lenient peer in sb:Sender but is
// signed by a key in no metadata is refused by the schema check, as any
// strict peer's would be, before its signature is even considered.
func TestLenientSchemaOnlyForTheVerifiedSender(t *testing.T) {
	k := wsftest.Keys(t)
	invalid := func(e *wsf.Envelope) {
		e.Header.SelectElement("wsa:ReplyTo").CreateAttr("notOnOrAfter", "2037-01-05T23:03:59Z")
	}
	t.Run("fail/forged-sender-claims-lenient-profile", func(t *testing.T) {
		f := newFixture(t, wsf.ZXID)
		r := hok(f, invalid)
		r.signer = k.Rogue
		r.token = f.hokToken(wsftest.TokenSpec{Key: k.Rogue.Cert})
		f.wantFault(f.receive(f.request(r), k.Rogue.Cert), wsf.FaultClient, wsf.IDStarMsgNotUnderstood)
	})
	t.Run("fail/unsigned-claims-lenient-profile", func(t *testing.T) {
		f := newFixture(t, wsf.Lasso)
		r := req{mech: wsf.ClientTLSPeerSAMLV2, token: f.hokToken(wsftest.TokenSpec{Method: saml.CMBearer}), env: invalid}
		f.wantFault(f.receive(f.request(r), nil), wsf.FaultClient, wsf.IDStarMsgNotUnderstood)
	})
	t.Run("ok/verified-sender-lenient-profile", func(t *testing.T) {
		f := newFixture(t, wsf.ZXID)
		f.wantOK(f.receive(f.request(hok(f, invalid)), k.WSC.Cert))
	})
}

// TestUsageDirectiveLeniencyNeedsAProvenSender: the profile item that
// accepts sb:UsageDirective without ref applies only when the message is
// proven to be the sender's, never to an unsigned Bearer message that
// merely names it.
func TestUsageDirectiveLeniencyNeedsAProvenSender(t *testing.T) {
	k := wsftest.Keys(t)
	prof := wsf.Profile{AllowBearer: true, UnsignedBearer: true, LenientSchema: true, UsageDirectiveWithoutRef: true}
	f := newFixture(t, prof)
	body := func() []byte {
		env := f.build(req{header: func(h *wsf.Header) {
			h.UsageDirectives = []wsf.UsageDirective{{Policies: []*etree.Element{purpose()}}}
		}})
		sec, _ := env.Security()
		sec.AddChild(xmlsec.DetachCopy(f.hokToken(wsftest.TokenSpec{Method: saml.CMBearer})))
		b, err := env.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	f.wantFault(f.receive(body(), nil), wsf.FaultClient, wsf.IDStarMsgNotUnderstood)
	if m := f.wantOK(f.receive(body(), k.WSC.Cert)); !m.SenderProven {
		t.Fatal("the sender's client key did not prove the sender")
	}
}
