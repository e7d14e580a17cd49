package lasso

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// PAOS headers of an ECP's request to the SP (SAML Profiles 4.2.3.1 and
// the Liberty PAOS binding).
const (
	PAOSContentType = "application/vnd.paos+xml"
	PAOSHeader      = `ver="urn:liberty:paos:2003-08";"urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"`
	maxMessage      = 4 << 20
)

// ECPError is Lasso's ECP refusing a message.
type ECPError struct {
	Step string
	Err  string `json:"error"`
	Code int    `json:"code"`
}

func (e *ECPError) Error() string {
	return fmt.Sprintf("lasso ECP refused the %s: %s (code %d)", e.Step, e.Err, e.Code)
}

// ECPRun records one ECP exchange, message by message.
type ECPRun struct {
	// PAOSRequest is the SP's PAOS envelope; ToIdP what the ECP sent to
	// IdPURL; IdPResponse the IdP's SOAP answer (IdPStatus its HTTP
	// status); ToSP what the ECP sent to ACS.
	PAOSRequest, ToIdP, IdPResponse, ToSP []byte
	IdPURL, ResponseConsumerURL, ACS      string
	RelayState                            string
	IdPStatus                             int
	// Status and Body are the SP's final answer.
	Status int
	Body   []byte
}

// String shows the run's messages as text, for failure messages.
func (r *ECPRun) String() string {
	return fmt.Sprintf("PAOS request:\n%s\nto IdP %s:\n%s\nIdP answered %d:\n%s\nto SP %s:\n%s\nSP answered %d:\n%s",
		r.PAOSRequest, r.IdPURL, r.ToIdP, r.IdPStatus, r.IdPResponse, r.ACS, r.ToSP, r.Status, r.Body)
}

// ECP is Lasso's ECP message processing (lasso.Ecp) as a client whose
// transport is Go's: SP is the client for the SP, IdP the client for the
// IdP's SOAP endpoint, which carries the card's TLS client key.
type ECP struct {
	// IdPMetadata is given to Lasso exactly as the IdP serves it; Lasso
	// finds the IdP's SOAP SingleSignOnService there.
	IdPMetadata []byte
	SP, IdP     *http.Client
	// IdPURL, when set, overrides the endpoint Lasso chose.
	IdPURL string
}

// Run drives one exchange: GET spURL with the PAOS headers, relay the
// AuthnRequest to the IdP over SOAP, relay the IdP's response to the ACS
// Lasso checked, and return everything seen. A Lasso refusal is an
// *ECPError; the run so far comes back with any error.
func (e *ECP) Run(ctx context.Context, tb testing.TB, spURL string) (*ECPRun, error) {
	tb.Helper()
	Require(tb)
	dir := tb.TempDir()
	md := filepath.Join(dir, "idp.xml")
	if err := os.WriteFile(md, e.IdPMetadata, 0o600); err != nil {
		return nil, err
	}
	p, err := startProc(tb, dir, "ecp.py", nil, md)
	if err != nil {
		return nil, err
	}
	run := &ECPRun{}
	return run, e.steps(ctx, p, run, spURL)
}

func (e *ECP) steps(ctx context.Context, p *proc, run *ECPRun, spURL string) error {
	var err error
	if run.PAOSRequest, _, err = send(ctx, e.SP, http.MethodGet, spURL, "", nil); err != nil {
		return err
	}
	if err := e.relayRequest(p, run); err != nil {
		return err
	}
	if run.IdPResponse, run.IdPStatus, err = send(ctx, e.IdP, http.MethodPost, run.IdPURL, "text/xml", run.ToIdP); err != nil {
		return err
	}
	if err := relayResponse(p, run); err != nil {
		return err
	}
	run.Body, run.Status, err = send(ctx, e.SP, http.MethodPost, run.ACS, PAOSContentType, run.ToSP)
	return err
}

func (e *ECP) relayRequest(p *proc, run *ECPRun) error {
	var out struct {
		ECPError
		ToIdP, IdPURL, ResponseConsumerURL, RelayState string
	}
	if err := p.exchange(map[string]string{"paos": string(run.PAOSRequest)}, &out); err != nil {
		return err
	}
	if out.Err != "" {
		out.ECPError.Step = "SP's PAOS request"
		return &out.ECPError
	}
	run.ToIdP, run.IdPURL, run.ResponseConsumerURL, run.RelayState = []byte(out.ToIdP), out.IdPURL, out.ResponseConsumerURL, out.RelayState
	if e.IdPURL != "" {
		run.IdPURL = e.IdPURL
	}
	return nil
}

func relayResponse(p *proc, run *ECPRun) error {
	var out struct {
		ECPError
		ToSP, ACS string
	}
	if err := p.exchange(map[string]string{"idpResponse": string(run.IdPResponse)}, &out); err != nil {
		return err
	}
	if out.Err != "" {
		out.ECPError.Step = "IdP's response"
		return &out.ECPError
	}
	run.ToSP, run.ACS = []byte(out.ToSP), out.ACS
	return nil
}

// send makes one request; a GET carries the PAOS headers.
func send(ctx context.Context, c *http.Client, method, url, ctype string, body []byte) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	if method == http.MethodGet {
		req.Header.Set("Accept", "text/html; "+PAOSContentType)
		req.Header.Set("PAOS", PAOSHeader)
	} else {
		req.Header.Set("Content-Type", ctype)
	}
	if ctype == "text/xml" {
		req.Header.Set("SOAPAction", `"http://www.oasis-open.org/committees/security"`)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxMessage))
	if err == nil && method == http.MethodGet && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("lasso ECP: GET %s: HTTP %d: %q", url, resp.StatusCode, b)
	}
	return b, resp.StatusCode, err
}
