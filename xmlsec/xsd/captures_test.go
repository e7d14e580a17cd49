//go:build cgo

package xsd

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// A deviation is one libxml2 message a recorded peer message earns, with the
// interop quirk (shared/spec/IDWSF2.md section 11) that explains it.
type deviation struct {
	msg   string
	quirk string
}

const (
	nsA    = "{http://www.w3.org/2005/08/addressing}"
	nsSAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
)

var (
	eprNotOnOrAfter = deviation{
		"Element '" + nsA + "EndpointReference', attribute 'notOnOrAfter': The attribute 'notOnOrAfter' is not allowed.",
		"§11 item 7: ZXID's unqualified notOnOrAfter on wsa:EndpointReference"}
	eprRankKey = deviation{
		"Element '" + nsA + "Metadata', attribute 'rankKey': The attribute 'rankKey' is not allowed.",
		"§11 item 7 in spirit (ZXID's unqualified attributes on EPR parts); rankKey on wsa:Metadata is not listed there"}
	emptyAuthnContext = deviation{
		"Element '" + nsSAML + "AuthnContext': Missing child element(s). Expected is one of ( " + nsSAML + "AuthnContextClassRef, " +
			nsSAML + "AuthnContextDecl, " + nsSAML + "AuthnContextDeclRef ).",
		"not in §11: ZXID 1.43 issues an empty saml:AuthnContext (SAML core 2.7.2.2 wants ClassRef, Decl or DeclRef)"}
	eprSharedID = deviation{
		"Element '" + nsA + "EndpointReference', attribute '{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id': " +
			"'EPRID92lFPo3ZNEt_3rHtJFoU' is not a valid value of the atomic type 'xs:ID'.",
		"not in §11: ZXID gives the WSP's EPR and the DS bootstrap EPR inside the token the same wsu:Id"}
	lassoNoVersion = deviation{
		"Element '" + nsSAML + "Assertion': The attribute 'Version' is required but missing.",
		"not in §11: Lasso's in-process ID-WSF tokens omit Version (SAML core 2.3.3)"}
	lassoNoIssueInstant = deviation{
		"Element '" + nsSAML + "Assertion': The attribute 'IssueInstant' is required but missing.",
		"not in §11: Lasso's in-process ID-WSF tokens omit IssueInstant (SAML core 2.3.3)"}
	lassoDiscoStatus = deviation{
		"Element '{urn:liberty:disco:2006-08}Status': This element is not expected. Expected is ( {urn:liberty:util:2006-08}Status ).",
		"§11 item 19: Lasso puts the QueryResponse Status in the disco namespace, not lu: (captures/README.md says lu:, the bytes say disco)"}
	lassoUtilStatus = deviation{
		"Element '{util}Status': This element is not expected. Expected is ( {urn:liberty:util:2006-08}Status ).",
		"§11 item 19, same Lasso habit: SvcMDRegisterResponse's Status in the namespace named by the relative URI \"util\""}
	zxidNoOrgURL = deviation{
		"Element '{urn:oasis:names:tc:SAML:2.0:metadata}Organization': Missing child element(s). Expected is one of ( " +
			"{urn:oasis:names:tc:SAML:2.0:metadata}OrganizationDisplayName, {urn:oasis:names:tc:SAML:2.0:metadata}OrganizationURL ).",
		"not in §11: ZXID's metadata has no md:OrganizationURL (SAML metadata 2.3.2.1 requires one)"}
)

// A capture is what Validate says of one recorded message: schema lists
// its deviations from the schemas (nil: valid). Every capture passes
// xmlsec.Parse, which Validate runs first.
type capture struct {
	schema []deviation
}

var captures = map[string]capture{
	"lasso/lasso-00-bootstrap-epr.xml":      {schema: []deviation{lassoNoVersion, lassoNoIssueInstant}},
	"lasso/lasso-01-SvcMDRegister-req.xml":  {schema: []deviation{lassoNoVersion, lassoNoIssueInstant}},
	"lasso/lasso-01-SvcMDRegister-resp.xml": {schema: []deviation{lassoUtilStatus}},
	"lasso/lasso-02-Query-req.xml":          {schema: []deviation{lassoNoVersion, lassoNoIssueInstant}},
	"lasso/lasso-02-QueryResponse-resp.xml": {schema: []deviation{lassoDiscoStatus}},
	"lasso/lasso2zxid-2-Query-req.xml":      {},
	"lasso/lasso2zxid-2-Query-resp.xml": {schema: []deviation{
		eprNotOnOrAfter, eprRankKey, emptyAuthnContext, eprSharedID, eprNotOnOrAfter, emptyAuthnContext}},
	"lasso/lasso2zxid-2-SASL-req.xml":  {},
	"lasso/lasso2zxid-2-SASL-resp.xml": {schema: []deviation{eprNotOnOrAfter}},

	"zxid/zxid-12-POST-zxididp_o_S-req.http":                                                 {},
	"zxid/zxid-12-POST-zxididp_o_S-resp.http":                                                {schema: []deviation{eprNotOnOrAfter}},
	"zxid/zxid-13-POST-zxididp_o_S-req.http":                                                 {},
	"zxid/zxid-13-POST-zxididp_o_S-resp.http":                                                {schema: []deviation{eprNotOnOrAfter, eprRankKey}},
	"zxid/zxid-14-POST-zxidwspcgi-req.http":                                                  {},
	"zxid/zxid-14-POST-zxidwspcgi-resp.http":                                                 {},
	"zxid/zxid-15-GET-zxidwspcgi_o_B-resp.http":                                              {schema: []deviation{zxidNoOrgURL}},
	"zxid/server-logs/idp-issue/0VpkR2D8-67-wWVEuHInCfC1LMs/wir/4qZXfToJcugu-BapVRzyY9ebQ4o": {schema: []deviation{eprNotOnOrAfter, eprRankKey}},
	"zxid/server-logs/idp-issue/0VpkR2D8-67-wWVEuHInCfC1LMs/wir/FMc51cgMP7AtORBKyfQTmFAqsKM": {schema: []deviation{eprNotOnOrAfter, eprRankKey}},
	"zxid/server-logs/idp-issue/0VpkR2D8-67-wWVEuHInCfC1LMs/wir/hNwmxe2hiYTJ0hrE7yWNO_0G3p0": {schema: []deviation{eprNotOnOrAfter, eprRankKey}},
	"zxid/server-logs/idp-issue/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/2L9XCw86UOh2YSlUFdMPvDkzcTM": {schema: []deviation{emptyAuthnContext}},
	"zxid/server-logs/idp-issue/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/3WNmAXGF0BgPh-LbWRxpBpxS5WQ": {},
	"zxid/server-logs/idp-issue/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/6wk-8xUacxP4qbkVt2u7fJRToFk": {},
	"zxid/server-logs/idp-issue/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/Mg5yVBW2I9L0NruEsxulJBIxywE": {schema: []deviation{emptyAuthnContext}},
	"zxid/server-logs/idp-issue/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/NsebZJu3-B58T6gk_ur2Nwt-niI": {},
	"zxid/server-logs/idp-issue/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/OF4Za_PRvJaMBSYvsYSqEKvvA7o": {schema: []deviation{emptyAuthnContext}},
	"zxid/server-logs/idp-issue/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/ZPNXbm2uIYGd7PUd37M7WjAzef8": {},
	"zxid/server-logs/idp-issue/jOcoifHa5BFUt95igkJ7uJ5mU3o/a7n/4XsbRSKwRG5wzNegI0y_HcwfHeY": {schema: []deviation{emptyAuthnContext, eprNotOnOrAfter}},
	"zxid/server-logs/idp-issue/jOcoifHa5BFUt95igkJ7uJ5mU3o/a7n/k3pjDKsDwEWh6N98jDpl0cdfVnw": {schema: []deviation{emptyAuthnContext, eprNotOnOrAfter}},
	"zxid/server-logs/idp-issue/jOcoifHa5BFUt95igkJ7uJ5mU3o/a7n/rZaTh01pEqby_Z1-4ZAArr3reH8": {schema: []deviation{emptyAuthnContext, eprNotOnOrAfter}},
	"zxid/server-logs/idp-rely/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/3WNmAXGF0BgPh-LbWRxpBpxS5WQ":  {},
	"zxid/server-logs/idp-rely/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/6wk-8xUacxP4qbkVt2u7fJRToFk":  {},
	"zxid/server-logs/idp-rely/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/ZPNXbm2uIYGd7PUd37M7WjAzef8":  {},
	"zxid/server-logs/wsp-rely/0VpkR2D8-67-wWVEuHInCfC1LMs/msg/3mysRbWej0_TyV0ZSPBlqC8Zfck":  {},
	"zxid/server-logs/wsp-rely/0VpkR2D8-67-wWVEuHInCfC1LMs/msg/PnOuhOqhRfz4oSAQspAYpx0UExs":  {},
	"zxid/server-logs/wsp-rely/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/4XsbRSKwRG5wzNegI0y_HcwfHeY":  {schema: []deviation{emptyAuthnContext, eprNotOnOrAfter}},
	"zxid/server-logs/wsp-rely/Kls4VCQV9xk0iTqLfTXrwvEQZ-4/a7n/rZaTh01pEqby_Z1-4ZAArr3reH8":  {schema: []deviation{emptyAuthnContext, eprNotOnOrAfter}},
}

// noBody lists recorded HTTP messages that carry no XML.
var noBody = map[string]bool{"zxid/zxid-15-GET-zxidwspcgi_o_B-req.http": true}

// TestCaptures checks every recorded Lasso and ZXID message (copied from
// shared/captures; HTTP headers stripped): valid, or refused with exactly the
// deviations listed, each tied to its quirk.
func TestCaptures(t *testing.T) {
	s := mustDefault(t)
	for _, rel := range captureFiles(t) {
		c := captures[rel]
		t.Run(captureName(rel, c), func(t *testing.T) {
			b := captureBytes(t, rel)
			checkSchema(t, s.validateChecked(b), c.schema)
			checkSchema(t, s.Validate(b), c.schema)
		})
	}
}

// captureFiles lists testdata/captures and checks the table covers exactly
// those files.
func captureFiles(t *testing.T) []string {
	var files []string
	err := filepath.WalkDir("testdata/captures", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".md") {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, filepath.FromSlash("testdata/captures/")))
		if !noBody[rel] {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) != len(captures) {
		t.Fatalf("%d capture files, %d table entries: keep them in step", len(files), len(captures))
	}
	return files
}

func captureName(rel string, c capture) string {
	if c.schema != nil {
		return "deviates/" + rel
	}
	return "ok/" + rel
}

func captureBytes(t testing.TB, rel string) []byte {
	b := readTestdata(t, "captures/"+rel)
	if strings.HasSuffix(rel, ".http") {
		b = httpBody(t, b)
	}
	return b
}

// checkSchema compares a validation result with the expected deviations.
func checkSchema(t *testing.T, err error, want []deviation) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("libxml2: %v", err)
		}
		return
	}
	got := messages(t, err)
	wantMsgs := make([]string, len(want))
	for i, d := range want {
		wantMsgs[i] = d.msg
	}
	if !reflect.DeepEqual(got, wantMsgs) {
		t.Fatalf("messages:\n got %q\nwant %q", got, wantMsgs)
	}
	for _, d := range want {
		t.Logf("deviation explained by %s", d.quirk)
	}
}

// TestNoBodyCaptures checks that the capture files left out carry no XML.
func TestNoBodyCaptures(t *testing.T) {
	for rel := range noBody {
		if b := captureBytes(t, rel); len(strings.TrimSpace(string(b))) != 0 {
			t.Fatalf("%s has a body of %d bytes: put it in the captures table", rel, len(b))
		}
	}
}
