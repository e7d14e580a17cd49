package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// fedFile is a file of the federation's directory.
func (w *walker) fedFile(elem ...string) string {
	return filepath.Join(append([]string{w.fed.Dir}, elem...)...)
}

// citizenBrowser is the citizen's browser at home: the card in the home
// reader through pcscd signs every handshake that asks for a client
// certificate, each request on a fresh connection.
func (w *walker) citizenBrowser(ctx context.Context) (*browser.Browser, string, error) {
	var key crypto.Signer
	var cert *x509.Certificate
	how := ""
	if w.home == nil {
		return nil, "", errors.New("no PC/SC reader for the card (see above): the card login cannot be walked")
	}
	if err := w.home.insert(); err != nil {
		return nil, "", err
	}
	s, c, closeCard, err := w.home.cardSigner(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("the card in %s: %w", w.home.name(), err)
	}
	w.closeCard = func() { closeCard(); _ = w.home.remove() }
	key, cert, how = s, c, fmt.Sprintf("card %s in reader %q, PIN verified through pcscd", w.fed.Card, w.home.name())
	b, err := browser.New(browser.Config{RootCAs: w.fed.RootCAs, Certificate: []*x509.Certificate{cert}, Key: key,
		NoKeepAlive: true, Timeout: 20 * time.Second})
	return b, how, err
}

// login walks the browser from the portal's login to its dashboard and
// opens the Response the IdP posted to the portal.
func (w *walker) login(ctx context.Context) error {
	b, how, err := w.citizenBrowser(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w.out, "   %s\n", how)
	before := w.home.signatures()
	p, err := b.Get(ctx, w.fed.Portal+"/login?lang=en")
	if err != nil {
		return fmt.Errorf("%w\n%s", err, b)
	}
	w.pages["login"] = p.Body
	fmt.Fprintf(w.out, "   %s\n", w.path(b.Hops()))
	if p.Status != http.StatusOK || p.URL.String() != w.fed.Portal+"/" {
		return fmt.Errorf("the login ended at %s with HTTP %d", p.URL, p.Status)
	}
	signed := w.home.signatures() - before
	if signed < 1 {
		return errors.New("the card signed no TLS handshake: the login was not the card's")
	}
	fmt.Fprintf(w.out, "   the card signed %d TLS handshake(s) (PIV GENERAL AUTHENTICATE) at the IdP's card-login listener\n", signed)
	w.b = b
	a, err := w.assertion(b.Hops(), "card login")
	if err != nil {
		return err
	}
	if err := w.readAssertion(a); err != nil {
		return err
	}
	return w.softLogin(ctx)
}

// softLogin logs in as a browser without a card reader does, with the
// soft certificate the demo prints for people to import: the IdP accepts
// it with AuthnContext X509, never SmartcardPKI.
func (w *walker) softLogin(ctx context.Context) error {
	p12, err := os.ReadFile(w.fed.SoftP12)
	if err != nil {
		return err
	}
	key, cert, _, err := pkcs12.DecodeChain(p12, w.fed.SoftPassword)
	if err != nil {
		return err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return errors.New("the soft certificate's key cannot sign")
	}
	b, err := browser.New(browser.Config{RootCAs: w.fed.RootCAs, Certificate: []*x509.Certificate{cert}, Key: signer,
		Timeout: 20 * time.Second})
	if err != nil {
		return err
	}
	p, err := b.Get(ctx, w.fed.Portal+"/login?lang=en")
	if err != nil {
		return fmt.Errorf("the soft certificate's login: %w", err)
	}
	if p.Status != http.StatusOK || p.URL.String() != w.fed.Portal+"/" {
		return fmt.Errorf("the soft certificate's login ended at %s with HTTP %d", p.URL, p.Status)
	}
	a, err := w.assertion(b.Hops(), "soft certificate login")
	if err != nil {
		return err
	}
	if class := a.AuthnStatements[0].ClassRef; class != saml.ACX509 {
		return fmt.Errorf("the soft certificate logged in with AuthnContext %s, want X509", class)
	}
	fmt.Fprintf(w.out, "   the soft certificate (%s, as a browser imports it) logs in too, with AuthnContext %s\n",
		filepath.Base(w.fed.SoftP12), saml.ACX509)
	return nil
}

// path renders hops as the roles the browser went through.
func (w *walker) path(hops []browser.Hop) string {
	names := strings.NewReplacer(w.fed.Portal, "portal ", w.fed.IdP, "IdP ", w.fed.IdPCard, "IdP-card ", w.fed.DS, "DS ")
	var parts []string
	for _, h := range hops {
		u, _, _ := strings.Cut(h.URL, "?")
		parts = append(parts, fmt.Sprintf("%s %s %d", h.Method, names.Replace(u), h.Status))
	}
	return strings.Join(parts, " -> ")
}

// assertion finds the Response the browser posted to the portal's ACS,
// verifies it with the IdP's key, decrypts its assertion with the
// portal's key and returns it.
func (w *walker) assertion(hops []browser.Hop, who string) (*saml.Assertion, error) {
	var form url.Values
	for _, h := range hops {
		if h.Method == http.MethodPost && h.Form.Get("SAMLResponse") != "" {
			form = h.Form
		}
	}
	if form == nil {
		return nil, errors.New("the browser posted no SAMLResponse to the portal")
	}
	raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		return nil, err
	}
	idpCert, err := keyfile.ReadCert(w.fedFile("ra", "idp-signing.crt"))
	if err != nil {
		return nil, err
	}
	v := &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{idpCert})}
	el, err := xmlsec.ParseElement(raw, xmlsec.Limits{})
	if err != nil {
		return nil, err
	}
	resp, _, err := samlp.VerifyResponse(el, v)
	if err != nil {
		return nil, fmt.Errorf("the Response: %w", err)
	}
	if len(resp.Assertions) != 1 || resp.Assertions[0].Tag != "EncryptedAssertion" {
		return nil, fmt.Errorf("the Response carries %d assertions, not one EncryptedAssertion", len(resp.Assertions))
	}
	fmt.Fprintf(w.out, "   %s: samlp:Response, %d bytes by HTTP-POST, status %s, signed by %s: one EncryptedAssertion\n",
		who, len(raw), resp.Status.Code.Value, resp.Issuer.Value)
	key, err := keyfile.ReadKey(w.fedFile("ra", "portal-encryption.key"))
	if err != nil {
		return nil, err
	}
	dec, ok := key.(crypto.Decrypter)
	if !ok {
		return nil, errors.New("the portal's encryption key cannot decrypt")
	}
	plain, err := (&xmlenc.Decrypter{Key: dec, EntityID: w.fed.PortalEntityID}).Decrypt(resp.Assertions[0])
	if err != nil {
		return nil, err
	}
	a, _, err := saml.VerifyAssertion(plain, v)
	if err == nil && (a.Subject == nil || a.Subject.NameID == nil || len(a.AuthnStatements) != 1) {
		err = errors.New("the assertion has no NameID or no AuthnStatement")
	}
	return a, err
}

// readAssertion prints and checks the assertion: a pairwise pseudonym,
// SmartcardPKI, the DS bootstrap.
func (w *walker) readAssertion(a *saml.Assertion) error {
	id, class := a.Subject.NameID, a.AuthnStatements[0].ClassRef
	fmt.Fprintf(w.out, "   decrypted with the portal's key: NameID %s (%s), AuthnContext %s\n", id.Value, id.Format, class)
	if id.Format != saml.NameIDPersistent || id.Value == w.fed.Principal {
		return fmt.Errorf("the NameID %q is not a pairwise pseudonym", id.Value)
	}
	if class != saml.ACSmartcardPKI {
		return fmt.Errorf("AuthnContext %s, want SmartcardPKI", class)
	}
	eprs, err := wsf.BootstrapEPRs(a)
	if err != nil || len(eprs) != 1 || eprs[0].Metadata == nil || len(eprs[0].Metadata.SecurityContexts) == 0 {
		return fmt.Errorf("no Discovery Service bootstrap in the assertion (%v)", err)
	}
	e := eprs[0]
	sc := e.Metadata.SecurityContexts[0]
	fmt.Fprintf(w.out, "   DiscoveryEPR: %s at %s, mechanism %s, %d token(s)\n", e.Metadata.ProviderID, e.Address,
		strings.Join(sc.Mechanisms, " "), len(sc.Tokens))
	if e.Metadata.ProviderID != fedfiles.DSEntity || len(sc.Tokens) == 0 {
		return errors.New("the bootstrap does not point to the federation's DS with a token")
	}
	w.bootstrap = e
	return nil
}

// dashboard links the four institutions on the portal, as the citizen
// does (the portal's link button, the DS's consent page, allow), then
// reads the dashboard.
func (w *walker) dashboard(ctx context.Context) error {
	if w.b == nil {
		return errNoSession
	}
	for _, k := range fedfiles.Institutions {
		if err := w.consent(ctx, k); err != nil {
			return fmt.Errorf("linking %s: %w", k, err)
		}
	}
	p, err := w.get(ctx, "dashboard", "/")
	if err != nil {
		return err
	}
	want := []string{"Lab results", "Prescriptions", "Check-ups", "Eligibility", "Contributions"}
	for _, k := range fedfiles.Institutions {
		want = append(want, w.fed.Manifest.Institution(k).NameEn)
	}
	if err := shows("the dashboard", p, want...); err != nil {
		return err
	}
	fmt.Fprintf(w.out, "   dashboard, HTTP %d, %d bytes: sections of %s\n", p.Status, len(p.Body), strings.Join(want[5:], ", "))
	return nil
}

// consent links institution k: the portal's link form, the DS's consent
// page, allow, back to the portal.
func (w *walker) consent(ctx context.Context, k string) error {
	links, err := w.get(ctx, "institutions", "/institutions")
	if err != nil {
		return err
	}
	page, err := w.submit(ctx, w.b, links, "/institutions/link", url.Values{"provider": {fedfiles.Entities[k]}}, nil)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(page.URL.String(), w.fed.DS+"/consent") {
		return fmt.Errorf("the link button led to %s, not the DS's consent page", page.URL)
	}
	back, err := w.submit(ctx, w.b, page, "/consent", nil, url.Values{"answer": {"allow"}})
	if err != nil {
		return err
	}
	if back.URL.Path != "/institutions" || !strings.Contains(back.URL.RawQuery, "done.linked") {
		return fmt.Errorf("the consent ended at %s", back.URL)
	}
	fmt.Fprintf(w.out, "   %s: POST portal /institutions/link -> DS consent page %d -> allow -> portal /institutions %d\n",
		k, page.Status, back.Status)
	return nil
}

// services asks each WSP as the portal does, reads the WSPs' answers on
// the portal's pages and books the first open outpatient slot.
func (w *walker) services(ctx context.Context) error {
	if w.b == nil {
		return errNoSession
	}
	if err := w.callWSPs(ctx); err != nil {
		return err
	}
	for _, pg := range []struct{ path, want string }{
		{"/labs", "Lab results"}, {"/prescriptions", "Prescriptions"}, {"/checkups", "Check-ups"},
		{"/eligibility", "Eligibility"}, {"/pension", "Contributions"}, {"/appointments", "Appointments"},
	} {
		p, err := w.get(ctx, strings.TrimPrefix(pg.path, "/"), pg.path)
		if err != nil {
			return err
		}
		if err := shows(pg.path, p, pg.want); err != nil {
			return err
		}
		rows := strings.Count(string(p.Body), "<tr>")
		if !strings.Contains(string(p.Body), "<td") {
			return fmt.Errorf("%s shows no data", pg.path)
		}
		fmt.Fprintf(w.out, "   GET %-14s HTTP %d, %6d bytes, %2d table rows\n", pg.path, p.Status, len(p.Body), rows)
	}
	appts, err := w.get(ctx, "appointments", "/appointments")
	if err != nil {
		return err
	}
	booked, err := w.submit(ctx, w.b, appts, "/appointments/book", nil, nil)
	if err != nil {
		return err
	}
	w.pages["booked"] = booked.Body
	if err := shows("after booking", booked, "Your appointment is booked."); err != nil {
		return err
	}
	bodies := [][]byte{}
	for _, b := range w.pages {
		bodies = append(bodies, b)
	}
	if err := w.noLocalID(bodies); err != nil {
		return err
	}
	fmt.Fprintf(w.out, "   POST /appointments/book -> HTTP %d: \"Your appointment is booked.\" (a DST Create at the hospital's WSP)\n", booked.Status)
	return nil
}

// audit reads the portal's access log.
func (w *walker) audit(ctx context.Context) error {
	if w.b == nil {
		return errNoSession
	}
	p, err := w.get(ctx, "access", "/access")
	if err != nil {
		return err
	}
	body := string(p.Body)
	var missing []string
	desk := "<td>" + w.fed.Manifest.Institution(fedfiles.DeskInstitution).NameEn + "</td>"
	deskRead := "<td>" + w.fed.Manifest.Institution("insurer").NameEn + "</td>" + desk + "<td>Read</td><td>Insurance eligibility</td>"
	for _, x := range []string{"Token issued", "Link (consent) recorded", "Created", "Discovery Service", deskRead} {
		if !strings.Contains(body, x) {
			missing = append(missing, x)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the access log lacks %q", missing)
	}
	fmt.Fprintf(w.out, "   GET /access HTTP %d, %d bytes, %d entries from the DS and the institutions: tokens issued, links recorded, the booking created,\n",
		p.Status, len(p.Body), strings.Count(body, "<tr>")-1)
	fmt.Fprintf(w.out, "   %d entries whose accessor is My Portal,\n", strings.Count(body, "</td><td>My Portal</td><td>"))
	fmt.Fprintf(w.out, "   and %d entries whose accessor is hospital A (its reception terminal), the insurer's record of its eligibility read among them\n",
		strings.Count(body, "</td>"+desk+"<td>"))
	return nil
}
