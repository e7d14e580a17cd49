package archtest

import "strings"

// Known lists the violations the tree has today, each chain (the part of a
// violation before ": ") with the fix it waits for. The tree test passes over
// them and fails on any other violation, and also on an entry that no longer
// happens: whoever fixes one deletes its line, so the list only shrinks.
var Known = map[string]string{
	"cmd/renkei -> internal/testkit/browser": "the demo walks its SSO and card flows with the " +
		"test kit's browser; move the browser out of internal/testkit (it imports no testing) or " +
		"give the demo its own client",
	"cmd/renkei -> internal/testkit/pcsc": "the demo owns pcscd through the test kit, which " +
		"links the testing package into the binary; split the pcscd owner from AcquireT",
	"idp/errors.go -> net/http": "the one error table carries the HTTP status of the error " +
		"page as http.Status* constants; the HTTP column belongs with the adapters",
	"idp/nim.go -> net/http": "NIMConfig.Client is an *http.Client; the SOAP back channel " +
		"should be a typed caller that soap_client_http.go implements",
	"idp/slo.go -> net/http": "SLOConfig.Client is an *http.Client and NewSLO builds the " +
		"default one; same fix as idp/nim.go",
	"idp/nim_initiate.go -> net/http": "its SOAP caller is being merged with slo_soap.go's " +
		"into soap_client_http.go",
	"idp/slo_soap.go -> net/http": "its SOAP caller is being merged with nim_initiate.go's " +
		"into soap_client_http.go",
}

// Triage splits violations into the fresh ones, whose chain known does not
// list, and returns beside them the chains of known that no violation has.
func Triage(violations []string, known map[string]string) (fresh, stale []string) {
	seen := map[string]bool{}
	for _, v := range violations {
		chain, _, _ := strings.Cut(v, ": ")
		if _, ok := known[chain]; ok {
			seen[chain] = true
			continue
		}
		fresh = append(fresh, v)
	}
	for _, chain := range sortedKeys(known) {
		if !seen[chain] {
			stale = append(stale, chain)
		}
	}
	return fresh, stale
}
