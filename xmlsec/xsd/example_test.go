//go:build cgo

package xsd_test

import (
	"errors"
	"fmt"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

func Example() {
	doc := []byte(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"` +
		` xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_l1" Version="2.0" IssueInstant="2026-11-25T08:00:00Z">` +
		`<saml:NameID>p7Hc2mQ9</saml:NameID></samlp:LogoutRequest>`)
	fmt.Println(xsd.Validate(doc))

	bad := []byte(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_l1" Version="2.0" IssueInstant="2026-11-25T08:00:00Z"/>`)
	err := xsd.Validate(bad)
	var ve *xsd.ValidationError
	fmt.Println(errors.Is(err, xmlsec.ErrSchema), errors.As(err, &ve))
	fmt.Println(ve.Messages[0].Text)
	// Output:
	// <nil>
	// true true
	// Element '{urn:oasis:names:tc:SAML:2.0:protocol}LogoutRequest': Missing child element(s). Expected is one of ( {urn:oasis:names:tc:SAML:2.0:assertion}Issuer, {http://www.w3.org/2000/09/xmldsig#}Signature, {urn:oasis:names:tc:SAML:2.0:protocol}Extensions, {urn:oasis:names:tc:SAML:2.0:assertion}BaseID, {urn:oasis:names:tc:SAML:2.0:assertion}NameID, {urn:oasis:names:tc:SAML:2.0:assertion}EncryptedID ).
}
