package wsp_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

const (
	sloIdP = "https://idp.renkei.test/metadata"
	sloURL = "https://hospital-a.renkei.test/wsp/slo"
)

var sloNow = time.Date(2026, 12, 7, 0, 30, 0, 0, time.UTC)

// memReplay is a store.ReplayCache in memory, for the fuzz target and the
// tests that need no database.
type memReplay struct {
	mu   sync.Mutex
	seen map[store.ReplayKey]time.Time
	// failEnded makes recording an ended session fail.
	failEnded bool
}

func (m *memReplay) CheckAndInsert(_ context.Context, k store.ReplayKey, expiry, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failEnded && k.Kind == store.ReplayEndedSession {
		return errors.New("the store is down")
	}
	if m.seen == nil {
		m.seen = map[store.ReplayKey]time.Time{}
	}
	if e, ok := m.seen[k]; ok && e.After(now) {
		return store.ErrReplay
	}
	m.seen[k] = expiry
	return nil
}

func (m *memReplay) Seen(_ context.Context, k store.ReplayKey, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.seen[k]
	return ok && e.After(now), nil
}

func (m *memReplay) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}

// newSLO is the WSP's SingleLogoutService trusting pki's RSA key as the
// IdP's, signing with its P-256 key, over st.
func newSLO(t testing.TB, st store.ReplayCache) *wsp.SLO {
	t.Helper()
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	k := pki.MustGet()
	s, err := wsp.NewSLO(wsp.SLOConfig{EntityID: entityID, IdP: sloIdP, URL: sloURL,
		IdPKeys: func(_ context.Context, id string, _ time.Time) (*xmlsec.TrustSet, error) {
			if id != sloIdP {
				return nil, errors.New("not in the metadata")
			}
			return xmlsec.NewTrustSet([]*x509.Certificate{k.RSA.Cert}), nil
		},
		Signer: &dsig.Signer{Key: k.P256.Key, Certificates: []*x509.Certificate{k.P256.Cert}},
		Store:  st, Schema: schema, Now: func() time.Time { return sloNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// idpLogout is the IdP's LogoutRequest ending index, as idp/slo_chain.go
// sends it.
func idpLogout(id, index string) *samlp.LogoutRequest {
	return &samlp.LogoutRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: sloNow, Destination: sloURL,
		Issuer: &saml.Issuer{Value: sloIdP}}, NotOnOrAfter: sloNow.Add(5 * time.Minute), Reason: samlp.LogoutUser,
		SessionIndexes: []string{index},
		NameID:         &saml.NameID{Value: "alice-at-a", Format: saml.NameIDPersistent, NameQualifier: sloIdP, SPNameQualifier: entityID}}
}

// idpSigner signs as the IdP (pki's RSA key).
func idpSigner() *dsig.Signer {
	k := pki.MustGet()
	return &dsig.Signer{Key: k.RSA.Key, Certificates: []*x509.Certificate{k.RSA.Cert}}
}

// envelopeOf is req signed by s (unsigned when s is nil) in a SOAP envelope.
func envelopeOf(t testing.TB, req *samlp.LogoutRequest, s *dsig.Signer) []byte {
	t.Helper()
	el := req.Element()
	if s != nil {
		var err error
		if el, err = samlp.Sign(req, s); err != nil {
			t.Fatal(err)
		}
	}
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logoutResponse reads the reply as the IdP does: an envelope whose body
// is a LogoutResponse signed by the WSP's key, for request id.
func logoutResponse(t *testing.T, r *wsp.SOAPReply, id string) *samlp.LogoutResponse {
	t.Helper()
	if r == nil || r.Fault {
		t.Fatalf("reply %+v, want a LogoutResponse", r)
	}
	env, err := (&binding.SOAPDecoder{}).Decode(bytes.NewReader(r.Envelope))
	if err != nil {
		t.Fatal(err)
	}
	trust := xmlsec.NewTrustSet([]*x509.Certificate{pki.MustGet().P256.Cert})
	resp, _, err := samlp.VerifyLogoutResponse(env.Body, &dsig.Verifier{Trust: trust})
	if err != nil {
		t.Fatalf("LogoutResponse not signed by the WSP: %v", err)
	}
	if resp.InResponseTo != id || resp.Issuer == nil || resp.Issuer.Value != entityID || resp.Destination != "" {
		t.Fatalf("LogoutResponse InResponseTo %q Issuer %+v Destination %q", resp.InResponseTo, resp.Issuer, resp.Destination)
	}
	return resp
}

func ended(t *testing.T, s *wsp.SLO, index string) bool {
	t.Helper()
	ok, err := s.Ended(context.Background(), index, sloNow)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestSLOEndsSession: the IdP's signed LogoutRequest is answered with a
// signed Success and ends its SessionIndex at the WSP, and only that one,
// until EndedLifetime has passed.
func TestSLOEndsSession(t *testing.T) {
	st := &memReplay{}
	s := newSLO(t, st)
	r, err := s.Receive(context.Background(), bytes.NewReader(envelopeOf(t, idpLogout("_out1", "_s1"), idpSigner())))
	if err != nil {
		t.Fatal(err)
	}
	if resp := logoutResponse(t, r, "_out1"); !resp.Status.Success() {
		t.Fatalf("status %+v", resp.Status)
	}
	if r.Logout == nil || len(r.Logout.SessionIndexes) != 1 || r.Logout.SessionIndexes[0] != "_s1" {
		t.Fatalf("Logout %+v", r.Logout)
	}
	if !ended(t, s, "_s1") || ended(t, s, "_s2") {
		t.Fatal("the named session is not ended, or another is")
	}
	if ok, _ := s.Ended(context.Background(), "_s1", sloNow.Add(wsp.DefaultEndedLifetime)); ok {
		t.Fatal("an ended SessionIndex is kept forever")
	}
}

// TestSLOHostile: every request the WSP must not honour is refused with a
// clear outcome (a SOAP fault when it cannot be authenticated, a signed
// LogoutResponse with its status otherwise) and records nothing.
func TestSLOHostile(t *testing.T) {
	k := pki.MustGet()
	other := &dsig.Signer{Key: k.ForeignRSA.Key, Certificates: []*x509.Certificate{k.ForeignRSA.Cert}}
	sha1 := idpSigner()
	sha1.SignatureMethod, sha1.DigestMethod, sha1.Policy = xmlsec.RSASHA1, xmlsec.DigestSHA1, xmlsec.Policy{AllowSHA1: true}
	cases := []struct {
		name   string
		body   func(index string) []byte
		fault  bool
		want   error
		second string // the LogoutResponse's second-level status
		id     string // the request's ID, which the LogoutResponse answers
	}{
		{name: "fail/unsigned", fault: true, want: wsp.ErrLogoutUntrusted,
			body: func(i string) []byte { return envelopeOf(t, idpLogout("_h1", i), nil) }},
		{name: "fail/signed-by-another-key", fault: true, want: wsp.ErrLogoutUntrusted,
			body: func(i string) []byte { return envelopeOf(t, idpLogout("_h2", i), other) }},
		{name: "fail/sha1-signature", fault: true, want: wsp.ErrLogoutUntrusted,
			body: func(i string) []byte { return envelopeOf(t, idpLogout("_h3", i), sha1) }},
		{name: "fail/issuer-not-the-idp", fault: true, want: wsp.ErrLogoutUntrusted,
			body: func(i string) []byte {
				r := idpLogout("_h4", i)
				r.Issuer.Value = "https://evil.renkei.test/metadata"
				return envelopeOf(t, r, idpSigner())
			}},
		{name: "fail/oversized-body", fault: true, want: wsp.ErrLogoutMalformed,
			body: func(i string) []byte {
				b := envelopeOf(t, idpLogout("_h5", i), idpSigner())
				return append(b, bytes.Repeat([]byte(" "), wsp.DefaultSLOMaxBody)...)
			}},
		{name: "fail/not-soap", fault: true, want: wsp.ErrLogoutMalformed,
			body: func(string) []byte { return []byte("<html/>") }},
		{name: "fail/wrong-destination", id: "_h6", want: wsp.ErrLogoutDestination, second: samlp.StatusRequestDenied,
			body: func(i string) []byte {
				r := idpLogout("_h6", i)
				r.Destination = "https://hospital-b.renkei.test/wsp/slo"
				return envelopeOf(t, r, idpSigner())
			}},
		{name: "fail/stale", id: "_h7", want: wsp.ErrLogoutStale, second: samlp.StatusRequestDenied,
			body: func(i string) []byte {
				r := idpLogout("_h7", i)
				r.IssueInstant, r.NotOnOrAfter = sloNow.Add(-time.Hour), time.Time{}
				return envelopeOf(t, r, idpSigner())
			}},
		{name: "fail/not-on-or-after-passed", id: "_h8", want: wsp.ErrLogoutStale, second: samlp.StatusRequestDenied,
			body: func(i string) []byte {
				r := idpLogout("_h8", i)
				r.IssueInstant, r.NotOnOrAfter = sloNow.Add(-4*time.Minute), sloNow.Add(-3*time.Minute-time.Second)
				return envelopeOf(t, r, idpSigner())
			}},
		{name: "fail/no-destination", id: "_h10", want: wsp.ErrLogoutDestination, second: samlp.StatusRequestDenied,
			body: func(i string) []byte {
				r := idpLogout("_h10", i)
				r.Destination = ""
				return envelopeOf(t, r, idpSigner())
			}},
		{name: "fail/saml-version", fault: true, want: wsp.ErrLogoutVersion,
			body: func(i string) []byte {
				b := envelopeOf(t, idpLogout("_h11", i), idpSigner())
				return bytes.Replace(b, []byte(`Version="2.0"`), []byte(`Version="2.1"`), 1)
			}},
		{name: "fail/no-session-index", id: "_h9", want: wsp.ErrLogoutUnsupported, second: samlp.StatusRequestUnsupported,
			body: func(i string) []byte {
				r := idpLogout("_h9", i)
				r.SessionIndexes = nil
				return envelopeOf(t, r, idpSigner())
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := &memReplay{}
			s := newSLO(t, st)
			r, err := s.Receive(context.Background(), bytes.NewReader(c.body("_hostile")))
			t.Log(err)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			switch {
			case c.fault && (r == nil || !r.Fault || !strings.Contains(string(r.Envelope), "Fault")):
				t.Fatalf("reply %+v, want a SOAP fault", r)
			case !c.fault:
				resp := logoutResponse(t, r, c.id)
				if resp.Status.Code.Value != samlp.StatusRequester || resp.Status.Second() != c.second {
					t.Fatalf("status %s/%s, want Requester/%s", resp.Status.Code.Value, resp.Status.Second(), c.second)
				}
			}
			if r.Logout != nil || ended(t, s, "_hostile") || st.size() != 0 {
				t.Fatalf("a refused request recorded something: Logout %+v, %d keys", r.Logout, st.size())
			}
		})
	}
	t.Run("ok/retry-after-a-store-failure", func(t *testing.T) {
		st := &memReplay{failEnded: true}
		s := newSLO(t, st)
		body := envelopeOf(t, idpLogout("_r2", "_retried"), idpSigner())
		if _, err := s.Receive(context.Background(), bytes.NewReader(body)); !errors.Is(err, wsp.ErrLogoutInternal) {
			t.Fatalf("with the store failing: %v", err)
		}
		st.failEnded = false
		if _, err := s.Receive(context.Background(), bytes.NewReader(body)); err != nil || !ended(t, s, "_retried") {
			t.Fatalf("the IdP's retry of the same request: %v, session ended %v", err, ended(t, s, "_retried"))
		}
	})
	t.Run("fail/replayed-id", func(t *testing.T) {
		st := &memReplay{}
		s := newSLO(t, st)
		if _, err := s.Receive(context.Background(), bytes.NewReader(envelopeOf(t, idpLogout("_r1", "_first"), idpSigner()))); err != nil {
			t.Fatal(err)
		}
		before := st.size()
		r, err := s.Receive(context.Background(), bytes.NewReader(envelopeOf(t, idpLogout("_r1", "_again"), idpSigner())))
		if !errors.Is(err, wsp.ErrLogoutReplay) {
			t.Fatalf("error %v, want a replay", err)
		}
		if resp := logoutResponse(t, r, "_r1"); resp.Status.Second() != samlp.StatusRequestDenied {
			t.Fatalf("status %+v", resp.Status)
		}
		if ended(t, s, "_again") || st.size() != before {
			t.Fatal("a replayed request ended a session")
		}
	})
}
