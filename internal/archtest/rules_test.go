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

const (
	whyRA     = "the registration authority issues keys, certificates and CRLs and records cards in the store: no engine, conformance, binary, XML wire package, router, template or HTTP"
	whyRAUser = "only binaries run the registration authority"
)

// TestRegistrationAuthority proves what ra/ may import and who may import it.
func TestRegistrationAuthority(t *testing.T) {
	runCases(t, Architecture, []checkCase{
		{"fail/ra-imports-engine", []Package{pkg("ra", "./idp")}, []string{"ra -> idp: " + whyRA}},
		{"fail/ra-imports-wire", []Package{pkg("ra", "./wsf/disco")}, []string{"ra -> wsf/disco: " + whyRA}},
		{"fail/ra-reaches-http", []Package{pkg("ra", "./internal/crl"), pkg("internal/crl", "net/http")},
			[]string{"ra -> internal/crl -> net/http: " + whyRA}},
		{"fail/ra-imports-cmd", []Package{pkg("ra", "./cmd/renkei-ra")}, []string{"ra -> cmd/renkei-ra: nothing but binaries imports cmd/",
			"ra -> cmd/renkei-ra: " + whyRA}},
		{"fail/engine-imports-ra", []Package{pkg("idp", "./ra")}, []string{"idp -> ra: " + whyRAUser}},
		{"fail/conformance-reaches-ra", []Package{pkg("conformance", "./internal/x"), pkg("internal/x", "./ra")},
			[]string{"conformance -> internal/x -> ra: " + whyRAUser, "internal/x -> ra: " + whyRAUser}},
		{"ok/ra-imports-store-card-pkcs12", []Package{
			pkg("ra", "./store", "./card/piv", "software.sslmate.com/src/go-pkcs12", "crypto/x509", "net", "net/url"),
		}, nil},
		{"ok/binaries-and-kits-import-ra", []Package{
			pkg("cmd/renkei-ra", "./ra"), pkg("cmd/renkei-idp", "./ra"), pkg("internal/testkit/idpkit", "./ra", "testing"),
		}, nil},
	})
}

const whyAssembly = "an assembly wires a role for its binary and the demo: no engine or library builds on one"

// TestAssembliesOnlyFromBinaries proves that an engine or library never
// builds on a role's assembly, while binaries and test kits use it.
func TestAssembliesOnlyFromBinaries(t *testing.T) {
	runCases(t, Architecture, []checkCase{
		{"fail/engine-imports-its-assembly", []Package{pkg("idp", "./internal/idpserver"), pkg("internal/idpserver")},
			[]string{"idp -> internal/idpserver: " + whyAssembly}},
		{"fail/conformance-reaches-assembly", []Package{pkg("conformance", "./internal/x"), pkg("internal/x", "./internal/idpserver"), pkg("internal/idpserver")},
			[]string{"conformance -> internal/x -> internal/idpserver: " + whyAssembly, "internal/x -> internal/idpserver: " + whyAssembly}},
		{"ok/binaries-and-kits-use-assemblies", []Package{
			pkg("cmd/renkei-idp", "./internal/idpserver"), pkg("cmd/renkei", "./internal/idpserver"),
			pkg("internal/testkit/idpkit", "./internal/idpserver", "testing"), pkg("internal/idpserver"),
		}, nil},
	})
}

// TestCgoOnlyInXSDAndCard proves cgo is allowed in xmlsec/xsd and card/...
// and nowhere else, not even in the rest of xmlsec.
func TestCgoOnlyInXSDAndCard(t *testing.T) {
	cgo := func(dir string, imports ...string) Package {
		p := pkg(dir, imports...)
		p.Cgo = true
		return p
	}
	const only = ": uses cgo; only [xmlsec/xsd card] may"
	runCases(t, Architecture, []checkCase{
		{"fail/xmlsec-root", []Package{cgo("xmlsec")}, []string{"xmlsec" + only}},
		{"fail/xmlsec-dsig", []Package{cgo("xmlsec/dsig")}, []string{"xmlsec/dsig" + only}},
		{"fail/store", []Package{cgo("store/sqlstore")}, []string{"store/sqlstore" + only}},
		{"fail/cgo-sqlite", []Package{pkg("store/sqlstore", "github.com/mattn/go-sqlite3")},
			[]string{"store/sqlstore -> github.com/mattn/go-sqlite3: SQLite through modernc.org/sqlite, pure Go: cgo only in xmlsec/xsd and card"}},
		{"ok/xsd-and-card", []Package{cgo("xmlsec/xsd"), cgo("card"), cgo("card/piv")}, nil},
	})
}

const whyEngines = "the four engines never import each other"

// TestEnginesShareWireNotEachOther proves the engines may share wsf/...
// (the Discovery wire types in wsf/disco above all) but never each other.
func TestEnginesShareWireNotEachOther(t *testing.T) {
	runCases(t, Architecture, []checkCase{
		{"ok/wsc-and-discovery-import-wsf-disco", []Package{
			pkg("wsc", "./wsf/disco", "./wsf/client"), pkg("wsc/portal", "./wsf/disco"),
			pkg("discovery", "./wsf/disco", "./wsf/server", "./store"), pkg("wsf/disco", "./wsf", "./saml"),
		}, nil},
		{"fail/wsc-imports-discovery", []Package{pkg("wsc", "./wsf/disco", "./discovery")},
			[]string{"wsc -> discovery: " + whyEngines}},
		{"fail/discovery-imports-wsc-subpackage", []Package{pkg("discovery", "./wsc/client")},
			[]string{"discovery -> wsc/client: " + whyEngines}},
		{"fail/wsc-reaches-discovery-through-wsf-disco", []Package{
			pkg("wsc", "./wsf/disco"), pkg("wsf/disco", "./discovery/relay"),
		}, []string{"wsc -> wsf/disco -> discovery/relay: " + whyEngines, "wsf/disco -> discovery/relay: " + whyWire}},
		{"fail/every-pair", []Package{
			pkg("idp", "./wsp"), pkg("wsp", "./wsc"), pkg("wsc", "./idp"),
		}, []string{
			"idp -> wsp -> wsc: " + whyEngines, "idp -> wsp: " + whyEngines,
			"wsc -> idp -> wsp: " + whyEngines, "wsc -> idp: " + whyEngines,
			"wsp -> wsc -> idp: " + whyEngines, "wsp -> wsc: " + whyEngines,
		}},
	})
}
