package md

import (
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzDecode feeds arbitrary bytes to the metadata decoder that runs on
// every verified (or explicitly trusted) document, seeded from
// testdata/fuzz/FuzzDecode (the golden files and hand-made edge cases).
// It must refuse with an error or decode, never panic; whatever it
// decodes must encode and decode again to the same entityIDs, and the
// lookups the IdP runs on it must not panic.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlsec.ParseElement(b, xmlsec.Limits{MaxBytes: 256 << 10})
		if err != nil {
			return
		}
		doc, err := DecodeUnsigned(el)
		if err != nil {
			return
		}
		now := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		live, _, err := doc.Entries(now)
		if err != nil {
			return
		}
		var again *Document
		if doc.Entity != nil {
			again, err = DecodeUnsigned(doc.Entity.Element())
		} else {
			again, err = DecodeUnsigned(doc.Group.Element())
		}
		if err != nil {
			t.Fatalf("re-encoded metadata does not decode: %v", err)
		}
		live2, _, err := again.Entries(now)
		if err != nil || len(live2) != len(live) {
			t.Fatalf("round trip changed the entities: %d -> %d (%v)", len(live), len(live2), err)
		}
		for i, e := range live {
			if live2[i].Entity.EntityID != e.Entity.EntityID {
				t.Fatalf("entityID %q -> %q", e.Entity.EntityID, live2[i].Entity.EntityID)
			}
			exercise(e.Entity)
		}
	})
}

func exercise(e *EntityDescriptor) {
	if sp, err := e.SP(); err == nil {
		_, _ = sp.DefaultAssertionConsumerService()
		_, _ = sp.AssertionConsumerServiceByIndex(0)
		_, _ = sp.EncryptionRecipient(e.EntityID)
		_ = sp.WantsDiscoveryBootstrap()
		_ = sp.SigningCertificates()
	}
	if idp, err := e.IDP(); err == nil {
		_, _ = idp.SingleSignOnService(BindingHTTPRedirect)
		_ = idp.TrustSet()
	}
}
