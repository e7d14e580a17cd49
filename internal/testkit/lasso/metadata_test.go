package lasso

import (
	"bytes"
	"errors"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// TestMetadataSchemaValid: the metadata written for the Lasso peers is
// valid against the SAML metadata schema in every variant, so an IdP that
// refuses it refuses for its own reasons.
func TestMetadataSchemaValid(t *testing.T) {
	p := pki.MustGet()
	base := "https://127.0.0.1:1"
	for name, md := range map[string][]byte{
		"ok/sp-plain":            spMetadata(base+"/metadata", base, p.RSA.Cert, nil, false, false),
		"ok/sp-encryption-disco": spMetadata(base+"/metadata", base, p.RSA.Cert, p.P256.Cert, true, false),
		"ok/idp":                 idpMetadata(base+"/metadata", base, p.RSA.Cert),
	} {
		t.Run(name, func(t *testing.T) {
			if err := xsd.Validate(md); err != nil {
				t.Fatalf("%v\n%s", err, md)
			}
		})
	}
	t.Run("fail/misplaced-element", func(t *testing.T) {
		md := spMetadata(base+"/metadata", base, p.RSA.Cert, nil, false, false)
		bad := bytes.Replace(md, []byte("<md:NameIDFormat>"), []byte("<md:Bogus/><md:NameIDFormat>"), 1)
		if err := xsd.Validate(bad); !errors.Is(err, xmlsec.ErrSchema) {
			t.Fatalf("the validator let a bogus element through: %v", err)
		}
	})
}
