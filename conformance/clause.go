package conformance

import (
	"slices"
	"strings"
)

// specDocs maps the name a clause cites a document by to where a tester
// can open it: the OASIS SAML 2.0 standard's own documents (errata
// composites where OASIS publishes them), the W3C texts the bindings
// build on, and the sources of the recommended practices the suite
// checks.
var specDocs = []struct{ name, url string }{
	{"SAML Core", "https://docs.oasis-open.org/security/saml/v2.0/saml-core-2.0-os.pdf"},
	{"SAML Bindings", "https://docs.oasis-open.org/security/saml/v2.0/saml-bindings-2.0-os.pdf"},
	{"SAML Profiles", "https://docs.oasis-open.org/security/saml/v2.0/saml-profiles-2.0-os.pdf"},
	{"SAML Metadata", "https://docs.oasis-open.org/security/saml/v2.0/saml-metadata-2.0-os.pdf"},
	{"SAML Conformance", "https://docs.oasis-open.org/security/saml/v2.0/saml-conformance-2.0-os.pdf"},
	{"SAML Security Considerations", "https://docs.oasis-open.org/security/saml/v2.0/saml-sec-consider-2.0-os.pdf"},
	{"SAML Errata", "https://docs.oasis-open.org/security/saml/v2.0/sstc-saml-approved-errata-2.0.pdf"},
	{"SOAP 1.1", "https://www.w3.org/TR/2000/NOTE-SOAP-20000508/"},
	{"XML Signature", "https://www.w3.org/TR/xmldsig-core1/"},
	{"XML Encryption", "https://www.w3.org/TR/xmlenc-core1/"},
	{"NIST SP 800-131A", "https://csrc.nist.gov/pubs/sp/800/131/a/r2/final"},
	{"XSW (Somorovsky et al. 2012)", "https://www.usenix.org/conference/usenixsecurity12/technical-sessions/presentation/somorovsky"},
}

// ClauseLinks returns the address of every document a clause cites, in
// the order the clause names them, for a tester to open.
func ClauseLinks(clause string) []string {
	type hit struct {
		at  int
		url string
	}
	var hits []hit
	for _, d := range specDocs {
		if i := strings.Index(clause, d.name); i >= 0 {
			hits = append(hits, hit{i, d.url})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.at - b.at })
	out := make([]string, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.url)
	}
	return out
}
