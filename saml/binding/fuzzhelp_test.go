package binding

import (
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// roundTripRequest decodes el as an AuthnRequest when it is one; what
// decodes must encode, serialize, parse and decode again to the same ID and
// options.
func roundTripRequest(t *testing.T, el *etree.Element) {
	t.Helper()
	_, _ = samlp.Peek(el)
	r, err := samlp.DecodeAuthnRequest(el)
	if err != nil {
		return
	}
	b, err := xmlsec.Serialize(r.Element())
	if err != nil {
		t.Fatalf("serialize: %v", err)
	}
	back, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatalf("re-encoded request does not parse: %v\n%s", err, b)
	}
	again, err := samlp.DecodeAuthnRequest(back)
	if err != nil {
		t.Fatalf("re-encoded request does not decode: %v\n%s", err, b)
	}
	if again.ID != r.ID || again.IsPassive != r.IsPassive || again.AssertionConsumerServiceURL != r.AssertionConsumerServiceURL {
		t.Fatalf("round trip changed the request: %+v -> %+v", r, again)
	}
}
