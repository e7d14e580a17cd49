package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// idpMetadata fetches the IdP's metadata over HTTPS, has xmlsec1 verify
// its signature against the service CA, and gives it to the portal, which
// verifies it with the IdP's key and takes the SSO endpoint from it.
func (d *demo) idpMetadata(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.idpURL+idp.PathMetadata, nil)
	if err != nil {
		return err
	}
	client, err := d.portalClient()
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET metadata: HTTP %d %v", resp.StatusCode, err)
	}
	if err := d.xmlsec1Verify("idp-metadata.xml", body, "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"); err != nil {
		return err
	}
	el, err := xmlsec.ParseElement(body, xmlsec.Limits{})
	if err != nil {
		return err
	}
	if err := d.portal.trustIdP(el, d.idpCert); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   xmlsec1 verified %d bytes of signed metadata against the service CA\n", len(body))
	fmt.Fprintf(d.out, "   portal: %s, HTTP-Redirect SingleSignOnService %s\n", d.portal.idpID, d.portal.idpSSO)
	return nil
}

// portalClient is an HTTPS client trusting the service CA, with no client
// certificate and no idle connection left behind: the portal's own.
func (d *demo) portalClient() (*http.Client, error) {
	b, err := browser.New(browser.Config{RootCAs: d.serviceRoots(), ServerName: "localhost", NoKeepAlive: true})
	if err != nil {
		return nil, err
	}
	return b.Client(), nil
}

// xmlsec1Verify writes doc and the service CA to the demo directory and
// runs xmlsec1 --verify on it.
func (d *demo) xmlsec1Verify(name string, doc []byte, idNode string) error {
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		return errors.New("xmlsec1 is not installed (make demo installs it)")
	}
	dir := filepath.Join(d.dir, "xmlsec1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	file, ca := filepath.Join(dir, name), filepath.Join(dir, "service-ca.pem")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d.ra.ServiceCA().Raw}), 0o600); err != nil {
		return err
	}
	out, err := exec.Command("xmlsec1", "--verify", "--id-attr:ID", idNode, "--trusted-pem", ca, file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("xmlsec1 --verify %s: %v\n%s", name, err, out)
	}
	return nil
}

// login walks the browser from the portal's login URL and returns the
// page it ended on, the hops it took and how many times the card signed.
func (d *demo) login(ctx context.Context, query string) (*browser.Page, []browser.Hop, int, error) {
	before, n := d.reader.signatures(), len(d.browser.Hops())
	page, err := d.browser.Get(ctx, d.portal.BaseURL+portalLogin+query)
	hops := d.browser.Hops()[n:]
	if err != nil {
		return nil, hops, 0, fmt.Errorf("%w\n%s", err, d.browser)
	}
	return page, hops, d.reader.signatures() - before, nil
}

// path renders hops as the roles the browser went through.
func (d *demo) path(hops []browser.Hop) string {
	names := strings.NewReplacer(d.portal.BaseURL, "portal ", d.idpURL, "IdP ", d.cardURL, "IdP card-login ")
	var parts []string
	for _, h := range hops {
		u, _, _ := strings.Cut(h.URL, "?")
		parts = append(parts, fmt.Sprintf("%s %s %d", h.Method, names.Replace(u), h.Status))
	}
	return strings.Join(parts, " -> ")
}

// accepted checks that the browser ended on the portal's welcome page and
// returns what the portal accepted.
func (d *demo) accepted(page *browser.Page, hops []browser.Hop) (*login, error) {
	got, err := d.portal.result()
	if page.Status != http.StatusOK || !strings.HasPrefix(page.URL.String(), d.portal.BaseURL+portalACS) {
		return nil, fmt.Errorf("browser ended at %s with HTTP %d (portal: %v; IdP: %s)\n%s", page.URL, page.Status, err, d.idpLog.last(), d.path(hops))
	}
	if err != nil {
		return nil, err
	}
	return got, nil
}

func (d *demo) visited(hops []browser.Hop, base string) bool {
	for _, h := range hops {
		if strings.HasPrefix(h.URL, base+"/") {
			return true
		}
	}
	return false
}

func (d *demo) sso(ctx context.Context) error {
	page, hops, signed, err := d.login(ctx, "")
	if err != nil {
		return err
	}
	if d.first, err = d.accepted(page, hops); err != nil {
		return err
	}
	if signed != 1 || !d.visited(hops, d.cardURL) {
		return fmt.Errorf("the card signed %d handshakes, want 1, on the way %s", signed, d.path(hops))
	}
	fmt.Fprintf(d.out, "   %s\n", d.path(hops))
	fmt.Fprintf(d.out, "   the card signed %d TLS handshake (%d GENERAL AUTHENTICATE) at the card-login listener\n", signed, signed)
	return nil
}

// consumed prints what the portal read from the verified assertion: the
// pairwise NameID, which the relay database links to the principal, the
// AuthnContext and the Discovery Service bootstrap.
func (d *demo) consumed(ctx context.Context) error {
	a := d.first.Assertion
	id := a.Subject.NameID
	f, err := d.db.FederationByNameID(ctx, demoPortal, id.Value)
	if err != nil {
		return fmt.Errorf("the NameID is not in the relay database: %w", err)
	}
	if f.PrincipalID != d.principal || id.Value == d.principal || id.Format != saml.NameIDPersistent {
		return fmt.Errorf("NameID %+v is not the principal's pairwise pseudonym", id)
	}
	if len(d.first.Bootstrap) != 1 || d.first.Bootstrap[0].Metadata == nil || len(d.first.Bootstrap[0].Metadata.SecurityContexts) == 0 {
		return errors.New("no Discovery Service bootstrap EPR in the assertion")
	}
	epr := d.first.Bootstrap[0]
	sc := epr.Metadata.SecurityContexts[0]
	fmt.Fprintf(d.out, "   EncryptedAssertion decrypted; signed by %s for %s; pairwise persistent NameID %s\n", a.Issuer.Value, demoPortal, id.Value)
	fmt.Fprintf(d.out, "   AuthnContext %s\n", a.AuthnStatements[0].ClassRef)
	fmt.Fprintf(d.out, "   DiscoveryEPR: address %s, mechanism %s, %d token(s)\n", epr.Address, strings.Join(sc.Mechanisms, " "), len(sc.Tokens))
	return nil
}

func (d *demo) xmlsec1(context.Context) error {
	b, err := xmlsec.Serialize(d.first.Signed)
	if err != nil {
		return err
	}
	if err := d.xmlsec1Verify("assertion.xml", b, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   xmlsec1: assertion %s verified against the service CA\n", d.first.Assertion.ID)
	return nil
}

// replay posts the first SSO's form to the portal's ACS a second time.
func (d *demo) replay(ctx context.Context) error {
	var form *browser.Hop
	for _, h := range d.browser.Hops() {
		if h.Auto && h.Method == http.MethodPost && h.Form.Get("SAMLResponse") != "" {
			form = &h
			break
		}
	}
	if form == nil {
		return errors.New("the first SSO posted no SAMLResponse")
	}
	page, err := d.browser.Post(ctx, form.URL, form.Form)
	if err != nil {
		return err
	}
	_, perr := d.portal.result()
	if page.Status != http.StatusForbidden || !errors.Is(perr, store.ErrReplay) {
		return fmt.Errorf("replayed Response not refused: HTTP %d, %v", page.Status, perr)
	}
	fmt.Fprintf(d.out, "   HTTP %d, refused: %v\n", page.Status, perr)
	return nil
}

func (d *demo) sessionSSO(ctx context.Context) error {
	page, hops, signed, err := d.login(ctx, "")
	if err != nil {
		return err
	}
	got, err := d.accepted(page, hops)
	if err != nil {
		return err
	}
	if signed != 0 || d.visited(hops, d.cardURL) {
		return fmt.Errorf("the card signed %d handshakes on the way %s", signed, d.path(hops))
	}
	if got.Assertion.Subject.NameID.Value != d.first.Assertion.Subject.NameID.Value {
		return errors.New("the session answered with another NameID")
	}
	if !got.Assertion.AuthnStatements[0].AuthnInstant.Equal(d.first.Assertion.AuthnStatements[0].AuthnInstant) {
		return errors.New("the session answered with another AuthnInstant than the card login's")
	}
	fmt.Fprintf(d.out, "   %s\n", d.path(hops))
	fmt.Fprintf(d.out, "   no card-login hop, 0 GENERAL AUTHENTICATE; same NameID, AuthnInstant %s (the first login's)\n",
		got.Assertion.AuthnStatements[0].AuthnInstant.Format("15:04:05"))
	return nil
}

func (d *demo) forceAuthn(ctx context.Context) error {
	page, hops, signed, err := d.login(ctx, "?force=1")
	if err != nil {
		return err
	}
	got, err := d.accepted(page, hops)
	if err != nil {
		return err
	}
	if signed != 1 || !d.visited(hops, d.cardURL) {
		return fmt.Errorf("ForceAuthn: the card signed %d handshakes on the way %s", signed, d.path(hops))
	}
	fmt.Fprintf(d.out, "   %s\n", d.path(hops))
	fmt.Fprintf(d.out, "   ForceAuthn: the card signed %d fresh TLS handshake; AuthnContext %s\n", signed, got.Assertion.AuthnStatements[0].ClassRef)
	return nil
}

var loginTitle = regexp.MustCompile(`<strong>([^<]*)</strong>`)

// revoke revokes the card at the RA (its CRL, which the IdP reads again
// at once rather than at its next refresh) and in the relay database, as
// the RA's revoke command does, then tries to log in with it. The
// request carries ForceAuthn so that the IdP asks for the card: the
// session opened before the revocation is another matter (single logout).
func (d *demo) revoke(ctx context.Context) error {
	if err := d.ra.Revoke(demoCard, 1); err != nil {
		return err
	}
	crl, err := d.ra.WriteCRL()
	if err != nil {
		return err
	}
	if err := d.idp.ReloadCRLs(); err != nil {
		return fmt.Errorf("the IdP did not take the new CRL: %w", err)
	}
	if _, err := d.db.RevokeCard(ctx, demoCard, time.Now().UTC()); err != nil {
		return err
	}
	page, hops, _, err := d.login(ctx, "?force=1")
	if err != nil {
		return err
	}
	m := loginTitle.FindSubmatch(page.Body)
	if page.Status != http.StatusForbidden || m == nil || !strings.HasPrefix(page.URL.String(), d.cardURL+idp.PathLogin) || d.visited(hops, d.portal.BaseURL+portalACS) {
		return fmt.Errorf("revoked card not refused: HTTP %d at %s\n%s", page.Status, page.URL, d.path(hops))
	}
	fmt.Fprintf(d.out, "   CRL #%s lists the card, and the IdP read it at once (renkei-idp reads it every 30 s); the relay database marks it revoked\n", crl.Number)
	fmt.Fprintf(d.out, "   IdP card-login page, HTTP %d: %s\n", page.Status, m[1])
	return nil
}
