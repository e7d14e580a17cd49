package xmlenc

import (
	"testing"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestParseInContextMentioned: the plaintext is parsed with the default
// namespace and the inherited prefixes it mentions, in a name or only in a
// QName value, and the element returned declares those and no others.
func TestParseInContextMentioned(t *testing.T) {
	scope := []nsDecl{{"", "urn:default"}, {"saml", "urn:oasis:names:tc:SAML:2.0:assertion"},
		{"xs", "http://www.w3.org/2001/XMLSchema"}, {"xsi", "http://www.w3.org/2001/XMLSchema-instance"},
		{"sb", "urn:liberty:sb:2006-08"}, {"disco", "urn:liberty:disco:2006-08"}}
	plain := []byte(`<saml:AttributeValue xsi:type="xs:string">v</saml:AttributeValue>`)
	el, ok := parseInContext(plain, scope, xmlsec.Limits{})
	if ok == 0 {
		t.Fatal("plaintext refused")
	}
	got := map[string]string{}
	for _, a := range el.Attr {
		if a.Space == "xmlns" {
			got[a.Key] = a.Value
		} else if a.Space == "" && a.Key == "xmlns" {
			got[""] = a.Value
		}
	}
	want := map[string]string{"": "urn:default", "saml": scope[1].uri, "xs": scope[2].uri, "xsi": scope[3].uri}
	if len(got) != len(want) {
		t.Fatalf("declarations %v, want %v", got, want)
	}
	for p, u := range want {
		if got[p] != u {
			t.Fatalf("declarations %v, want %v", got, want)
		}
	}
	if _, ok := parseInContext([]byte(`<other:X/>`), scope, xmlsec.Limits{}); ok != 0 {
		t.Fatal("a prefix in no scope accepted")
	}
}
