package samlp

import (
	"os"
	"testing"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzDecode feeds arbitrary bytes to Peek and the decoders that run on
// every verified copy, seeded with the golden messages: they
// refuse or decode, never panic, and what they decode encodes and decodes
// again to the same ID.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"testdata/TestAuthnRequestGolden_request.xml", "testdata/TestResponseGolden_response.xml",
		"testdata/TestLogoutAndManageNameIDGolden_logoutrequest.xml", "testdata/TestLogoutAndManageNameIDGolden_managenameid-newid.xml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlsec.ParseElement(b, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		_, _ = Peek(el)
		_, _ = PeekResponse(el)
		if r, err := DecodeAuthnRequest(el); err == nil {
			again, err := DecodeAuthnRequest(reparse(t, r.Element()))
			if err != nil || again.ID != r.ID {
				t.Fatalf("request round trip: %v", err)
			}
		}
		if r, err := DecodeLogoutRequest(el); err == nil {
			again, err := DecodeLogoutRequest(reparse(t, r.Element()))
			if err != nil || again.ID != r.ID || len(again.SessionIndexes) != len(r.SessionIndexes) {
				t.Fatalf("logout round trip: %v", err)
			}
		}
		if r, err := DecodeManageNameIDRequest(el); err == nil {
			again, err := DecodeManageNameIDRequest(reparse(t, r.Element()))
			if err != nil || again.ID != r.ID || again.NewID != r.NewID || again.Terminate != r.Terminate {
				t.Fatalf("manage name id round trip: %v", err)
			}
		}
		if r, err := DecodeResponse(el); err == nil {
			again, err := DecodeResponse(reparse(t, r.Element()))
			if err != nil || again.ID != r.ID || len(again.Assertions) != len(r.Assertions) {
				t.Fatalf("response round trip: %v", err)
			}
		}
	})
}
