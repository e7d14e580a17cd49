package conformance

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// runAgainst runs the in-scope SAML IdP cases against a fake IdP with the
// given flaws.
func runAgainst(t *testing.T, f flaws) *Report {
	t.Helper()
	return runAgainstAt(t, f, "")
}

// runAgainstAt runs them failing the run from level failOn on.
func runAgainstAt(t *testing.T, f flaws, failOn Level) *Report {
	t.Helper()
	sp, err := NewSP("https://127.0.0.1/conformance-sp", "https://127.0.0.1/conformance-sp/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	idp := newFakeIdP(t, sp, f)
	ctx := context.Background()
	target, err := LoadTarget(ctx, idp.srv.URL+"/metadata", nil)
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: SAMLIdPCases(), Rows: Matrix(), Only: []string{"web-sso", "ecp", "metadata"}, Progress: &progress, CaseTimeout: 30 * time.Second, FailOn: failOn}
	return r.Run(ctx, &Env{Target: target, SP: sp, Login: NoLogin{}})
}

func TestFakeIdPHonestPasses(t *testing.T) {
	rep := runAgainst(t, flaws{})
	var txt strings.Builder
	rep.WriteText(&txt)
	for _, res := range rep.Results {
		if res.Outcome.Verdict != Pass && res.Outcome.Verdict != Skipped {
			t.Errorf("%s: %s: %s", res.Case.ID, res.Outcome.Verdict, res.Outcome.Reason)
		}
	}
	if rep.Failed() {
		t.Fatalf("the honest IdP fails the scoped run:\n%s", txt.String())
	}
	t.Log(txt.String())
	if n := rep.rowCount(OutOfScope); n == 0 {
		t.Fatal("no row reported out of scope")
	}
	if res, _ := rep.Result("SAML2-Bind-3.4/redirect-authnrequest"); len(res.Messages) < 2 {
		t.Fatalf("exchanged messages not captured: %+v", res.Messages)
	}
}

// TestFakeIdPFlawsCaught: each flaw is caught by its case; a MUST flaw
// fails the run, a practice flaw is a warning by default and a failure
// with -strict (FailOn practice).
func TestFakeIdPFlawsCaught(t *testing.T) {
	tests := []struct {
		name  string
		flaws flaws
		case_ string
		level Level
	}{
		{"fail/skips-signature-check", flaws{SkipSigCheck: true}, "SAML2-Bind-3.4.4.1/redirect-bad-signature", LevelMust},
		{"fail/skips-signature-check-unsigned", flaws{SkipSigCheck: true}, "SAML2-Bind-3.4.4.1/redirect-unsigned", LevelMust},
		{"fail/skips-signature-check-xsw", flaws{SkipSigCheck: true}, "SAML2-Core-5.4/post-xsw-wrapped-in-extensions", LevelMust},
		{"fail/skips-signature-check-xsw-moved", flaws{SkipSigCheck: true}, "SAML2-Core-5.4/post-xsw-signature-moved", LevelMust},
		{"warn/accepts-stale", flaws{AcceptStale: true}, "SAML2-Core-3.2.1/stale-issueinstant", LevelPractice},
		{"fail/ignores-acs", flaws{IgnoreACS: true}, "SAML2-Prof-4.1.4.1/acs-not-in-metadata", LevelMust},
		{"fail/ignores-acs-ecp", flaws{IgnoreACS: true}, "SAML2-Prof-4.2.4.4/ecp-acs-not-in-metadata", LevelMust},
		{"warn/signs-sha1", flaws{SignSHA1: true}, "SAML2-Bind-3.4/redirect-authnrequest", LevelPractice},
		{"warn/accepts-sha1", flaws{AcceptSHA1: true}, "SAML2-Bind-3.4.4.1/redirect-sha1-signature", LevelPractice},
		{"warn/accepts-replay", flaws{AcceptReplay: true}, "SAML2-Core-3.2.1/replayed-request", LevelPractice},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			levels := []Level{LevelMust}
			if tc.level != LevelMust {
				levels = append(levels, LevelPractice)
			}
			for _, failOn := range levels {
				rep := runAgainstAt(t, tc.flaws, failOn)
				res, ok := rep.Result(tc.case_)
				if !ok {
					t.Fatalf("case %s did not run", tc.case_)
				}
				want := Fail
				if tc.level.rank() < failOn.rank() {
					want = Advisory
				}
				if res.Outcome.Verdict != want || res.Outcome.Side != SideTarget || res.Outcome.Level != tc.level {
					t.Fatalf("%s at %s: %s %s (%s), want %s %s of the target", tc.case_, failOn, res.Outcome.Verdict, res.Outcome.Level, res.Outcome.Reason, want, tc.level)
				}
				if rep.Failed() != (want == Fail) {
					t.Fatalf("at %s the run failed = %v with %s %s", failOn, rep.Failed(), tc.case_, res.Outcome.Verdict)
				}
			}
		})
	}
}

// TestCardLogin: against an IdP whose listener requires a client
// certificate, the suite logs in with a PKCS#12 soft card; without it the
// basic exchange fails.
func TestCardLogin(t *testing.T) {
	p := pki.MustGet()
	server, err := p.CA.Issue("idp", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	card, err := p.CA.Issue("card", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := pkcs12.Modern.Encode(card.Key, card.Cert, nil, "1234")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "card.p12")
	if err := os.WriteFile(file, pfx, 0o600); err != nil {
		t.Fatal(err)
	}
	login, err := LoadPKCS12(file, "1234")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := NewSP("https://127.0.0.1/conformance-sp", "https://127.0.0.1/conformance-sp/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	idp := newCardIdP(t, sp, server, p.CA.Cert)
	pool := x509.NewCertPool()
	pool.AddCert(p.CA.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	ctx := context.Background()
	target, err := LoadTarget(ctx, idp.srv.URL+"/metadata", &http.Client{Transport: withCert(tr, login)})
	if err != nil {
		t.Fatal(err)
	}
	basic := positiveCases()[0]
	tests := []struct {
		name  string
		login Authenticator
		want  Verdict
	}{
		{"ok/pkcs12-card", login, Pass},
		{"fail/no-certificate", NoLogin{}, Error},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := basic.Run(ctx, &Env{Target: target, SP: sp, Login: tc.login, Transport: tr})
			if o.Verdict != tc.want {
				t.Fatalf("%s (%s), want %s", o.Verdict, o.Reason, tc.want)
			}
		})
	}
}

func withCert(tr *http.Transport, l CertLogin) *http.Transport {
	c := tr.Clone()
	l.ConfigureTLS(c.TLSClientConfig)
	return c
}
