package conformance

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// TestNIMAnswer: the judge of a SOAP ManageNameIDResponse accepts only a
// schema-valid response signed by the IdP's metadata key, from the IdP, in
// response to our request.
func TestNIMAnswer(t *testing.T) {
	e, idp, other, now := judgeEnv(t)
	resp := func(issuer, inResponseTo string) *samlp.ManageNameIDResponse {
		return &samlp.ManageNameIDResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_r1", InResponseTo: inResponseTo,
			IssueInstant: now, Issuer: &saml.Issuer{Value: issuer}, Status: samlp.NewStatus(samlp.StatusSuccess, "")}}
	}
	sign := func(r *samlp.ManageNameIDResponse, by *SP) *etree.Element {
		el, err := samlp.Sign(r, &dsig.Signer{Key: by.Key, Certificates: []*x509.Certificate{by.Cert}})
		if err != nil {
			t.Fatal(err)
		}
		return el
	}
	tests := []struct {
		name string
		el   *etree.Element
		ok   bool
	}{
		{"ok/signed-by-idp", sign(resp(idp.EntityID, "_q1"), idp), true},
		{"fail/unsigned", resp(idp.EntityID, "_q1").Element(), false},
		{"fail/signed-by-another-key", sign(resp(idp.EntityID, "_q1"), other), false},
		{"fail/other-request", sign(resp(idp.EntityID, "_q2"), idp), false},
		{"fail/other-issuer", sign(resp(other.EntityID, "_q1"), idp), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.nimAnswer(tc.el, "_q1")
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if _, isTarget := err.(*targetError); !isTarget {
					t.Fatalf("%v is not the target's deviation", err)
				}
			}
		})
	}
}

// judgeEnv is an Env whose target IdP is idp, a party with a key of its
// own (an SP's, for the test), and other, a party with another key, both
// made at now.
func judgeEnv(t *testing.T) (e *Env, idp, other *SP, now time.Time) {
	t.Helper()
	now = time.Now().UTC()
	idp, err := NewSP("https://127.0.0.1/idp", "", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if other, err = NewSP("https://127.0.0.1/other", "", now, nil); err != nil {
		t.Fatal(err)
	}
	e = &Env{Target: &Target{Entity: &md.EntityDescriptor{EntityID: idp.EntityID},
		IDP: &md.IDPSSODescriptor{SSO: md.SSO{Role: md.Role{Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{idp.Cert}}}}}}}}
	return e, idp, other, now
}
