package lassoidp_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/lasso"
)

// TestRenkeiIdPLassoECP: Lasso's ECP is the client (the reception
// terminal's role): it takes the Lasso SP's PAOS AuthnRequest, finds our
// SOAP SingleSignOnService in our metadata as served, and the Go transport
// carries the SOAP call to /ecp over a TLS connection whose handshake the
// card signs through PC/SC; Lasso's ECP checks our ecp:Response header and
// the Lasso SP accepts the assertion (encrypted or plain, persistent or
// transient, and with the bootstrap for the SP that asks for it).
func TestRenkeiIdPLassoECP(t *testing.T) {
	f := newFed(t)
	for _, v := range spVariants {
		sp := f.sps[v.name]
		for _, format := range []string{lasso.Persistent, lasso.Transient} {
			t.Run(fmt.Sprintf("ok/%s/%s", v.name, format), func(t *testing.T) {
				var run *lasso.ECPRun
				var err error
				f.signed(t, func() {
					run, err = (&lasso.ECP{IdPMetadata: f.idp.Metadata, SP: f.browserWith(t, nil).Client(),
						IdP: cardClient(f.browserWith(t, f.card))}).Run(ctx(t), t, sp.ECPURL(format))
				})
				if err != nil {
					t.Fatalf("%v\n%s\nIdP output:\n%s", err, run, f.idp.Stderr())
				}
				if run.IdPURL != f.idp.ECPURL || run.IdPStatus != http.StatusOK || run.ACS != sp.URL+"/ecp-acs" {
					t.Fatalf("Lasso's ECP went to %s (HTTP %d) then %s\n%s", run.IdPURL, run.IdPStatus, run.ACS, run)
				}
				r, err := lasso.ParseResult(run.Status, run.Body)
				if err != nil {
					t.Fatalf("%v\n%s\nLasso SP:\n%s", err, run, sp.Stderr())
				}
				f.check(t, r, v.cfg.Encrypt, urnFormat(format))
				if v.cfg.RequestDiscoveryEPR {
					f.checkBootstrap(t, r, sp)
				}
				if format == lasso.Persistent && v.name == "encrypted" {
					if web, _ := f.login(t, sp, lasso.Redirect, format); web.NameID != r.NameID {
						t.Fatalf("persistent NameID over ECP %q, over the browser %q: one federation, one NameID", r.NameID, web.NameID)
					}
				}
			})
		}
	}
}

// cardClient is a client on a browser's transport (the card's key) that
// follows no redirects, as a SOAP client does not.
func cardClient(b *browser.Browser) *http.Client {
	return &http.Client{Transport: b.Client().Transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
