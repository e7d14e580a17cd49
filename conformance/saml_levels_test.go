package conformance

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// levelsEnv returns an Env whose target IdP signs with idp's key.
func levelsEnv(t *testing.T) (*Env, *SP, *SP) {
	t.Helper()
	now := time.Now().UTC()
	idp, err := NewSP("https://127.0.0.1/idp", "", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSP("https://127.0.0.1/other", "", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Target: &Target{Entity: &md.EntityDescriptor{EntityID: idp.EntityID},
		IDP: &md.IDPSSODescriptor{SSO: md.SSO{Role: md.Role{Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{idp.Cert}}}}}}}}
	return e, idp, other
}

func levelsSign(t *testing.T, m samlp.Message, by *SP, sha1 bool) *etree.Element {
	t.Helper()
	s := &dsig.Signer{Key: by.Key, Certificates: []*x509.Certificate{by.Cert}}
	if sha1 {
		s.SignatureMethod, s.DigestMethod = xmlsec.RSASHA1, "http://www.w3.org/2000/09/xmldsig#sha1"
		s.Policy.AllowSHA1 = true
	}
	el, err := samlp.Sign(m, s)
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// TestRunnerBackChannelSHA1: a back-channel answer signed with SHA-1 by a
// metadata key of the IdP verifies, and the case's pass becomes a
// practice warning, not a MUST failure; a wrong key still fails.
func TestRunnerBackChannelSHA1(t *testing.T) {
	base, idp, other := levelsEnv(t)
	resp := &samlp.ManageNameIDResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_r1", InResponseTo: "_q1",
		IssueInstant: time.Now().UTC(), Issuer: &saml.Issuer{Value: idp.EntityID}, Status: samlp.NewStatus(samlp.StatusSuccess, "")}}
	tests := []struct {
		name    string
		by      *SP
		verdict Verdict
		level   Level
	}{
		{"ok/sha256", idp, Pass, ""},
		{"warn/sha1-is-a-practice", idp, Advisory, LevelPractice},
		{"fail/sha1-other-key", other, Fail, LevelMust},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			el := levelsSign(t, resp, tc.by, tc.name != "ok/sha256")
			c := Case{ID: "nim-answer", Clause: "SAML Core §3.6.2", Row: "SAML2-Conf/nim-soap-sp", Role: RoleIdP, Positive: true,
				Run: func(ctx context.Context, e *Env) Outcome {
					if _, err := e.nimAnswer(el, "_q1"); err != nil {
						return outcomeOf(err)
					}
					return passed("verified")
				}}
			r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: []Case{c}, Rows: Matrix(), Only: []string{"nim"}}
			rep := r.Run(context.Background(), base)
			got := rep.Results[0]
			if got.Outcome.Verdict != tc.verdict || got.Outcome.Level != tc.level {
				t.Fatalf("%s at %q (%s), want %s at %q", got.Outcome.Verdict, got.Outcome.Level, got.Outcome.Reason, tc.verdict, tc.level)
			}
			if tc.verdict == Advisory && !strings.Contains(got.Outcome.Reason, "SHA-1") {
				t.Fatalf("reason %q does not name SHA-1", got.Outcome.Reason)
			}
		})
	}
}

// TestRunnerSubEnvWarnings: a warning of a sub-environment (another SP
// of the same case) reaches the case's result.
func TestRunnerSubEnvWarnings(t *testing.T) {
	e := &Env{}
	sub := *e
	sub.warn(LevelPractice, "sha1")
	e.adoptWarnings(&sub)
	sub2 := *e
	sub2.warn(LevelShould, "unsigned")
	e.adoptWarnings(&sub2)
	if e.weakLvl != LevelShould || !strings.Contains(e.weak, "sha1") || !strings.Contains(e.weak, "unsigned") {
		t.Fatalf("weak %q at %q", e.weak, e.weakLvl)
	}
}

// TestRunnerQueryAnswerLevels: an unsigned SOAP answer is a SHOULD
// warning over TLS and a failure over plain http; an unsigned refusal and
// a Success without assertion pass a refusal case; a Success with an
// assertion fails it.
func TestRunnerQueryAnswerLevels(t *testing.T) {
	e, idp, _ := levelsEnv(t)
	now := time.Now().UTC()
	resp := func(code string, a *etree.Element) *samlp.Response {
		r := &samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_r1", InResponseTo: "_q1",
			IssueInstant: now, Issuer: &saml.Issuer{Value: idp.EntityID}, Status: samlp.NewStatus(code, "")}}
		if a != nil {
			r.Assertions = []*etree.Element{a}
		}
		return r
	}
	t.Run("warn/unsigned-over-tls", func(t *testing.T) {
		sub := *e
		if _, err := sub.queryResponse(resp(samlp.StatusSuccess, nil).Element(), "_q1", "https://idp.example/aq"); err != nil {
			t.Fatal(err)
		}
		if sub.weakLvl != LevelShould {
			t.Fatalf("weak %q at %q, want a SHOULD warning", sub.weak, sub.weakLvl)
		}
	})
	t.Run("fail/unsigned-over-http", func(t *testing.T) {
		sub := *e
		_, err := sub.queryResponse(resp(samlp.StatusSuccess, nil).Element(), "_q1", "http://idp.example/aq")
		if o := outcomeOf(err); o.Verdict != Fail || o.Level != "" {
			t.Fatalf("%+v, want a MUST failure", o)
		}
	})
	a := &saml.Assertion{ID: "_a1", IssueInstant: now, Issuer: saml.Issuer{Value: idp.EntityID},
		Subject: &saml.Subject{NameID: &saml.NameID{Value: "someone"}}}
	refusals := []struct {
		name string
		el   *etree.Element
		want Verdict
	}{
		{"ok/unsigned-refusal", resp(samlp.StatusRequester, nil).Element(), Pass},
		{"ok/signed-refusal", levelsSign(t, resp(samlp.StatusRequester, nil), idp, false), Pass},
		{"ok/success-without-assertion", levelsSign(t, resp(samlp.StatusSuccess, nil), idp, false), Pass},
		{"fail/success-with-assertion", levelsSign(t, resp(samlp.StatusSuccess, a.Element()), idp, false), Fail},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			sub := *e
			if o := sub.judgeRefusal(tc.el, 200, "Response", ""); o.Verdict != tc.want {
				t.Fatalf("%+v, want %s", o, tc.want)
			}
		})
	}
}

// TestRunnerDecryptFailureLevels: an algorithm the suite does not take is
// a practice named by its algorithm; any other failure blames the target
// with the re-registration hint.
func TestRunnerDecryptFailureLevels(t *testing.T) {
	el := etree.NewElement("EncryptedAssertion")
	el.CreateElement("EncryptedData").CreateElement("EncryptionMethod").CreateAttr("Algorithm", "http://www.w3.org/2001/04/xmlenc#aes128-cbc")
	el.FindElement("EncryptedData").CreateElement("KeyInfo").CreateElement("EncryptedKey").CreateElement("EncryptionMethod").CreateAttr("Algorithm", "http://www.w3.org/2001/04/xmlenc#rsa-1_5")
	o := outcomeOf(decryptFailure(el, "our key", fmt.Errorf("key transport: %w", xmlsec.ErrAlgorithm)))
	if o.Verdict != Fail || o.Level != LevelPractice || !strings.Contains(o.Reason, "rsa-1_5") {
		t.Fatalf("algorithm refusal: %+v", o)
	}
	o = outcomeOf(decryptFailure(el, "our key", fmt.Errorf("crypto/rsa: decryption error")))
	if o.Verdict != Fail || o.Level != "" || !strings.Contains(o.Reason, "re-register") {
		t.Fatalf("key mismatch: %+v", o)
	}
}
