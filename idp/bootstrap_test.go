package idp

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// bootstrapToken returns the DS token of the one bootstrap EPR of a
// decrypted SSO assertion element.
func bootstrapToken(t testing.TB, assertion *etree.Element) *etree.Element {
	t.Helper()
	a, _, err := saml.VerifyAssertion(assertion, idpVerifier(t))
	must(t, err)
	eprs, err := wsf.BootstrapEPRs(a)
	must(t, err)
	if len(eprs) != 1 || eprs[0].Metadata == nil || len(eprs[0].Metadata.SecurityContexts) != 1 {
		t.Fatalf("bootstrap EPRs %+v", eprs)
	}
	toks := eprs[0].Metadata.SecurityContexts[0].Tokens
	if len(toks) != 1 || toks[0].Element == nil {
		t.Fatalf("security context tokens %+v", toks)
	}
	return toks[0].Element
}

// ssoWithBootstrap issues Alice's SSO assertion with the bootstrap,
// encrypted for the portal, and returns it decrypted as the portal reads it.
func (f *fixture) ssoWithBootstrap(p *IdP, sessionEnd time.Time) *etree.Element {
	f.t.Helper()
	req := f.issueRequest()
	req.Bootstrap, req.WSCCert, req.EncryptFor = true, federationKeys(f.t).WSC.Cert, recipient(f.t)
	req.SessionNotOnOrAfter = sessionEnd
	out, err := p.Issue(ctx, req, f.now)
	must(f.t, err)
	plain, err := decrypter(federationKeys(f.t).WSC, portalID).Decrypt(out.Element)
	must(f.t, err)
	return plain
}

// TestBootstrapEPR: the DiscoveryEPR attribute and its EPR have the shape
// of IDWSF2 §4.5 and §4.2.
func TestBootstrapEPR(t *testing.T) {
	f := newFixture(t)
	el := f.ssoWithBootstrap(f.idp, time.Time{})
	a, _, err := saml.VerifyAssertion(el, idpVerifier(t))
	must(t, err)
	at, ok := a.Attribute(wsf.DiscoveryEPRAttr)
	if !ok || at.NameFormat != saml.AttrNameFormatURI || len(at.Values) != 1 || len(at.Values[0].Elements) != 1 {
		t.Fatalf("DiscoveryEPR attribute %+v", at)
	}
	eprs, err := wsf.BootstrapEPRs(a)
	must(t, err)
	md := eprs[0].Metadata
	sc := md.SecurityContexts[0]
	if eprs[0].Address != dsAddr || md.ProviderID != dsID || md.ServiceType != wsf.ServiceTypeDisco ||
		md.Framework != "2.0" || md.Abstract == "" {
		t.Fatalf("EPR %+v metadata %+v", eprs[0], md)
	}
	if len(sc.Mechanisms) != 1 || sc.Mechanisms[0] != string(wsf.ClientTLSSAMLV2) || sc.Tokens[0].EffectiveUsage() != wsf.UsageSecurityToken {
		t.Fatalf("security context %+v", sc)
	}
	t.Run("ok/configured-mechanisms-in-order", func(t *testing.T) {
		p := f.withConfig(func(c *Config) {
			c.Discovery.Mechanisms = []wsf.Mechanism{wsf.ClientTLSPeerSAMLV2, wsf.ClientTLSSAMLV2}
			c.Discovery.Abstract = "Renkei discovery"
		})
		a, _, err := saml.VerifyAssertion(f.ssoWithBootstrap(p, time.Time{}), idpVerifier(t))
		must(t, err)
		eprs, err := wsf.BootstrapEPRs(a)
		must(t, err)
		md := eprs[0].Metadata
		got := md.SecurityContexts[0].Mechanisms
		if len(got) != 2 || got[0] != string(wsf.ClientTLSPeerSAMLV2) || got[1] != string(wsf.ClientTLSSAMLV2) || md.Abstract != "Renkei discovery" {
			t.Fatalf("mechanisms %v abstract %q", got, md.Abstract)
		}
	})
}

// dsChecker is the Discovery Service's token checker: the IdP is a token
// issuer in its metadata, and it decrypts with its own key.
func dsChecker(t testing.TB, self string) *secmech.TokenChecker {
	k := federationKeys(t)
	iss := wsf.NewPeer(idpID, k.IdP.Cert, k.IdPNext.Cert)
	iss.TokenIssuer = true
	return &secmech.TokenChecker{Self: self, Directory: wsf.StaticDirectory{idpID: iss}, Decrypter: decrypter(k.DS, dsID)}
}

// TestBootstrapTokenChecker: the DS token passes wsf/secmech's checker at
// the DS (signature, issuer, audience, window), its EncryptedID decrypts
// with the DS key to Alice's pairwise NameID at the DS, and its
// holder-of-key confirmation names the portal's metadata key.
func TestBootstrapTokenChecker(t *testing.T) {
	f := newFixture(t)
	tok := bootstrapToken(t, f.ssoWithBootstrap(f.idp, f.now.Add(8*time.Hour)))
	got, err := dsChecker(t, dsID).Check(ctx, tok, f.now, false)
	must(t, err)
	fed, err := f.db.Federation(ctx, "p-alice", dsID)
	must(t, err)
	want := saml.NameID{Value: fed.NameID, Format: saml.NameIDPersistent, NameQualifier: idpID, SPNameQualifier: dsID}
	if *got.Subject != want {
		t.Fatalf("DS reads subject %+v, want %+v", got.Subject, want)
	}
	hok := got.HolderOfKeys(f.now, 0)
	if len(hok) != 1 || !samePublicKey(federationKeys(t).WSC.Cert.PublicKey, hok[0]) {
		t.Fatalf("holder-of-key keys %v", hok)
	}
	c := got.Assertion.Conditions
	if !c.NotOnOrAfter.Equal(f.now.Add(DefaultBootstrapLifetime)) || got.Assertion.AuthnStatements[0].ClassRef != saml.ACSmartcardPKI {
		t.Fatalf("token conditions %+v authn %+v", c, got.Assertion.AuthnStatements)
	}
	t.Run("fail/expired-after-lifetime", func(t *testing.T) {
		_, err := dsChecker(t, dsID).Check(ctx, tok, f.now.Add(DefaultBootstrapLifetime), false)
		wantErr(t, err, saml.ErrExpired)
	})
	t.Run("fail/other-audience", func(t *testing.T) {
		_, err := dsChecker(t, otherSP).Check(ctx, tok, f.now, false)
		wantErr(t, err, saml.ErrAudience)
	})
	t.Run("fail/portal-cannot-read-subject", func(t *testing.T) {
		enc := got.Assertion.Subject.EncryptedID
		_, err := enc.Decrypt(decrypter(federationKeys(t).WSC, ""))
		wantErr(t, err, xmlsec.ErrDecrypt)
	})
	t.Run("ok/same-ds-nameid-next-login", func(t *testing.T) {
		tok2 := bootstrapToken(t, f.ssoWithBootstrap(f.idp, time.Time{}))
		again, err := dsChecker(t, dsID).Check(ctx, tok2, f.now, false)
		must(t, err)
		if again.Subject.Value != fed.NameID {
			t.Fatalf("second bootstrap names %q, first %q", again.Subject.Value, fed.NameID)
		}
	})
	t.Run("ok/bounded-by-session", func(t *testing.T) {
		end := f.now.Add(30 * time.Minute)
		short, err := dsChecker(t, dsID).Check(ctx, bootstrapToken(t, f.ssoWithBootstrap(f.idp, end)), f.now, false)
		must(t, err)
		if !short.Assertion.Conditions.NotOnOrAfter.Equal(end) {
			t.Fatalf("token ends %v, session %v", short.Assertion.Conditions.NotOnOrAfter, end)
		}
	})
}

// TestBootstrapAtDiscoveryService sends a disco:Query to a wsf/server
// receiver playing the DS, secured by the portal under ClientTLS:SAMLV2
// with the bootstrap token: the whole pipeline accepts it and the service
// sees Alice's DS NameID. Signed by a key the token does not confirm, the
// same token is refused.
func TestBootstrapAtDiscoveryService(t *testing.T) {
	f := newFixture(t)
	k := federationKeys(t)
	tok := bootstrapToken(t, f.ssoWithBootstrap(f.idp, time.Time{}))
	cases := []struct {
		name   string
		sender *pki.Identity // the portal's key in the DS's metadata, which signs
		ok     bool
	}{
		{"ok/portal-key-confirmed", k.WSC, true},
		{"fail/key-not-confirmed-by-token", k.Other, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var seen *server.Message
			rcv := discoveryReceiver(t, f, c.sender, func(m *server.Message) { seen = m })
			body := discoQuery(t, f, tok, c.sender)
			resp := rcv.Receive(ctx, server.Request{Body: body, TLS: true, ClientCert: c.sender.Cert})
			if !c.ok {
				if resp.Status == 200 || seen != nil {
					t.Fatalf("accepted a token the signer does not hold: %d", resp.Status)
				}
				wantErr(t, resp.Err, saml.ErrConfirmation)
				return
			}
			if resp.Status != 200 || seen == nil {
				t.Fatalf("DS refused the bootstrap token: %d %v (cause %v)", resp.Status, resp.Fault, resp.Err)
			}
			fed, err := f.db.Federation(ctx, "p-alice", dsID)
			must(t, err)
			inv := seen.Invocation
			if inv.Mechanism != wsf.ClientTLSSAMLV2 || inv.Token.Subject.Value != fed.NameID {
				t.Fatalf("invocation %s for %+v", inv.Mechanism, inv.Token.Subject)
			}
		})
	}
}

func discoveryReceiver(t *testing.T, f *fixture, portal *pki.Identity, seen func(*server.Message)) *server.Receiver {
	k := federationKeys(t)
	schema, err := xsd.Default()
	must(t, err)
	dir := dsChecker(t, dsID).Directory.(wsf.StaticDirectory)
	dir[portalID] = wsf.NewPeer(portalID, portal.Cert)
	svc := server.ServiceFunc(func(_ context.Context, m *server.Message) (*server.Reply, error) {
		seen(m)
		resp := etree.NewElement("disco:QueryResponse")
		resp.CreateAttr("xmlns:disco", wsf.NSDisco)
		resp.AddChild(wsf.Status{Code: wsf.OK}.Element())
		return &server.Reply{Payload: resp}, nil
	})
	rcv, err := server.New(server.Config{EntityID: dsID, Endpoints: []string{dsAddr}, Key: k.DS.Key, Certificate: k.DS.Cert,
		Decrypter: decrypter(k.DS, dsID), Directory: dir, Replay: server.NewMemoryReplayCache(), Schema: schema,
		Services: map[string]server.Service{wsf.ServiceTypeDisco + ":Query": svc}, Now: f.clock})
	must(t, err)
	return rcv
}

// discoQuery is the portal's disco:Query with the bootstrap token, signed
// by signer as ClientTLS:SAMLV2 requires (IDWSF2 §3.5).
func discoQuery(t *testing.T, f *fixture, tok *etree.Element, signer *pki.Identity) []byte {
	mid, err := wsf.NewMessageID(nil)
	must(t, err)
	h := &wsf.Header{Framework: wsf.Framework{Version: wsf.FrameworkVersion}, Sender: &wsf.Sender{ProviderID: portalID},
		MessageID: mid, To: dsAddr, Action: wsf.ServiceTypeDisco + ":Query", ReplyTo: &wsf.EPR{Address: wsf.Anonymous}}
	q := etree.NewElement("disco:Query")
	q.CreateAttr("xmlns:disco", wsf.NSDisco)
	q.CreateElement("disco:RequestedService").CreateElement("disco:ServiceType").SetText("urn:renkei:svc:clinical:1.0")
	cred := &secmech.Credentials{Mechanism: wsf.ClientTLSSAMLV2, Token: tok, Key: signer.Key, Certificate: signer.Cert}
	b, err := secmech.Secure(wsf.NewEnvelope(h, q), cred, f.now)
	must(t, err)
	return b
}

// TestBootstrapTerminatedDSFederation: when the principal's federation
// with the DS was terminated, no token is minted and the IdP answers for
// itself (Responder, CodeNoDiscovery), never blaming the SP's request.
func TestBootstrapTerminatedDSFederation(t *testing.T) {
	f := newFixture(t)
	a := f.aliceAuthn()
	wsc := federationKeys(t).WSC.Cert
	_, err := f.idp.DiscoveryToken(ctx, a, wsc, BootstrapSession{}, f.now)
	must(t, err)
	_, err = f.db.UpdateFederation(ctx, a.PrincipalID, dsID, func(cur store.Federation) (store.Federation, error) {
		cur.Terminated = f.now
		return cur, nil
	})
	must(t, err)
	tok, err := f.idp.DiscoveryToken(ctx, a, wsc, BootstrapSession{}, f.now)
	if tok != nil || CodeOf(err) != CodeNoDiscovery || StatusFor(err).Top != samlp.StatusResponder {
		t.Fatalf("fail/terminated-federation: token %v, code %v, status %q", tok != nil, CodeOf(err), StatusFor(err).Top)
	}
}

// TestBootstrapDSKeyRollover: the DS's encryption key is read from the
// metadata at each mint, so a new key in the aggregate is used at once,
// without a new IdP.
func TestBootstrapDSKeyRollover(t *testing.T) {
	f := newFixture(t)
	k := federationKeys(t)
	meta := entities{}
	set := func(c *x509.Certificate) {
		meta[dsID] = &md.EntityDescriptor{EntityID: dsID, Roles: []*md.RoleDescriptor{(&metadir.WebService{
			ServiceTypes: []string{wsf.ServiceTypeDisco}, Endpoints: []string{dsAddr}, Keys: []md.KeyDescriptor{encryptionKey(c)}}).Role()}}
	}
	set(k.DS.Cert)
	dir, err := metadir.New(metadir.Config{Metadata: meta, Now: f.clock})
	must(t, err)
	p := f.withConfig(func(c *Config) { c.Discovery.Metadata = dir })
	a := f.aliceAuthn()
	for _, key := range []*pki.Identity{k.DS, k.Other} {
		set(key.Cert)
		tok, err := p.DiscoveryToken(ctx, a, k.WSC.Cert, BootstrapSession{}, f.now)
		must(t, err)
		checker := dsChecker(t, dsID)
		checker.Decrypter = decrypter(key, dsID)
		if _, err := checker.Check(ctx, tok, f.now, false); err != nil {
			t.Fatalf("token after the DS key became %s: %v", key.Name, err)
		}
	}
}
