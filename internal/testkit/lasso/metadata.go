package lasso

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// SAML URNs the metadata and results use.
const (
	BindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	BindingSOAP     = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"
	BindingPAOS     = "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"

	FormatPersistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	FormatTransient  = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"

	// DiscoveryEPR is the attribute an SP requests to get the discovery
	// bootstrap (ID-WSF 2.0 Discovery Service §4.1).
	DiscoveryEPR = "urn:liberty:disco:2006-08:DiscoveryEPR"
)

// maxMetadata bounds a fetched metadata document.
const maxMetadata = 1 << 20

// FetchMetadata GETs a metadata document and returns its bytes exactly as
// served.
func FetchMetadata(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadata+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || len(b) > maxMetadata {
		return nil, fmt.Errorf("lasso: metadata %s: status %d, %d bytes", url, resp.StatusCode, len(b))
	}
	return b, nil
}

const mdOpen = `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="`

func keyDescriptor(use string, cert *x509.Certificate) string {
	return `
  <md:KeyDescriptor use="` + use + `"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` +
		base64.StdEncoding.EncodeToString(cert.Raw) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
}

const nameIDFormats = `
  <md:NameIDFormat>` + FormatPersistent + `</md:NameIDFormat>
  <md:NameIDFormat>` + FormatTransient + `</md:NameIDFormat>`

// spMetadata is the SP's md:EntityDescriptor (SAML Metadata §2.4.4):
// requests signed unless unsigned, signed assertions wanted, ACS for HTTP-POST and PAOS, an
// encryption key and the DiscoveryEPR request when given.
func spMetadata(entityID, base string, signing, encryption *x509.Certificate, disco, unsigned bool) []byte {
	var b strings.Builder
	b.WriteString(mdOpen + html.EscapeString(entityID) + `">
 <md:SPSSODescriptor AuthnRequestsSigned="` + strconv.FormatBool(!unsigned) + `" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`)
	b.WriteString(keyDescriptor("signing", signing))
	if encryption != nil {
		b.WriteString(keyDescriptor("encryption", encryption))
	}
	b.WriteString(nameIDFormats)
	fmt.Fprintf(&b, `
  <md:AssertionConsumerService Binding="%s" Location="%s/acs" index="0" isDefault="true"/>
  <md:AssertionConsumerService Binding="%s" Location="%s/ecp-acs" index="1"/>`, BindingPOST, base, BindingPAOS, base)
	if disco {
		b.WriteString(`
  <md:AttributeConsumingService index="0">
   <md:ServiceName xml:lang="en">Lasso SP</md:ServiceName>
   <md:RequestedAttribute Name="` + DiscoveryEPR + `" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" isRequired="true"/>
  </md:AttributeConsumingService>`)
	}
	b.WriteString("\n </md:SPSSODescriptor>\n</md:EntityDescriptor>\n")
	return []byte(b.String())
}

// idpMetadata is the reference IdP's md:EntityDescriptor (SAML Metadata
// §2.4.3): SSO over HTTP-Redirect, HTTP-POST and SOAP (for the ECP).
func idpMetadata(entityID, base string, signing *x509.Certificate) []byte {
	var b strings.Builder
	b.WriteString(mdOpen + html.EscapeString(entityID) + `">
 <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`)
	b.WriteString(keyDescriptor("signing", signing))
	b.WriteString(nameIDFormats)
	for _, e := range [][2]string{{BindingRedirect, "/sso"}, {BindingPOST, "/sso"}, {BindingSOAP, "/soap"}} {
		fmt.Fprintf(&b, "\n  <md:SingleSignOnService Binding=\"%s\" Location=\"%s%s\"/>", e[0], base, e[1])
	}
	b.WriteString("\n </md:IDPSSODescriptor>\n</md:EntityDescriptor>\n")
	return []byte(b.String())
}
