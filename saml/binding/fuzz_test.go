package binding

import (
	"bytes"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzRedirectDecode feeds raw query strings to the Redirect decoder, seeded
// with the digest's vector and signed queries of ours and Lasso's
// (testdata/fuzz/FuzzRedirectDecode): refuse or decode, never panic, keep
// the RelayState bound, and verification against an empty trust set fails.
func FuzzRedirectDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, q string) {
		m, err := (&RedirectDecoder{MaxInflated: 64 << 10}).Decode(q)
		if err != nil {
			return
		}
		if len(m.RelayState) > MaxRelayState || (m.Param != ParamRequest && m.Param != ParamResponse) {
			t.Fatalf("decoded %+v", m)
		}
		if _, _, err := m.Verify(xmlsec.NewTrustSet(nil), xmlsec.Policy{}); err == nil {
			t.Fatal("verified against no key")
		}
		roundTripRequest(t, m.Unverified())
	})
}

// FuzzPOSTDecode feeds form bodies to the POST decoder, seeded with forms
// carrying our and Lasso's messages.
func FuzzPOSTDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := (&POSTDecoder{MaxBody: 64 << 10}).Decode(bytes.NewReader(body))
		if err != nil {
			return
		}
		if len(m.RelayState) > MaxRelayState || m.Element == nil {
			t.Fatalf("decoded %+v", m)
		}
		_, _ = samlp.PeekResponse(m.Element)
		roundTripRequest(t, m.Element)
	})
}

// FuzzSOAPDecode feeds envelopes to the SOAP decoder and the ECP header
// reader, seeded with the PAOS and ECP goldens and the digest's example.
// An accepted envelope, written out again, must decode again with the same
// number of header blocks.
func FuzzSOAPDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := (&SOAPDecoder{MaxBody: 64 << 10}).Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		_, _ = ReadECPHeaders(env, ECPQuirks{})
		out, err := xmlsec.Serialize(env.Element())
		if err != nil {
			t.Fatalf("serialize: %v", err)
		}
		again, err := (&SOAPDecoder{}).Decode(bytes.NewReader(out))
		if err != nil && !strings.Contains(err.Error(), "not understood") {
			t.Fatalf("re-encoded envelope refused: %v\n%s", err, out)
		}
		if err == nil && len(again.Header) != len(env.Header) {
			t.Fatalf("header blocks %d -> %d", len(env.Header), len(again.Header))
		}
		roundTripRequest(t, env.Body)
	})
}
