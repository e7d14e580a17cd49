package sp_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/golden"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// The fuzz targets feed the SP's three inbound entry points, each after
// the binding decoder that saml/binding fuzzes already: Consume with a
// parsed Response, ReceiveLogoutRequest with a raw query, and
// ReceiveLogoutSOAP with an envelope. The seeds (testdata/fuzz, written by
// TestFuzzSeeds -update) are real messages of the fake IdP, signed with
// the fixed key of testdata/fuzz-keys.pem and encrypted for the fixed SP
// key there, at the frozen clock of newEnv, so that they pass every check
// in every run and mutations reach each step. Whatever the input: no
// panic, every refusal typed, and an accepted message names only the
// subject the IdP signed.
//
// A Response costs milliseconds (schema, decryption, two signatures), so
// the fuzzer's default minute of minimizing each new input of 10 KB
// stalls the run: fuzz with -fuzzminimizetime 2s.

// fuzzRequestID is the request the seeds answer; the fuzz store has it
// pending for ever.
const fuzzRequestID = "_fuzz-request"

// fuzzStore has every request pending and has seen no ID: a seed passes
// however often it is replayed.
type fuzzStore struct{}

func (fuzzStore) PutArtifact(context.Context, store.Artifact) error     { return nil }
func (fuzzStore) ReplaceArtifact(context.Context, store.Artifact) error { return nil }

func (fuzzStore) TakeArtifact(_ context.Context, handle string, _ time.Time) (store.Artifact, error) {
	return store.Artifact{Handle: handle, Issuer: spID, Recipient: idpID, Message: []byte(`{}`)}, nil
}

func (fuzzStore) CheckAndInsert(context.Context, store.ReplayKey, time.Time, time.Time) error {
	return nil
}

func (fuzzStore) Seen(context.Context, store.ReplayKey, time.Time) (bool, error) { return false, nil }

// fuzzKeys are the fixed IdP signing key, SP encryption key and SP
// signing key of the corpus, self-certified: trust goes by key, and a
// fuzz worker, a process of its own, must not spend its first seconds
// generating RSA keys.
func fuzzKeys(tb testing.TB) keys {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz-keys.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	var ids []*pki.Identity
	for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, selfCertified(tb, k.(crypto.Signer)))
	}
	if len(ids) != 3 {
		tb.Fatalf("testdata/fuzz-keys.pem holds %d keys, want the IdP's and the SP's two", len(ids))
	}
	return keys{idp: ids[0], spEnc: ids[1], spSign: ids[2]}
}

func selfCertified(tb testing.TB, key crypto.Signer) *pki.Identity {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "renkei fuzz"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &pki.Identity{Key: key, Cert: cert}
}

// fuzzEnv accepts plain signed assertions too, so that mutations of the
// assertion reach the signature check rather than stop at ErrUnencrypted.
func fuzzEnv(tb testing.TB) *env {
	return newEnvKeys(tb, fuzzKeys(tb), func(c *sp.Config) { c.Store, c.AllowPlainAssertions = fuzzStore{}, true })
}

// consumeSeeds are Responses to fuzzRequestID: the IdP's shape, an
// unsigned Response around the encrypted signed assertion, a plain signed
// assertion, and a signed error status.
func consumeSeeds(e *env) []string {
	id := fuzzRequestID
	return serialized(e,
		e.idpResponse(id, e.assertion(id)),
		e.response(id, success, nil, e.encrypt(e.sign(e.assertion(id), e.signer()))),
		e.response(id, success, nil, e.sign(e.assertion(id), e.signer())),
		e.response(id, samlp.NewStatus(samlp.StatusResponder, samlp.StatusNoPassive), e.signer()))
}

// logoutQuerySeeds are the IdP's LogoutRequest query-signed, the same
// unsigned, and a LogoutResponse where a request is expected.
func logoutQuerySeeds(e *env) []string {
	req := e.idpLogoutRequest("_fuzz-slo", sloURL).Element()
	return []string{redirectQuery(e.t, req, "chain", e.k.idp.Key, ""), redirectQuery(e.t, req, "", nil, ""),
		redirectQuery(e.t, e.logoutResponse("_x", success).Element(), "", e.k.idp.Key, "")}
}

// logoutSOAPSeeds are the IdP's back-channel LogoutRequest, signed and
// unsigned.
func logoutSOAPSeeds(e *env) []string {
	return []string{string(e.soapRequest(e.idpLogoutRequest("_fuzz-soap", ""), e.signer())),
		string(e.soapRequest(e.idpLogoutRequest("_fuzz-soap", soapURL), nil))}
}

func serialized(e *env, els ...*etree.Element) []string {
	var out []string
	for _, el := range els {
		b, err := xmlsec.Serialize(el)
		e.must(err)
		out = append(out, string(b))
	}
	return out
}

// typed fails t when err is not one of the package's typed refusals:
// the fuzz store and the clock never fail, so KindInternal is a bug.
func typed(t *testing.T, err error) {
	t.Helper()
	if err != nil && sp.KindOf(err) == sp.KindInternal {
		t.Fatalf("untyped or internal refusal: %v", err)
	}
}

// signedSubject fails t when an accepted message names anyone but the
// subject the fake IdP signed.
func signedSubject(t *testing.T, nid *saml.NameID) {
	t.Helper()
	if nid == nil || nid.Value != pseudo || nid.SPNameQualifier != spID {
		t.Fatalf("accepted for %+v: the IdP signed only %s", nid, pseudo)
	}
}

// FuzzConsume: a Response, as the POST decoder parses it, to Consume.
func FuzzConsume(f *testing.F) {
	e := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlsec.ParseElement(b, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		l, err := e.sp.Consume(ctx, &binding.POSTMessage{Param: binding.ParamResponse, Element: el}, fuzzRequestID)
		typed(t, err)
		if err == nil {
			signedSubject(t, l.NameID)
			if l.SessionIndex != spSessIx || l.Bootstrap == nil || l.Bootstrap.Address != dsSOAP {
				t.Fatalf("accepted a login the IdP did not sign: %+v", l)
			}
		}
	})
}

// FuzzReceiveLogoutRequest: a query string at the SLO endpoint.
func FuzzReceiveLogoutRequest(f *testing.F) {
	e := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, q string) {
		l, err := e.sp.ReceiveLogoutRequest(ctx, q)
		typed(t, err)
		switch {
		case err == nil:
			signedSubject(t, l.NameID)
		case l != nil && l.NameID != nil:
			t.Fatalf("a refused request names %+v to log out", l.NameID)
		}
	})
}

// FuzzReceiveLogoutSOAP: a body at the SOAP SLO endpoint. The reply is
// always a SOAP envelope; sessions end only for the signed subject, and
// never with a fault.
func FuzzReceiveLogoutSOAP(f *testing.F) {
	e := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var ended *sp.IdPLogout
		reply, err := e.sp.ReceiveLogoutSOAP(ctx, bytes.NewReader(b), func(_ context.Context, l *sp.IdPLogout) error {
			ended = l
			return nil
		})
		typed(t, err)
		if reply == nil {
			t.Fatalf("no reply: %v", err)
		}
		if _, derr := (&binding.SOAPDecoder{Understood: []string{}}).Decode(bytes.NewReader(reply.Envelope)); derr != nil && !reply.Fault {
			t.Fatalf("the reply is not a SOAP envelope: %v\n%s", derr, reply.Envelope)
		}
		if ended != nil {
			signedSubject(t, ended.NameID)
			if reply.Fault || reply.Logout != ended || err != nil {
				t.Fatalf("sessions ended, but the reply is %+v, %v", reply, err)
			}
		}
	})
}

// fuzzECPEnv is fuzzEnv with the PAOS consumer too.
func fuzzECPEnv(tb testing.TB) *env {
	return newEnvKeys(tb, fuzzKeys(tb), func(c *sp.Config) {
		c.Store, c.AllowPlainAssertions, c.ECPACSURL = fuzzStore{}, true, ecpURL
	})
}

// ecpSeeds are SOAP answers to fuzzRequestID: the IdP's shape, one whose
// ecp:Response names another consumer, one without the header, and a
// SOAP fault.
func ecpSeeds(e *env) []string {
	id := fuzzRequestID
	fault, err := xmlsec.Serialize((&binding.Envelope{Body: (&binding.Fault{Code: binding.FaultClient, String: "no"}).Element()}).Element())
	e.must(err)
	return []string{string(e.ecpAnswer(id, ecpURL, ecpURL, e.ecpAssertion(id))),
		string(e.ecpAnswer(id, "https://evil.example/acs", ecpURL, e.ecpAssertion(id))),
		string(e.ecpAnswer(id, "", ecpURL, e.ecpAssertion(id))), string(fault)}
}

// FuzzConsumeECP: the IdP's SOAP answer to an ECP request, as the
// terminal receives it from the network.
func FuzzConsumeECP(f *testing.F) {
	e := fuzzECPEnv(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := e.sp.ConsumeECP(ctx, bytes.NewReader(b), fuzzRequestID)
		typed(t, err)
		if err == nil {
			signedSubject(t, l.NameID)
			if l.SessionIndex != spSessIx || l.Bootstrap == nil || l.Bootstrap.Address != dsSOAP {
				t.Fatalf("accepted a login the IdP did not sign: %+v", l)
			}
		}
	})
}

// TestFuzzSeeds checks the committed corpus of each target, and rewrites
// it under -update: the first seed of each is the IdP's own message and
// must still be accepted at the frozen clock with the fixed keys, or the
// corpus no longer reaches past the signature checks.
func TestFuzzSeeds(t *testing.T) {
	e := fuzzEnv(t)
	targets := []struct {
		name, typ string
		seeds     func(*env) []string
		accepted  func(seed string) error
	}{
		{"FuzzConsume", "[]byte", consumeSeeds, func(s string) error {
			el, err := xmlsec.ParseElement([]byte(s), xmlsec.Limits{})
			if err != nil {
				return err
			}
			_, err = e.sp.Consume(ctx, &binding.POSTMessage{Param: binding.ParamResponse, Element: el}, fuzzRequestID)
			return err
		}},
		{"FuzzReceiveLogoutRequest", "string", logoutQuerySeeds, func(s string) error {
			_, err := e.sp.ReceiveLogoutRequest(ctx, s)
			return err
		}},
		{"FuzzConsumeECP", "[]byte", ecpSeeds, func(s string) error {
			_, err := fuzzECPEnv(t).sp.ConsumeECP(ctx, strings.NewReader(s), fuzzRequestID)
			return err
		}},
		{"FuzzReceiveLogoutSOAP", "[]byte", logoutSOAPSeeds, func(s string) error {
			reply, err := e.sp.ReceiveLogoutSOAP(ctx, strings.NewReader(s), func(context.Context, *sp.IdPLogout) error { return nil })
			if err == nil && reply.Logout == nil {
				err = fmt.Errorf("no session ended")
			}
			return err
		}},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "fuzz", tg.name)
			if golden.Update() {
				writeCorpus(t, dir, tg.typ, tg.seeds(e))
			}
			seeds := readCorpus(t, dir)
			if len(seeds) < 2 {
				t.Fatalf("%s: %d seeds (run with -update to write them)", dir, len(seeds))
			}
			if err := tg.accepted(seeds[0]); err != nil {
				t.Fatalf("%s/seed-00, the IdP's own message, is refused: %v", dir, err)
			}
		})
	}
}

func writeCorpus(t *testing.T, dir, typ string, seeds []string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n%s(%s)\n", typ, strconv.Quote(s))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readCorpus reads the seed files of dir, in name order.
func readCorpus(t *testing.T, dir string) []string {
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ent := range es {
		b, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(string(b), "\n")
		open := strings.IndexByte(rest, '(')
		if !ok || open < 0 {
			t.Fatalf("%s/%s is not a fuzz corpus file", dir, ent.Name())
		}
		v, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(rest[open+1:]), ")"))
		if err != nil {
			t.Fatalf("%s/%s: %v", dir, ent.Name(), err)
		}
		out = append(out, v)
	}
	return out
}
