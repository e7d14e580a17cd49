package md

import (
	"crypto/x509"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// lassoResult is what testdata/lasso_sso.py prints.
type lassoResult struct {
	IdP, SP        string
	ProvidersAtIdP []string `json:"providers_at_idp"`
	ProvidersAtSP  []string `json:"providers_at_sp"`
	SSOURL         string   `json:"sso_url"`
	ACSURL         string   `json:"acs_url"`
	AuthnRequest   string   `json:"authn_request"`
	Encrypted      bool
	SSO            string
	NameID         string `json:"name_id"`
}

// lassoEntities returns IdP and SP metadata with the certificates of idp
// and spKey (the SP's signing key) and spEnc.
func lassoEntities(t *testing.T, idp, spSign, spEnc *x509.Certificate) (*EntityDescriptor, *EntityDescriptor) {
	i := sampleIDP(t)
	i.IDPSSO[0].Keys = []KeyDescriptor{{Use: UseSigning, Certificates: []*x509.Certificate{idp}}}
	s := sampleSP(t)
	s.ValidUntil = t0.AddDate(10, 0, 0)
	s.SPSSO[0].Keys = []KeyDescriptor{{Use: UseSigning, Certificates: []*x509.Certificate{spSign}},
		{Use: UseEncryption, Certificates: []*x509.Certificate{spEnc}}}
	s.SPSSO[0].AssertionConsumer[0].IsDefault = ptr(true)
	s.SPSSO[0].AssertionConsumer[2].IsDefault = nil
	return i, s
}

// runLasso writes the metadata and keys and runs one SSO in Lasso.
func runLasso(t *testing.T, idpID, spID *pki.Identity, idp, sp *EntityDescriptor) lassoResult {
	t.Helper()
	dir := t.TempDir()
	for _, id := range []*pki.Identity{idpID, spID} {
		if _, _, err := id.WriteFiles(dir); err != nil {
			t.Fatal(err)
		}
	}
	for name, e := range map[string]*EntityDescriptor{"idp.xml": idp, "sp.xml": sp} {
		b := serialize(t, e.Element())
		validate(t, b)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("/usr/bin/python3", "testdata/lasso_sso.py", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("lasso: %v\n%s", err, out)
	}
	var r lassoResult
	if err := json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], &r); err != nil {
		t.Fatalf("lasso output: %v\n%s", err, out)
	}
	return r
}

// TestLassoLoadsOurMetadata: Lasso (python3-lasso) loads our IdP and SP
// metadata and runs Web SSO from it alone: it finds the IdP's
// HTTP-Redirect SingleSignOnService, verifies the SP's signed AuthnRequest
// with the SP's metadata key, posts to the default ACS, encrypts for the
// SP's encryption key and verifies the IdP's signature with the IdP's
// metadata key. With a foreign signing key in the SP's metadata the
// AuthnRequest is refused.
func TestLassoLoadsOurMetadata(t *testing.T) {
	p := pki.MustGet()
	idpID, err := p.CA.Issue("idp", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	spID, err := p.CA.Issue("sp", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	idp, sp := lassoEntities(t, idpID.Cert, spID.Cert, spID.Cert)
	r := runLasso(t, idpID, spID, idp, sp)
	if r.IdP != idp.EntityID || r.SP != sp.EntityID || len(r.ProvidersAtIdP) != 1 || r.ProvidersAtIdP[0] != sp.EntityID {
		t.Fatalf("providers: %+v", r)
	}
	if r.SSOURL != "https://idp.renkei.test/saml/sso" || r.ACSURL != "https://portal.renkei.test/saml/acs" {
		t.Fatalf("endpoints: %+v", r)
	}
	if r.AuthnRequest != "verified" || !r.Encrypted || r.SSO != "accepted" || r.NameID == "" {
		t.Fatalf("ok/sso: %+v", r)
	}

	idp, sp = lassoEntities(t, idpID.Cert, p.ForeignRSA.Cert, spID.Cert)
	r = runLasso(t, idpID, spID, idp, sp)
	t.Logf("foreign SP key: %s", r.AuthnRequest)
	if !strings.HasPrefix(r.AuthnRequest, "refused") {
		t.Fatalf("fail/foreign-sp-key: Lasso accepted the AuthnRequest: %+v", r)
	}
}
