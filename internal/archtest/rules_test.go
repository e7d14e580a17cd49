package archtest

import "testing"

const (
	whyKit     = "test kits serve tests only: binaries and libraries never link them"
	whyTesting = "a non-test file that imports testing makes a test kit: list it in TestKits"
)

// TestTestKitsOnlyFromTests proves that no production package reaches a
// test kit, however far down the chain, while kits may use each other.
func TestTestKitsOnlyFromTests(t *testing.T) {
	runCases(t, Architecture, []checkCase{
		{"fail/binary-imports-testkit", []Package{
			pkg("cmd/renkei", "./internal/testkit/browser"), pkg("internal/testkit/browser"),
		}, []string{"cmd/renkei -> internal/testkit/browser: " + whyKit}},
		{"fail/library-reaches-testkit-through-internal", []Package{
			pkg("idp", "./internal/idpconf"), pkg("internal/idpconf", "./internal/testkit/pki"), pkg("internal/testkit/pki"),
		}, []string{
			"idp -> internal/idpconf -> internal/testkit/pki: " + whyKit,
			"internal/idpconf -> internal/testkit/pki: " + whyKit,
		}},
		{"fail/layer-kit-from-production", []Package{
			pkg("store/sqlstore", "./store/storetest"), pkg("store/storetest", "testing"),
		}, []string{"store/sqlstore -> store/storetest: " + whyKit}},
		{"fail/unlisted-kit", []Package{
			pkg("saml/samltest", "testing"),
		}, []string{"saml/samltest -> testing: " + whyTesting}},
		{"ok/kits-use-kits", []Package{
			pkg("wsf/internal/wsftest", "./internal/testkit/pki", "testing"), pkg("internal/testkit/pki"),
			pkg("internal/testkit/idpkit", "./internal/testkit/proc", "./ra", "testing"), pkg("internal/testkit/proc"),
		}, nil},
	})
}
