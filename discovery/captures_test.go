package discovery_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/wsfstore"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// The recorded exchanges of testdata/README.md, replayed against the DS
// engine behind its wsf/server receiver with the clock frozen.

// The capture's federation (testdata/zxcall-to-ds-query-req.http).
const (
	zxDS       = "http://127.0.0.1:19746/disco?o=B" // the token's audience
	zxDSTo     = "http://127.0.0.1:19746/disco?o=S" // the request's wsa:To
	zxIdP      = "https://127.0.0.1:19743/metadata"
	zxWSC      = "https://127.0.0.1:19745/zxidhlo?o=B"
	zxMID      = "urn:Ml5felTkmsnFDMaJVGIqaCpZY"
	echoWSP    = "http://127.0.0.1:19747/echo?o=B"  // the test WSP, on loopback like the rest
	echoAddr   = "https://127.0.0.1:19747/echo?o=S" // the DS registers https endpoints only
	echoType   = "urn:x-echo"
	echoUserID = "echo-user-42" // the test WSP's local identifier of the principal
)

// zxClock is the token's IssueInstant, to the second.
var zxClock = time.Date(2026, 12, 7, 8, 55, 1, 0, time.UTC)

// replayDS is a DS configured as the capture's.
type replayDS struct {
	ds      *discovery.DS
	rcv     *server.Receiver
	db      *sqlstore.DB
	dir     *metadir.Directory
	dsKey   *rsa.PrivateKey // the capture's DS encryption key
	signer  *pki.Identity   // the DS's signing key (not in the capture: ZXID never saw our DS answer)
	wsp     *pki.Identity
	schema  *xsd.Schema
	request []byte // the captured SOAP envelope
}

func newReplayDS(t *testing.T, profiles map[string]wsf.Profile) *replayDS {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return zxClock }
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	r := &replayDS{dsKey: readRSAKey(t, "ds-encryption.key"), schema: schema, request: httpBody(t, "zxcall-to-ds-query-req.http")}
	set, err := md.New(md.Config{Sources: []md.Source{
		{Location: testdata(t, "renkei-idp-metadata.xml"), Unsigned: true},
		{Location: testdata(t, "zxid-wsc-metadata.xml"), Unsigned: true}}, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Refresh(ctx, zxClock); err != nil {
		t.Fatal(err)
	}
	// The DS trusts the IdP and itself as token issuers (metadir doc).
	if r.dir, err = metadir.New(metadir.Config{Metadata: set, Issuers: []string{zxIdP, zxDS}, Profiles: profiles, Now: now}); err != nil {
		t.Fatal(err)
	}
	ca := pki.MustGet().CA
	if r.signer, err = ca.Issue("zxid-replay-ds", pki.RSA2048); err != nil {
		t.Fatal(err)
	}
	if r.wsp, err = ca.Issue("zxid-replay-echo-wsp", pki.RSA2048); err != nil {
		t.Fatal(err)
	}
	if r.db, err = sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "relay.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.db.Close() })
	r.ds, err = discovery.New(discovery.Config{EntityID: zxDS, NameQualifier: zxIdP,
		Signer: &dsig.Signer{Key: r.signer.Key, Certificates: []*x509.Certificate{r.signer.Cert}},
		Store:  r.db, Providers: dskit.Recipients{echoWSP: {EntityID: echoWSP, Cert: r.wsp.Cert}},
		Policy: discovery.Policy{EncryptBearer: true}, Schema: schema, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{EntityID: zxDS, Endpoints: []string{zxDSTo}, Key: r.signer.Key, Certificate: r.signer.Cert,
		Decrypter: &xmlenc.Decrypter{Key: r.dsKey, EntityID: zxDS}, Directory: r.dir, Replay: wsfstore.Replay(r.db),
		Schema: schema, Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2, wsf.TLSSAMLV2, wsf.TLSBearer}, Now: now}
	r.ds.Mount(&cfg)
	if r.rcv, err = server.New(cfg); err != nil {
		t.Fatal(err)
	}
	return r
}

// seed writes what the capture implies into the relay database: the
// principal the DS token names, its federation with the DS, the echo
// service registered by its WSP, the principal's link with the WSP and
// the association (the citizen's consent).
func (r *replayDS) seed(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	nameID := r.token(t).Subject.Value
	const principal = "principal-zxid-replay"
	if err := r.db.CreatePrincipal(ctx, store.Principal{ID: principal, Created: zxClock}); err != nil {
		t.Fatal(err)
	}
	// This row is what the IdP wrote when it minted the token: the
	// principal's pairwise NameID at the DS (ARCHITECTURE "The relay DB is
	// the federation table"). The capture holds the token, not the IdP's
	// database, so the test reads the NameID back out of the token.
	err := r.db.CreateFederation(ctx, store.Federation{PrincipalID: principal, ProviderID: zxDS, NameID: nameID, Created: zxClock})
	if err != nil {
		t.Fatal(err)
	}
	svc := &disco.SvcMD{Abstract: "Loopback echo WSP", ProviderID: echoWSP, ServiceContexts: []disco.ServiceContext{{
		ServiceTypes: []string{echoType},
		EndpointContexts: []disco.EndpointContext{{Addresses: []string{echoAddr},
			Frameworks:      []disco.Framework{{Version: wsf.FrameworkVersion}},
			SecurityMechIDs: []string{string(wsf.TLSBearer)}}}}}}
	inv := &discovery.Invoker{Provider: echoWSP, Proven: true, Mechanism: wsf.ClientTLSX509, Cert: r.wsp.Cert}
	reg, err := r.ds.Register(ctx, inv, &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{svc}})
	if err != nil || reg.Status.Code != disco.OK {
		t.Fatalf("echo WSP registers: %+v, %v", reg, err)
	}
	if _, err := r.ds.LinkByHand(ctx, "capture-replay", principal, echoWSP, echoUserID); err != nil {
		t.Fatal(err)
	}
	if err := r.db.Associate(ctx, store.Association{PrincipalID: principal, SvcMDID: reg.SvcMDIDs[0], Created: zxClock}); err != nil {
		t.Fatal(err)
	}
	return principal
}

// token checks the captured DS token as the DS does; its Subject is the
// NameID its EncryptedID holds, decrypted with the capture's DS key.
func (r *replayDS) token(t *testing.T) *secmech.Token {
	t.Helper()
	env, err := xmlsec.Parse(r.request, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	el := env.FindElement("//Security/Assertion")
	if el == nil {
		t.Fatal("no saml:Assertion in the captured wsse:Security")
	}
	c := &secmech.TokenChecker{Self: zxDS, Directory: r.dir, Decrypter: &xmlenc.Decrypter{Key: r.dsKey, EntityID: zxDS}, Skew: time.Minute}
	tok, err := c.Check(context.Background(), el, zxClock, false)
	if err != nil {
		t.Fatalf("captured DS token: %v", err)
	}
	if tok.Subject == nil || tok.Subject.Value == "" || tok.Subject.NameQualifier != zxIdP || tok.Subject.SPNameQualifier != zxDS {
		t.Fatalf("captured DS token's subject %+v", tok.Subject)
	}
	return tok
}

// receive presents the captured request as the DS's TLS listener would:
// ZXID's zxcall calls the DS address the bootstrap EPR names, https in
// deployment (the recorder that stood in for the DS spoke plain HTTP on
// loopback), and it presents no client certificate: ZXID proves the
// sender by the message signature (TLS:SAMLV2), not by TLS client
// authentication, so the DS's listener, which requests but does not
// require a client certificate, sees TLS and none.
func (r *replayDS) receive(body []byte) *server.Response {
	return r.rcv.Receive(context.Background(), server.Request{Body: body, TLS: true})
}

// TestZXIDQueryReplay: the Query a live ZXID 1.43 zxcall sent with a
// Renkei-minted DS token, replayed under ZXID's peer profile, gets past
// everything the profile relaxes (rsa-sha1, the enveloped transform on
// detached references, the unqualified Body id="BDY", the schema, and the
// signature that references neither the holder-of-key token nor a
// SecurityTokenReference: wsf.Profile.UnreferencedToken, accepted because
// the message is signed by the very key the token confirms), and the DS
// answers it. The answer, verified as ZXID verifies a response (the DS's
// metadata key, RelatesTo = ZXID's MessageID), has the shape ZXID's own DS
// gave (zxid-13): lu:Status OK and one EPR for urn:x-echo with
// sbf:Framework, under TLS:Bearer, whose token is an EncryptedAssertion
// the echo WSP alone reads, naming the principal by the WSP's local
// identifier, which the WSC cannot read. The same bytes again are
// DuplicateMsg, and no second token is minted.
func TestZXIDQueryReplay(t *testing.T) {
	r := newReplayDS(t, map[string]wsf.Profile{zxWSC: wsf.ZXID})
	principal := r.seed(t)
	resp := r.receive(r.request)
	if resp.Status != http.StatusOK || resp.Fault != nil {
		t.Fatalf("HTTP %d, fault %v (%v)", resp.Status, resp.Fault, resp.Err)
	}
	first := resp.Body
	// A replay of the same bytes is DuplicateMsg: the stored answer goes
	// only to the TLS client key of the sender, and ZXID showed none.
	if again := r.receive(r.request); again.Fault == nil || again.Fault.StatusCode() != wsf.DuplicateMsg {
		t.Fatalf("replay: HTTP %d, fault %v, want DuplicateMsg", again.Status, again.Fault)
	}
	payload := r.verifyAsZXID(t, first)
	qr, err := disco.DecodeQueryResponse(payload)
	if err != nil {
		t.Fatal(err)
	}
	if qr.Status.Code != disco.OK || len(qr.EPRs) != 1 {
		t.Fatalf("status %q, %d EPRs", qr.Status.Code, len(qr.EPRs))
	}
	epr := qr.EPRs[0]
	m := epr.Metadata
	if epr.Address != echoAddr || m.ServiceType != echoType || m.ProviderID != echoWSP || m.Framework != wsf.FrameworkVersion {
		t.Fatalf("EPR %s: metadata %+v", epr.Address, m)
	}
	if len(m.SecurityContexts) != 1 || !slices.Equal(m.SecurityContexts[0].Mechanisms, []string{string(wsf.TLSBearer)}) ||
		len(m.SecurityContexts[0].Tokens) != 1 {
		t.Fatalf("security contexts %+v", m.SecurityContexts)
	}
	el := m.SecurityContexts[0].Tokens[0].Element
	if el.NamespaceURI() != wsf.NSSAML || el.Tag != "EncryptedAssertion" {
		t.Fatalf("token is {%s}%s, want saml:EncryptedAssertion", el.NamespaceURI(), el.Tag)
	}
	r.checkAsWSP(t, el)
	if bytes.Contains(first, []byte(echoUserID)) {
		t.Fatal("the WSP's local identifier is readable by the WSC")
	}
	compareOutline(t, payload)
	page, err := r.db.AuditEvents(context.Background(), store.AuditQuery{PrincipalID: principal})
	if err != nil {
		t.Fatal(err)
	}
	tokens := 0
	for _, e := range page.Events {
		if e.Action == discovery.AuditToken {
			tokens++
			if e.Actor != zxWSC || e.ProviderID != echoWSP {
				t.Fatalf("token event %+v", e)
			}
		}
	}
	if tokens != 1 {
		t.Fatalf("%d token events, want 1", tokens)
	}
}

// verifyAsZXID checks the DS's answer as the WSC does (wsf/client's
// VerifyResponse: the DS's metadata key, Timestamp, RelatesTo) and
// returns the verified QueryResponse.
func (r *replayDS) verifyAsZXID(t *testing.T, body []byte) *etree.Element {
	t.Helper()
	id, err := pki.MustGet().CA.Issue("zxid-replay-wsc", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{EntityID: zxWSC, Key: id.Key, Certificate: id.Cert,
		Directory: wsf.StaticDirectory{zxDS: wsf.NewPeer(zxDS, r.signer.Cert)}, HTTP: &http.Client{}, Schema: r.schema,
		Now: func() time.Time { return zxClock }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.VerifyResponse(context.Background(), body, zxMID, &wsf.EPR{Address: zxDSTo,
		Metadata: &wsf.EPRMetadata{ProviderID: zxDS}})
	if err != nil {
		t.Fatalf("the DS's answer as ZXID verifies it: %v", err)
	}
	return res.Payload
}

// TestZXIDQueryReplayStrict: from a WSC the DS holds to the strict
// profile the same bytes are refused at the first relaxed item, the
// rsa-sha1 signature.
func TestZXIDQueryReplayStrict(t *testing.T) {
	r := newReplayDS(t, nil)
	r.seed(t)
	resp := r.receive(r.request)
	if resp.Status != http.StatusInternalServerError || resp.Fault == nil ||
		resp.Fault.StatusCode() != wsf.InappropriateCredentials || !errors.Is(resp.Err, xmlsec.ErrAlgorithm) {
		t.Fatalf("HTTP %d, fault %v (%v): want InappropriateCredentials for SHA-1", resp.Status, resp.Fault, resp.Err)
	}
}

// zxidCert is the ZXID WSC's signing certificate from its metadata: the
// key the DS token confirms.
func zxidCert(t *testing.T) *x509.Certificate {
	t.Helper()
	doc, err := xmlsec.Parse(mustRead(t, "zxid-wsc-metadata.xml"), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kd := range doc.FindElements("//KeyDescriptor") {
		if kd.SelectAttrValue("use", "signing") != "signing" {
			continue
		}
		if c := kd.FindElement(".//X509Certificate"); c != nil {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Text()), ""))
			if err != nil {
				t.Fatal(err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			return cert
		}
	}
	t.Fatal("no signing certificate in the ZXID WSC's metadata")
	return nil
}

// queryOf is the di:Query of a captured envelope.
func queryOf(t *testing.T, body []byte) *etree.Element {
	t.Helper()
	doc, err := xmlsec.Parse(body, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	el := doc.FindElement("//Body/Query")
	if el == nil {
		t.Fatal("no di:Query in the capture")
	}
	return el
}

// checkAsWSP decrypts and checks the token as the echo WSP does: signed
// by the DS, audience the WSP, the subject's SPProvidedID its local
// identifier.
func (r *replayDS) checkAsWSP(t *testing.T, el *etree.Element) {
	t.Helper()
	ds := wsf.NewPeer(zxDS, r.signer.Cert)
	ds.TokenIssuer = true
	c := &secmech.TokenChecker{Self: echoWSP, Directory: wsf.StaticDirectory{zxDS: ds},
		Decrypter: &xmlenc.Decrypter{Key: r.wsp.Key.(*rsa.PrivateKey), EntityID: echoWSP}, Skew: time.Minute}
	tok, err := c.Check(context.Background(), el, zxClock, true)
	if err != nil {
		t.Fatalf("token as the echo WSP reads it: %v", err)
	}
	a := tok.Assertion
	if a.Conditions == nil || len(a.Conditions.AudienceRestrictions) != 1 ||
		!slices.Equal(a.Conditions.AudienceRestrictions[0].Audiences, []string{echoWSP}) {
		t.Fatalf("token conditions %+v", a.Conditions)
	}
	if n := tok.Subject; n == nil || n.SPProvidedID != echoUserID || n.SPNameQualifier != echoWSP || n.NameQualifier != zxIdP {
		t.Fatalf("token subject %+v", tok.Subject)
	}
}

// compareOutline compares our QueryResponse with the one ZXID's own DS
// gave (testdata/zxid-13-POST-zxididp_o_S-resp.http), down to the token:
// the same elements in the same order, but for one difference, checked
// as such: ZXID writes sbf:Framework first in the EPR's wsa:Metadata,
// ours follows ds:ServiceType (wsf.EPR's encoding; IDWSF2 §11 has every
// reader accept the Framework element wherever it stands, and ZXID
// looks it up by name). Attributes are not compared: ZXID adds
// wsa:EndpointReference notOnOrAfter and Id and wsa:Metadata rankKey,
// which ours leave out.
func compareOutline(t *testing.T, ours *etree.Element) {
	t.Helper()
	got := outline(t, ours)
	want := outline(t, queryResponse(t, httpBody(t, "zxid-13-POST-zxididp_o_S-resp.http")))
	const fwk = "   {urn:liberty:sb}Framework"
	if slices.Index(want, fwk) != 5 || slices.Index(got, fwk) != 8 {
		t.Fatalf("sbf:Framework at %d in ours, %d in ZXID's: the recorded difference changed", slices.Index(got, fwk), slices.Index(want, fwk))
	}
	got = slices.DeleteFunc(got, func(s string) bool { return s == fwk })
	want = slices.DeleteFunc(want, func(s string) bool { return s == fwk })
	if !slices.Equal(got, want) {
		t.Fatalf("QueryResponse outline\nours:\n  %s\nZXID's DS:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func queryResponse(t *testing.T, body []byte) *etree.Element {
	t.Helper()
	doc, err := xmlsec.Parse(body, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	el := doc.FindElement("//Body/QueryResponse")
	if el == nil {
		t.Fatalf("no QueryResponse in\n%s", body)
	}
	return el
}

// outline lists the elements of el, depth-first, as indented
// {namespace}local names, down to the token (saml:EncryptedAssertion,
// whose encryption is compared by the token checks instead).
func outline(t *testing.T, el *etree.Element) []string {
	var out []string
	var walk func(e *etree.Element, depth int)
	walk = func(e *etree.Element, depth int) {
		out = append(out, strings.Repeat(" ", depth)+"{"+e.NamespaceURI()+"}"+e.Tag)
		if e.Tag == "EncryptedAssertion" {
			return
		}
		for _, c := range e.ChildElements() {
			walk(c, depth+1)
		}
	}
	walk(el, 0)
	return out
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// httpBody is the body of a recorded HTTP message: what follows the
// blank line after the head.
func httpBody(t *testing.T, name string) []byte {
	t.Helper()
	b := mustRead(t, name)
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if _, body, ok := bytes.Cut(b, []byte(sep)); ok {
			return body
		}
	}
	t.Fatalf("%s: no HTTP head", name)
	return nil
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readRSAKey(t *testing.T, name string) *rsa.PrivateKey {
	t.Helper()
	blk, _ := pem.Decode(mustRead(t, name))
	if blk == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("%s: %T, want RSA", name, k)
	}
	return key
}

// TestLassoQueryReplay: Lasso's recorded Queries (in-process, and a Lasso
// WSC to zxididp) carry no sbf:Framework header, no signature and no
// Timestamp (IDWSF2 §11 item 19). The DS refuses both at IDWSF2 §2.3 step
// 2 with FrameworkVersionMismatch, under the strict profile and under
// Lasso's alike: §11 lets a Lasso peer send an unsigned Bearer message,
// but nothing relaxes the Framework header, and none is added here. So no
// replay reaches the signature, Timestamp or token checks. The peers'
// keys do not matter (the test PKI's stand in): nothing is verified
// before the refusal.
func TestLassoQueryReplay(t *testing.T) {
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	id, err := pki.MustGet().CA.Issue("lasso-replay", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, c := range []struct{ name, file, ds, sender string }{
		{"lasso-in-process", "lasso-02-Query-req.xml", "http://idp5/metadata", "http://sp6/metadata"},
		{"lasso-to-zxid", "lasso2zxid-2-Query-req.xml", "http://127.0.0.1:8081/zxididp?o=B", "http://127.0.0.1:8083/zxcall?o=B"},
	} {
		for _, p := range []wsf.Profile{wsf.Strict, wsf.Lasso} {
			t.Run("fail/"+c.name+"/"+p.Name+"/no-framework", func(t *testing.T) {
				snd := wsf.NewPeer(c.sender, id.Cert)
				snd.Profile = p
				iss := wsf.NewPeer(c.ds, id.Cert) // the DS token's issuer: the IdP co-located with the DS
				iss.TokenIssuer = true
				rcv, err := server.New(server.Config{EntityID: c.ds, Key: id.Key, Certificate: id.Cert,
					Decrypter: &xmlenc.Decrypter{Key: id.Key.(*rsa.PrivateKey)}, Directory: wsf.StaticDirectory{c.sender: snd, c.ds: iss},
					Replay: wsfstore.Replay(db), Schema: schema, Mechanisms: []wsf.Mechanism{wsf.TLSSAMLV2, wsf.TLSBearer},
					Now: func() time.Time { return zxClock }})
				if err != nil {
					t.Fatal(err)
				}
				resp := rcv.Receive(context.Background(), server.Request{Body: mustRead(t, c.file), TLS: true})
				if resp.Status != http.StatusInternalServerError || resp.Fault == nil ||
					resp.Fault.StatusCode() != wsf.FrameworkVersionMismatch {
					t.Fatalf("HTTP %d, fault %v (%v): want FrameworkVersionMismatch", resp.Status, resp.Fault, resp.Err)
				}
			})
		}
	}
	// Past the header, Lasso's in-process DS token could not be read
	// either: its EncryptedID is aes128-cbc under rsa-1_5 key transport,
	// and the DS decrypts AES-GCM under RSA-OAEP only (xmlenc's defaults:
	// CBC and PKCS#1 v1.5 key transport are padding oracles). It is
	// refused for its algorithms, before any key is tried.
	t.Run("fail/lasso-in-process/token-encryption-algorithms", func(t *testing.T) {
		doc, err := xmlsec.Parse(mustRead(t, "lasso-02-Query-req.xml"), xmlsec.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		ed := doc.FindElement("//Subject/EncryptedID/EncryptedData")
		if ed == nil {
			t.Fatal("no EncryptedID in Lasso's token")
		}
		key := id.Key.(*rsa.PrivateKey)
		_, err = (&xmlenc.Decrypter{Key: key}).Decrypt(ed)
		if !errors.Is(err, xmlsec.ErrAlgorithm) || !strings.Contains(err.Error(), xmlenc.AES128CBC) {
			t.Fatalf("Lasso's EncryptedID: %v, want aes128-cbc refused", err)
		}
		// A probe, not a configuration: with CBC let through, the key
		// transport is refused next, still before the key is used.
		_, err = (&xmlenc.Decrypter{Key: key, DataAlgorithms: []string{xmlenc.AES128CBC}}).Decrypt(ed)
		if !errors.Is(err, xmlsec.ErrAlgorithm) || !strings.Contains(err.Error(), xmlenc.RSA15) {
			t.Fatalf("Lasso's EncryptedKey: %v, want rsa-1_5 refused", err)
		}
	})
}
