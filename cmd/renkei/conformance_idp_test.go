package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// startCommandIdP runs Renkei's IdP (the real binary) with the SP that
// `renkei conformance -sp-key key` plays registered, and a card for one
// principal; it returns the IdP and the card's certificate and key files.
func startCommandIdP(t *testing.T, dir string, spArgs []string) (*idpkit.IdP, string, string) {
	t.Helper()
	var m strings.Builder
	if err := run(context.Background(), append([]string{"conformance", "-print-sp-metadata"}, spArgs...), &m); err != nil {
		t.Fatal(err)
	}
	k := idpkit.New(t, idpkit.Options{SPMetadata: [][]byte{[]byte(m.String())}})
	card := k.IssueCard("p-cli", "HIC-CLI-0001", pki.P256)
	certFile, keyFile, err := card.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	k.Start()
	return k, certFile, keyFile
}

// TestConformanceCommandAgainstOwnIdP runs `renkei conformance -role idp`
// as an operator would against Renkei's IdP and checks that every report
// (JSON, JUnit, HTML) names each case, its clause and verdict and carries
// the exchanged messages.
func TestConformanceCommandAgainstOwnIdP(t *testing.T) {
	dir := t.TempDir()
	spArgs := []string{"-sp-key", filepath.Join(dir, "sp.pem"), "-sp-entity-id", "https://127.0.0.1/cli-sp", "-sp-acs", "https://127.0.0.1/cli-sp/acs"}
	k, certFile, keyFile := startCommandIdP(t, dir, spArgs)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.MustGet().CA.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	out := func(name string) string { return filepath.Join(dir, name) }
	args := append([]string{"conformance", "-role", "idp", "-metadata", k.MetadataURL, "-ca", ca, "-tls-server-name", idpkit.ServerName,
		"-client-cert", certFile, "-client-key", keyFile, "-only", "web-sso,ecp,metadata", "-case-timeout", "30s",
		"-json", out("report.json"), "-junit", out("report.xml"), "-html", out("report.html")}, spArgs...)
	var text strings.Builder
	if err := run(context.Background(), args, &text); err != nil {
		t.Fatalf("renkei conformance against our IdP: %v\n%s", err, text.String())
	}
	cases := checkJSONReport(t, out("report.json"))
	checkJUnitReport(t, out("report.xml"), cases)
	checkHTMLReport(t, out("report.html"), cases)
}

// jsonReportCase is what the JSON report says of a case.
type jsonReportCase struct {
	ID       string                `json:"id"`
	Clause   string                `json:"clause"`
	Verdict  conformance.Verdict   `json:"verdict"`
	Messages []conformance.Message `json:"messages"`
}

// checkJSONReport requires every case to pass with a clause and messages,
// and returns the cases.
func checkJSONReport(t *testing.T, file string) []jsonReportCase {
	t.Helper()
	var rep struct {
		Failed bool             `json:"failed"`
		Cases  []jsonReportCase `json:"cases"`
		Rows   []struct {
			Group   string              `json:"group"`
			Verdict conformance.Verdict `json:"verdict"`
		} `json:"rows"`
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Failed || len(rep.Cases) < 20 {
		t.Fatalf("JSON report: failed %v with %d cases", rep.Failed, len(rep.Cases))
	}
	for _, c := range rep.Cases {
		if c.ID == "" || c.Clause == "" || c.Verdict != conformance.Pass || len(c.Messages) == 0 || c.Messages[0].Body == "" {
			t.Errorf("JSON case %q (%q): verdict %s, %d messages", c.ID, c.Clause, c.Verdict, len(c.Messages))
		}
	}
	for _, r := range rep.Rows {
		if r.Group == "slo" && r.Verdict != conformance.OutOfScope {
			t.Errorf("an SLO row is %s, not out of scope", r.Verdict)
		}
	}
	return rep.Cases
}

// checkJUnitReport requires one passing testcase per case, named by the
// case, classed by its clause, with the messages as its output.
func checkJUnitReport(t *testing.T, file string, cases []jsonReportCase) {
	t.Helper()
	var rep struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string    `xml:"name,attr"`
				Classname string    `xml:"classname,attr"`
				Failure   *struct{} `xml:"failure"`
				Error     *struct{} `xml:"error"`
				SystemOut string    `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Suites) == 0 || len(rep.Suites[0].Cases) != len(cases) {
		t.Fatalf("JUnit report: %d suites, cases do not match the JSON report's %d", len(rep.Suites), len(cases))
	}
	for i, jc := range rep.Suites[0].Cases {
		c := cases[i]
		if jc.Name != c.ID || jc.Classname != c.Clause || jc.Failure != nil || jc.Error != nil ||
			!strings.Contains(jc.SystemOut, c.Messages[0].Label) {
			t.Errorf("JUnit case %q (%q) does not say what the JSON report says of %s", jc.Name, jc.Classname, c.ID)
		}
	}
}

// checkHTMLReport requires the page to name each case, its clause and its
// verdict, and to carry its first message.
func checkHTMLReport(t *testing.T, file string, cases []jsonReportCase) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	page := html.UnescapeString(string(b))
	for _, c := range cases {
		section := `<section id="` + c.ID + `"><h3>` + c.ID + ` <small class="pass">pass</small></h3>`
		if !strings.Contains(page, section) || !strings.Contains(page, c.Clause) {
			t.Errorf("HTML report: no passing section with the clause for %s", c.ID)
			continue
		}
		first := c.Messages[0].Body
		if len(first) > 200 {
			first = first[:200]
		}
		if !strings.Contains(page, first) {
			t.Errorf("HTML report: the messages of %s are missing", c.ID)
		}
	}
}
