package wsp_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// The recorded WSP call of testdata/README.md (ZXID 1.43's zxcall calling
// ZXID's WSP for urn:x-echo over the full ID-WSF SOAP binding), replayed
// against our WSP's receiver with the clock frozen, and the shape of the
// requests our WSC sends compared with it.
//
// What the captures hold and lack decides how far the replay goes:
//
//   - zxcall's signing certificate is in none of them (its metadata was
//     never fetched, and its signature has no KeyInfo), so the captured
//     SignatureValue verifies against no key we have. A stand-in key is
//     given to zxcall in the test's metadata and the captured
//     SignatureValue, and nothing else, is replaced by a signature over
//     ZXID's own SignedInfo with it (standInSigned): every Reference,
//     transform, SHA-1 digest, ID and header block stays ZXID's, byte for
//     byte, and is verified as ZXID wrote it.
//   - The WSP's private key is in none of them either (only its
//     certificates, in its metadata and in the token's EncryptedKey), so
//     the captured EncryptedAssertion cannot be opened: the replay fails
//     at token decryption, which TestZXIDEchoReplay shows happens after
//     every earlier step passed (and, by default, one check earlier, at
//     the non-standard AES-256-GCM URI ZXID writes).
//   - Past that step, the token is replaced (withToken) by the one our DS
//     gives a ZXID WSC for a Bearer WSP (discovery's EncryptBearer): a
//     bearer EncryptedAssertion for the WSP alone, as ZXID's is. ZXID's
//     signature does not cover its token (its STR is empty and signed,
//     the EncryptedAssertion is not referenced), so the swap leaves every
//     digest intact.
//   - ZXID's own token (its plaintext, from ZXID's log) could not pass
//     our WSP even with the key and that URI listed: it has no
//     SubjectConfirmation (TestZXIDWSPToken).

// The capture's federation.
const (
	zxWSP      = "http://127.0.0.1:8082/zxidwspcgi?o=B" // the token's audience, the WSP's entityID
	zxWSPTo    = "http://127.0.0.1:8082/zxidwspcgi"     // the request's wsa:To
	zxWSC      = "http://127.0.0.1:8083/zxcall?o=B"     // sb:Sender
	zxDS       = "http://127.0.0.1:8081/zxididp?o=B"    // IdP and DS, the token's issuer
	zxMID      = "urn:MLBssg6RYV2VghA4dEPkzap7F"
	zxIdPNID   = "FU24fwhVOFVLVAUbpxuAz-F1x" // the principal at ZXID's IdP (the WSP's answer names it)
	echoNS     = "urn:x-echo"
	echoAction = "urn:x-echo:Request"
)

// zxClock is the request's wsu:Created, the token's IssueInstant.
var zxClock = time.Date(2026, 11, 25, 5, 56, 9, 0, time.UTC)

func frozen() time.Time { return zxClock }

// standIns are test keys in the places the captures leave empty, and our
// WSP's and WSC's own keys.
type standIns struct {
	zxcall *pki.Identity // zxcall's signing key (not captured)
	ds     *pki.Identity // the token issuer's signing key (not captured)
	wsp    *pki.Identity // our WSP: signs its answers, decrypts its tokens
	wsc    *pki.Identity // our WSC, for the outgoing shape
}

var (
	keysOnce sync.Once
	keysVal  standIns
	keysErr  error
)

func keys(t *testing.T) standIns {
	t.Helper()
	keysOnce.Do(func() {
		ca := pki.MustGet().CA
		for _, x := range []struct {
			dst  **pki.Identity
			name string
		}{{&keysVal.zxcall, "zxid-replay-zxcall"}, {&keysVal.ds, "zxid-replay-ds"},
			{&keysVal.wsp, "zxid-replay-wsp"}, {&keysVal.wsc, "zxid-replay-wsc"}} {
			if *x.dst, keysErr = ca.Issue(x.name, pki.RSA2048); keysErr != nil {
				return
			}
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return keysVal
}

func schema(t *testing.T) *xsd.Schema {
	t.Helper()
	s, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// noBackend and noAudit stand for the back office and the audit log of
// the WSP engine: no replayed request reaches a DST operation, and a call
// to either would panic.
type (
	noBackend struct{ wsp.Backend }
	noAudit   struct{ store.AuditLog }
)

// setup is how a replay configures our WSP: zxcall's profile, a service
// for the capture's wsa:Action, and whether the WSP's Decrypter lists the
// AES-256-GCM URI ZXID writes (xmlenc.ZXIDAES256GCM, off by default).
type setup struct {
	profile    wsf.Profile
	echo       server.Service
	zxidGCMURI bool
}

// replayWSP is our WSP as the capture's: its entityID and address, a DST
// service of its own mounted by the engine (wsp.Mount), the clock frozen,
// and zxcall known with the stand-in key.
func replayWSP(t *testing.T, s setup) *server.Receiver {
	t.Helper()
	k := keys(t)
	snd := wsf.NewPeer(zxWSC, k.zxcall.Cert)
	snd.Profile = s.profile
	ds := wsf.NewPeer(zxDS, k.ds.Cert)
	ds.TokenIssuer = true
	dec := &xmlenc.Decrypter{Key: k.wsp.Key.(*rsa.PrivateKey), EntityID: zxWSP}
	if s.zxidGCMURI {
		dec.DataAlgorithms = append(xmlenc.DefaultDataAlgorithms(), xmlenc.ZXIDAES256GCM)
	}
	cfg := server.Config{EntityID: zxWSP, Endpoints: []string{zxWSPTo}, Key: k.wsp.Key, Certificate: k.wsp.Cert,
		Decrypter: dec,
		Directory: wsf.StaticDirectory{zxWSC: snd, zxDS: ds}, Replay: server.NewMemoryReplayCache(),
		Schema: schema(t), Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2, wsf.TLSSAMLV2, wsf.TLSBearer}, Now: frozen}
	engine, err := wsp.New(wsp.Config{EntityID: zxWSP, Backend: noBackend{}, Audit: noAudit{},
		Services: []wsp.ServiceConfig{{Type: dst.Clinical, Items: []string{"LabResult"}}}, Now: frozen})
	if err != nil {
		t.Fatal(err)
	}
	engine.Mount(&cfg)
	if s.echo != nil {
		cfg.Handle(echoAction, s.echo)
	}
	rcv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rcv
}

// receive presents a request as our WSP's TLS listener would: zxcall
// spoke plain HTTP on loopback, a deployment speaks https, and zxcall
// shows no client certificate (it proves itself by the signature).
func receive(rcv *server.Receiver, body []byte) *server.Response {
	return rcv.Receive(context.Background(), server.Request{Body: body, TLS: true})
}

// TestZXIDEchoReplay replays zxcall's urn:x-echo request (zxid-14) under
// ZXID's peer profile.
func TestZXIDEchoReplay(t *testing.T) {
	captured := httpBody(t, "zxid-14-POST-zxidwspcgi-req.http")
	signed := standInSigned(t, captured)
	replay := withToken(t, signed, bearerToken(t))

	// As captured: steps 1-4 pass (Framework, MessageID, zxcall in the
	// metadata) and step 5 accepts ZXID's rsa-sha1, its enveloped
	// transforms and its id="BDY" and resolves every Reference, then
	// stops at the SignatureValue: zxcall's key is not captured.
	t.Run("fail/as-captured/zxcall-key-not-captured", func(t *testing.T) {
		resp := receive(replayWSP(t, setup{profile: wsf.ZXID}), captured)
		wantFault(t, resp, wsf.FaultFailedCheck, wsf.InappropriateCredentials, xmlsec.ErrSignature)
	})

	// With the stand-in signature the message passes step 5 whole (the
	// signature, ZXID's eight SHA-1 digests, coverage of every sb, sbf
	// and wsa block, the Body and the Timestamp at the frozen clock) and
	// the schema, and reaches step 7 with its EncryptedAssertion. There
	// our WSP, as configured by default, refuses the token for its block
	// encryption before any key is tried: ZXID writes AES-256-GCM as
	// "http://www.w3.org/2001/04/xmlenc11#aes256-gcm", in no XML
	// Encryption namespace, which a Decrypter accepts only when it lists
	// xmlenc.ZXIDAES256GCM.
	t.Run("fail/stand-in-signature/zxid-gcm-uri", func(t *testing.T) {
		resp := receive(replayWSP(t, setup{profile: wsf.ZXID}), signed)
		wantFault(t, resp, wsf.FaultUnsupportedAlgorithm, wsf.InappropriateCredentials, xmlsec.ErrAlgorithm)
	})
	// With that URI listed, every algorithm of the token is accepted
	// (ZXID's AES-256-GCM, rsa-oaep-mgf1p) and it fails exactly at
	// decryption: it is for ZXID's WSP key, which the captures do not
	// hold. Nothing was recorded: the same bytes again fail the same way,
	// not as DuplicateMsg.
	t.Run("fail/stand-in-signature/wsp-key-not-captured", func(t *testing.T) {
		rcv := replayWSP(t, setup{profile: wsf.ZXID, zxidGCMURI: true})
		for range 2 {
			wantFault(t, receive(rcv, signed), wsf.FaultFailedCheck, wsf.InappropriateCredentials, xmlsec.ErrDecrypt)
		}
	})

	// Our WSP does not offer urn:x-echo: the request, verified whole, is
	// answered as an unknown action is, IDStarMsgNotUnderstood, in a
	// fault signed by our key that relates to ZXID's MessageID.
	t.Run("fail/unknown-action", func(t *testing.T) {
		resp := receive(replayWSP(t, setup{profile: wsf.ZXID}), replay)
		wantFault(t, resp, wsf.FaultClient, wsf.IDStarMsgNotUnderstood, wsf.ErrMsgNotUnderstood)
		_, err := verifyAsZXCall(t, resp.Body)
		var f *wsf.Fault
		if !errors.As(err, &f) || f.StatusCode() != wsf.IDStarMsgNotUnderstood {
			t.Fatalf("the fault as zxcall reads it: %v", err)
		}
	})

	// With an echo service for the action, the request is served: the
	// service gets ZXID's payload under TLS:Bearer from a proven zxcall,
	// for the principal the token names; the answer verifies as a WSC
	// verifies it (our metadata key, Timestamp, RelatesTo = ZXID's
	// MessageID) and carries, signed, every header block ZXID's own WSP
	// answered with. The same bytes again are DuplicateMsg.
	t.Run("ok/echo", func(t *testing.T) {
		var got *server.Message
		rcv := replayWSP(t, setup{profile: wsf.ZXID, echo: server.ServiceFunc(func(_ context.Context, m *server.Message) (*server.Reply, error) {
			got = m
			resp := etree.NewElement("echo:Response")
			resp.CreateAttr("xmlns:echo", echoNS)
			resp.AddChild(m.Payload.Copy())
			return &server.Reply{Payload: resp}, nil
		})})
		resp := receive(rcv, replay)
		if resp.Status != http.StatusOK || resp.Fault != nil {
			t.Fatalf("HTTP %d, fault %v (%v)", resp.Status, resp.Fault, resp.Err)
		}
		if got == nil || got.Header.MessageID != zxMID || got.Sender.EntityID != zxWSC || !got.SenderProven ||
			got.Invocation.Mechanism != wsf.TLSBearer || got.Invocation.Token.Subject.Value != zxIdPNID {
			t.Fatalf("served message %+v", got)
		}
		res, err := verifyAsZXCall(t, resp.Body)
		if err != nil {
			t.Fatalf("the answer as zxcall verifies it: %v", err)
		}
		echoed := res.Payload.FindElement("./Request")
		if res.Payload.Tag != "Response" || res.Payload.NamespaceURI() != echoNS || echoed == nil || echoed.Text() != "Hello WSP" {
			t.Fatalf("answer payload %s", serialize(t, res.Payload))
		}
		ours, zx := parse(t, resp.Body), parse(t, httpBody(t, "zxid-14-POST-zxidwspcgi-resp.http"))
		wantSuperset(t, "header blocks of the answer", headerBlocks(ours), headerBlocks(zx))
		wantSuperset(t, "signed parts of the answer", signedParts(t, ours), signedParts(t, zx))
		if again := receive(rcv, replay); again.Fault == nil || again.Fault.StatusCode() != wsf.DuplicateMsg {
			t.Fatalf("replay: HTTP %d, fault %v, want DuplicateMsg", again.Status, again.Fault)
		}
	})

	// The Body changed after signing: the SignatureValue still verifies
	// (SignedInfo is untouched) and the BDY digest does not.
	t.Run("fail/body-altered", func(t *testing.T) {
		bad := replaceOnce(t, replay, ">Hello WSP<", ">Hello WSQ<")
		resp := receive(replayWSP(t, setup{profile: wsf.ZXID}), bad)
		wantFault(t, resp, wsf.FaultFailedCheck, wsf.InappropriateCredentials, xmlsec.ErrDigest)
	})

	// From a zxcall held to the strict profile the same bytes are refused
	// at the first relaxed item, the rsa-sha1 SignatureMethod, before any
	// key is tried; the captured bytes alike. With SHA-1 allowed but not
	// the unqualified id, the Reference to #BDY resolves to nothing.
	t.Run("fail/strict-profile/rsa-sha1", func(t *testing.T) {
		for _, b := range [][]byte{replay, captured} {
			resp := receive(replayWSP(t, setup{profile: wsf.Strict}), b)
			wantFault(t, resp, wsf.FaultUnsupportedAlgorithm, wsf.InappropriateCredentials, xmlsec.ErrAlgorithm)
		}
	})
	t.Run("fail/zxid-profile-without-unqualified-id", func(t *testing.T) {
		p := wsf.ZXID
		p.UnqualifiedID = false
		resp := receive(replayWSP(t, setup{profile: p}), replay)
		wantFault(t, resp, wsf.FaultFailedCheck, wsf.InappropriateCredentials, xmlsec.ErrReference)
	})
}

// wantFault checks a refusal: HTTP 500, the faultcode, the lu:Status
// code and the private cause.
func wantFault(t *testing.T, resp *server.Response, code wsf.FaultCode, status wsf.Code, cause error) {
	t.Helper()
	if resp.Status != http.StatusInternalServerError || resp.Fault == nil || resp.Fault.Code != code ||
		resp.Fault.StatusCode() != status || !errors.Is(resp.Err, cause) {
		t.Fatalf("HTTP %d, fault %v (%v): want %s %s for %v", resp.Status, resp.Fault, resp.Err, code.Local, status, cause)
	}
}

// verifyAsZXCall checks an answer of our WSP as a WSC does (wsf/client's
// VerifyResponse: our metadata key, the schemas, Timestamp, RelatesTo =
// the captured MessageID); a verified fault is its *wsf.Fault.
func verifyAsZXCall(t *testing.T, body []byte) (*client.Result, error) {
	t.Helper()
	k := keys(t)
	c, err := client.New(client.Config{EntityID: zxWSC, Key: k.zxcall.Key, Certificate: k.zxcall.Cert,
		Directory: wsf.StaticDirectory{zxWSP: wsf.NewPeer(zxWSP, k.wsp.Cert)}, HTTP: &http.Client{},
		Schema: schema(t), Now: frozen})
	if err != nil {
		t.Fatal(err)
	}
	return c.VerifyResponse(context.Background(), body, zxMID, &wsf.EPR{Address: zxWSPTo,
		Metadata: &wsf.EPRMetadata{ProviderID: zxWSP}})
}

// standInSigned replaces the SignatureValue of the captured message by
// one made with zxcall's stand-in key over the captured SignedInfo
// (exclusive c14n in its document, rsa-sha1 as ZXID signed). The bytes
// are otherwise unchanged.
func standInSigned(t *testing.T, body []byte) []byte {
	t.Helper()
	return resign(t, body, parse(t, body).FindElement("./Header/Security/Signature"), xmlsec.ModeWSSecurity, keys(t).zxcall)
}

// resign replaces the SignatureValue of sig, an element of the parsed
// body, by id's signature over its SignedInfo.
func resign(t *testing.T, body []byte, sig *etree.Element, mode xmlsec.Mode, id *pki.Identity) []byte {
	t.Helper()
	if sig == nil {
		t.Fatal("no ds:Signature")
	}
	pol := wsf.ZXID.Policy()
	s, err := xmlsec.ParseSignature(sig, mode, pol)
	if err != nil {
		t.Fatal(err)
	}
	si, err := xmlsec.C14N{PrefixList: s.SignedInfo.PrefixList}.Canonicalize(sig.SelectElement("ds:SignedInfo"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := xmlsec.SignBytes(nil, id.Key, s.SignedInfo.Method, si)
	if err != nil {
		t.Fatal(err)
	}
	old := sig.SelectElement("ds:SignatureValue").Text()
	return replaceOnce(t, body, ">"+old+"<", ">"+base64.StdEncoding.EncodeToString(v)+"<")
}

// bearerToken is the token our DS mints for a WSP that takes TLS:Bearer
// (discovery Policy.EncryptBearer): a bearer assertion signed by the
// issuer, its subject encrypted for the WSP, the whole encrypted for the
// WSP; here for the capture's WSP and principal, issued at the capture's
// time for the hour ZXID's token lived.
func bearerToken(t *testing.T) []byte {
	t.Helper()
	k := keys(t)
	m := &secmech.Minter{Issuer: zxDS, Signer: &dsig.Signer{Key: k.ds.Key, Certificates: []*x509.Certificate{k.ds.Cert}}}
	tok, err := m.Mint(secmech.TokenRequest{Audience: zxWSP, Target: xmlenc.Recipient{EntityID: zxWSP, Cert: k.wsp.Cert},
		NameID:       &saml.NameID{Value: zxIdPNID, Format: saml.NameIDPersistent, NameQualifier: zxDS, SPNameQualifier: zxWSP},
		Confirmation: secmech.ConfirmBearer, Lifetime: time.Hour, EncryptAssertion: true}, zxClock)
	if err != nil {
		t.Fatal(err)
	}
	return serialize(t, tok.Element)
}

// withToken puts tok in place of the captured saml:EncryptedAssertion.
func withToken(t *testing.T, body, tok []byte) []byte {
	t.Helper()
	start := bytes.Index(body, []byte("<sa:EncryptedAssertion"))
	const endTag = "</sa:EncryptedAssertion>"
	end := bytes.Index(body, []byte(endTag))
	if start < 0 || end < start || bytes.Count(body, []byte(endTag)) != 1 {
		t.Fatal("no single saml:EncryptedAssertion in the capture")
	}
	return slices.Concat(body[:start], tok, body[end+len(endTag):])
}

// TestZXIDWSPToken reads the capture's WSP token as ZXID's log recorded
// its plaintext, and finds what, beside the GCM URI of TestZXIDEchoReplay,
// keeps it from passing our WSP:
//   - it, and the EncryptedID of its subject, are encrypted for the
//     encryption key of ZXID's WSP metadata (zxid-15), whose private key
//     the captures do not hold;
//   - ZXID's IdP signed it with a key the captures do not hold either
//     (no KeyInfo, and zxididp's metadata was never fetched): a stand-in
//     signature over its SignedInfo is what is verified here;
//   - it has no SubjectConfirmation at all. Under wsf.ZXID, which does not
//     relax IDWSF2 §11 item 9 (recorded there for Lasso), it is neither
//     holder-of-key nor bearer, and the receiver refuses it
//     (InappropriateCredentials, saml.ErrConfirmation). Renkei's WSPs take
//     tokens from Renkei's DS, which always confirms them (ARCHITECTURE
//     "Tokens from the DS"), so the profile is not relaxed for this; the
//     check fails if either side changes.
func TestZXIDWSPToken(t *testing.T) {
	k := keys(t)
	raw := mustRead(t, "zxid-14-wsp-token-plaintext.xml")
	t.Run("encrypted-for-the-wsp-metadata-key", func(t *testing.T) {
		ek := parse(t, httpBody(t, "zxid-14-POST-zxidwspcgi-req.http")).FindElement("./Header/Security/EncryptedAssertion//EncryptedKey//X509Certificate")
		md := parse(t, httpBody(t, "zxid-15-GET-zxidwspcgi_o_B-resp.http"))
		enc := md.FindElement("//KeyDescriptor[@use='encryption']//X509Certificate")
		sub := parse(t, raw).FindElement("./Subject/EncryptedID//EncryptedKey//X509Certificate")
		if ek == nil || enc == nil || !cert(t, ek.Text()).Equal(cert(t, enc.Text())) {
			t.Fatal("the token's EncryptedKey is not for the encryption key of the WSP's metadata")
		}
		if sub == nil || !cert(t, sub.Text()).Equal(cert(t, enc.Text())) {
			t.Fatal("the token's EncryptedID is not for the encryption key of the WSP's metadata")
		}
		if md.SelectAttrValue("entityID", "") != zxWSP {
			t.Fatalf("metadata of %q", md.SelectAttrValue("entityID", ""))
		}
	})
	t.Run("no-subject-confirmation", func(t *testing.T) {
		el := parse(t, raw)
		b := resign(t, raw, el.SelectElement("ds:Signature"), xmlsec.ModeEnveloped, k.ds)
		v := &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{k.ds.Cert}), Policy: wsf.ZXID.Policy()}
		a, _, err := saml.VerifyAssertion(parse(t, b), v)
		if err != nil {
			t.Fatal(err)
		}
		if a.Issuer.Value != zxDS || !a.IssueInstant.Equal(zxClock) || a.CheckConditions(zxClock, time.Minute, zxWSP) != nil {
			t.Fatalf("token of %s at %s, conditions %+v", a.Issuer.Value, a.IssueInstant, a.Conditions)
		}
		if a.Subject == nil || a.Subject.EncryptedID == nil || len(a.Subject.Confirmations) != 0 {
			t.Fatalf("subject %+v", a.Subject)
		}
		tok := &secmech.Token{Assertion: a}
		if len(tok.HolderOfKeys(zxClock, time.Minute)) != 0 || tok.IsBearer(zxClock, time.Minute, wsf.ZXID.BearerWithoutConfirmation) {
			t.Fatal("ZXID's WSP token confirms under wsf.ZXID: the recorded refusal no longer holds")
		}
		if !tok.IsBearer(zxClock, time.Minute, true) {
			t.Fatal("not even §11 item 9 would accept it")
		}
	})
}

// TestOutgoingShape: the request our WSC sends to a WSP whose EPR offers
// ClientTLS:SAMLV2 with a holder-of-key token carries every header block
// ZXID's WSP processed in zxid-14, and its signature covers every element
// kind zxcall's did (compared by element, not by Id), Body included by a
// wsu:Id. The peer's profile changes nothing on the way out: wsf.ZXID
// only lets SHA-1 and ZXID's spellings in; our client signs rsa-sha256
// with sha256 digests and exc-c14n alone for ZXID as for a strict peer,
// and the two requests have the same shape. Whether ZXID 1.43 verifies
// rsa-sha256 is not shown here (no ZXID runs in the tests).
func TestOutgoingShape(t *testing.T) {
	k := keys(t)
	zx := parse(t, httpBody(t, "zxid-14-POST-zxidwspcgi-req.http"))
	zxBlocks, zxSigned := headerBlocks(zx), signedParts(t, zx)
	var shapes [][]string
	for _, p := range []wsf.Profile{wsf.Strict, wsf.ZXID} {
		t.Run("ok/"+p.Name, func(t *testing.T) {
			url, sent := recorder(t)
			peer := wsf.NewPeer(zxWSP, k.wsp.Cert)
			peer.Profile = p
			c, err := client.New(client.Config{EntityID: zxWSC, Key: k.wsc.Key, Certificate: k.wsc.Cert,
				Directory: wsf.StaticDirectory{zxWSP: peer}, HTTP: tlsClient(t, k.wsc), Schema: schema(t), Now: frozen})
			if err != nil {
				t.Fatal(err)
			}
			payload := etree.NewElement("echo:Request")
			payload.CreateAttr("xmlns:echo", echoNS)
			payload.SetText("Hello WSP")
			_, err = c.Call(context.Background(), &client.Call{EPR: holderOfKeyEPR(t, url), Action: echoAction, Payload: payload})
			if err == nil {
				t.Fatal("the recorder answered nothing, yet the call succeeded")
			}
			ours := parse(t, <-sent)
			checkHeader(t, ours, url)
			wantSuperset(t, "header blocks", headerBlocks(ours), zxBlocks)
			signed := signedParts(t, ours)
			wantSuperset(t, "signed parts", signed, zxSigned)
			body := ours.SelectElement("S:Body")
			if body == nil || !hasWSUID(body) {
				t.Fatal("S:Body has no wsu:Id to reference")
			}
			si := ours.FindElement("./Header/Security/Signature/SignedInfo")
			shape := append(slices.Clone(signed), algorithms(si)...)
			if !slices.Contains(shape, xmlsec.RSASHA256) || slices.Contains(shape, xmlsec.RSASHA1) {
				t.Fatalf("algorithms %v", algorithms(si))
			}
			shapes = append(shapes, shape)
		})
	}
	if len(shapes) == 2 && !slices.Equal(shapes[0], shapes[1]) {
		t.Fatalf("the ZXID profile changed the request:\nstrict %v\nzxid   %v", shapes[0], shapes[1])
	}
}

// checkHeader checks the values of the blocks ZXID's WSP reads: Framework
// 2.0, our providerID, a MessageID, the EPR's address, the action, and
// wsse:Security with a Timestamp (Created) and a Signature.
func checkHeader(t *testing.T, env *etree.Element, url string) {
	t.Helper()
	h := env.SelectElement("S:Header")
	text := func(ns, local string) string {
		for _, c := range h.ChildElements() {
			if c.NamespaceURI() == ns && c.Tag == local {
				return c.Text()
			}
		}
		return ""
	}
	fwk, snd := h.FindElement("./Framework"), h.FindElement("./Sender")
	if fwk == nil || fwk.NamespaceURI() != wsf.NSSBF || fwk.SelectAttrValue("version", "") != "2.0" {
		t.Fatal("no sbf:Framework version 2.0")
	}
	if snd == nil || snd.NamespaceURI() != wsf.NSSB || snd.SelectAttrValue("providerID", "") != zxWSC {
		t.Fatal("no sb:Sender with our providerID")
	}
	if text(wsf.NSWSA, "MessageID") == "" || text(wsf.NSWSA, "To") != url || text(wsf.NSWSA, "Action") != echoAction {
		t.Fatalf("wsa:MessageID %q, To %q, Action %q", text(wsf.NSWSA, "MessageID"), text(wsf.NSWSA, "To"), text(wsf.NSWSA, "Action"))
	}
	if h.FindElement("./Security/Timestamp/Created") == nil || h.FindElement("./Security/Signature") == nil {
		t.Fatal("wsse:Security without wsu:Timestamp/Created or ds:Signature")
	}
}

// holderOfKeyEPR is the EPR of a WSP at url offering ClientTLS:SAMLV2
// with a holder-of-key token for our WSC's key, minted by the test DS.
func holderOfKeyEPR(t *testing.T, url string) *wsf.EPR {
	t.Helper()
	k := keys(t)
	m := &secmech.Minter{Issuer: zxDS, Signer: &dsig.Signer{Key: k.ds.Key, Certificates: []*x509.Certificate{k.ds.Cert}}}
	tok, err := m.Mint(secmech.TokenRequest{Audience: zxWSP, Target: xmlenc.Recipient{EntityID: zxWSP, Cert: k.wsp.Cert},
		NameID:       &saml.NameID{Value: zxIdPNID, Format: saml.NameIDPersistent, NameQualifier: zxDS, SPNameQualifier: zxWSP},
		Confirmation: secmech.ConfirmHolderOfKey, Invoker: k.wsc.Cert, Lifetime: time.Hour}, zxClock)
	if err != nil {
		t.Fatal(err)
	}
	sc := wsf.SecurityContext{Mechanisms: []string{string(wsf.ClientTLSSAMLV2)},
		Tokens: []wsf.Token{{Usage: wsf.UsageSecurityToken, Element: tok.Element}}}
	return &wsf.EPR{Address: url, Metadata: &wsf.EPRMetadata{Abstract: "echo WSP", ProviderID: zxWSP,
		ServiceType: echoNS, Framework: wsf.FrameworkVersion, SecurityContexts: []wsf.SecurityContext{sc}}}
}

// recorder is a loopback TLS server that keeps each request body and
// answers 503.
func recorder(t *testing.T) (string, <-chan []byte) {
	t.Helper()
	sent := make(chan []byte, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case sent <- b:
		default:
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{tlsCert(keys(t).wsp)}, ClientAuth: tls.RequestClientCert,
		MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/zxidwspcgi", sent
}

// tlsClient trusts the test CA and presents id's certificate.
func tlsClient(t *testing.T, id *pki.Identity) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(pki.MustGet().CA.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{tlsCert(id)},
		MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func tlsCert(id *pki.Identity) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}
}

// headerBlocks names the S:Header children, and the wsse:Security
// children other than tokens (ZXID's is Bearer, ours holder-of-key), as
// {namespace}local.
func headerBlocks(env *etree.Element) []string {
	var out []string
	for _, c := range env.SelectElement(env.Space + ":Header").ChildElements() {
		out = append(out, name(c))
		if c.NamespaceURI() != wsf.NSWSSE || c.Tag != "Security" {
			continue
		}
		for _, s := range c.ChildElements() {
			if s.NamespaceURI() != wsf.NSSAML {
				out = append(out, name(c)+"/"+name(s))
			}
		}
	}
	return out
}

// signedParts resolves each Reference of the message signature to the
// element whose Id, ID or id it names, and returns their names.
func signedParts(t *testing.T, env *etree.Element) []string {
	t.Helper()
	var out []string
	for _, ref := range env.FindElements("./Header/Security/Signature/SignedInfo/Reference") {
		id := strings.TrimPrefix(ref.SelectAttrValue("URI", ""), "#")
		var hit []*etree.Element
		for _, el := range append([]*etree.Element{env}, env.FindElements("//*")...) {
			for _, a := range el.Attr {
				if (a.Key == "Id" || a.Key == "ID" || a.Key == "id") && a.Value == id {
					hit = append(hit, el)
				}
			}
		}
		if len(hit) != 1 {
			t.Fatalf("Reference #%s names %d elements", id, len(hit))
		}
		out = append(out, name(hit[0]))
	}
	slices.Sort(out)
	return out
}

// algorithms lists the SignedInfo's SignatureMethod, then each distinct
// transform and digest method.
func algorithms(si *etree.Element) []string {
	out := []string{si.SelectElement("ds:SignatureMethod").SelectAttrValue("Algorithm", "")}
	for _, el := range si.FindElements(".//Transform | .//DigestMethod") {
		if a := el.SelectAttrValue("Algorithm", ""); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func hasWSUID(el *etree.Element) bool {
	for _, a := range el.Attr {
		if a.Key == "Id" && a.NamespaceURI() == wsf.NSWSU {
			return true
		}
	}
	return false
}

func wantSuperset(t *testing.T, what string, ours, theirs []string) {
	t.Helper()
	for _, n := range theirs {
		if !slices.Contains(ours, n) {
			t.Fatalf("%s: ours lack %s\nours:   %v\nZXID's: %v", what, n, ours, theirs)
		}
	}
}

func name(el *etree.Element) string { return "{" + el.NamespaceURI() + "}" + el.Tag }

func cert(t *testing.T, b64 string) *x509.Certificate {
	t.Helper()
	der, err := xmlsec.DecodeBase64(b64)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func parse(t *testing.T, b []byte) *etree.Element {
	t.Helper()
	doc, err := xmlsec.Parse(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

func serialize(t *testing.T, el *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func replaceOnce(t *testing.T, b []byte, old, repl string) []byte {
	t.Helper()
	if n := bytes.Count(b, []byte(old)); n != 1 {
		t.Fatalf("%d occurrences of %.40q, want 1", n, old)
	}
	return bytes.Replace(b, []byte(old), []byte(repl), 1)
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
	b, err := os.ReadFile(filepath.Join("testdata", "zxid", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
