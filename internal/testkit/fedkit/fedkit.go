// Package fedkit is the whole federation for tests, every role as it
// runs: the renkei-idp process (internal/testkit/idpkit) over a SQLite
// relay database that the Discovery Service shares, the DS, the sample
// institutions' WSPs over their generated back offices, and My Portal,
// each built by its assembly from the files an operator would write, on
// its own loopback HTTPS listener, all trusting one metadata set. A test
// makes a citizen with a card (the IdP's registry, the DS's links to each
// institution's local identifier, as enrolment leaves them) and walks the
// portal in a browser. Nothing here is for production use.
package fedkit

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/dsserver"
	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/internal/portalserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsc/portal"
	"github.com/renkei-idwsf/renkei/wsp/sample"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Options vary the federation.
type Options struct {
	// Institutions are the sample institutions whose WSPs run; nil is all
	// four.
	Institutions []string
	// PortalHost, when set, is the portal's host name in its entityID and
	// BaseURL (a browser maps it to the loopback listener); "" is
	// 127.0.0.1 and the listener's port.
	PortalHost string
	// Timeout is the portal's per-institution timeout ("" is its default).
	Timeout string
	// Tap is given every body the portal receives (portalserver.Options).
	Tap func(body []byte)
	// SessionsPerCitizen is the portal's maxSessionsPerCitizen.
	SessionsPerCitizen int
	// Desks are the reception terminals: institution key -> the PAOS
	// AssertionConsumerService of its terminal (the ECP consumer of the
	// desk's SP role), and the DS lists the institution as a reception
	// terminal (eligibility; clinical results with the card present). An
	// institution not listed gets wspserver.DefaultDeskACS of its WSP's
	// base URL, and is no terminal of the DS.
	Desks map[string]string
}

// Fed is the running federation.
type Fed struct {
	Dir      string
	IdP      *idpkit.IdP
	DS       *dsserver.Server
	WSPs     map[string]*wspserver.Server
	Portal   *portalserver.Server
	Manifest *sample.Manifest
	Pension  *httptest.Server
	// PortalURL is the portal's BaseURL; PortalAddr its listener;
	// PortalStore its SQLite file.
	PortalURL   string
	PortalAddr  string
	PortalStore string
	// RootCAs trust every listener's certificate (check ServerName
	// localhost, or the loopback address).
	RootCAs *x509.CertPool
	// PortalSigning and PortalEncryption are the portal's keys.
	PortalSigning, PortalEncryption *pki.Identity
	// Sources are the metadata every role but the IdP loads.
	Sources []portalserver.MetadataSource
	// Logs keep the JSON log lines of the DS ("ds"), each WSP ("wsp:"
	// and the institution key), the portal ("portal") and a termkit desk
	// ("terminal"); the IdP's are its process's output (IdP.Stderr).
	// Every role in process has an admin listener on loopback (its
	// AdminAddr).
	Logs *logkit.Capture
}

// PortalEntity is My Portal's entityID on host (a host:port).
func PortalEntity(host string) string { return "https://" + host + "/metadata" }

// listen opens a loopback listener and returns it with its https URL.
func listen(t testing.TB) (net.Listener, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, "https://" + ln.Addr().String()
}

func write(t testing.TB, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pair writes id's certificate and key into dir as name.crt, name.key.
func pair(t testing.TB, dir, name string, id *pki.Identity) rolePair {
	t.Helper()
	return rolePair{Cert: write(t, filepath.Join(dir, name+".crt"), id.CertPEM()), Key: write(t, filepath.Join(dir, name+".key"), id.KeyPEM())}
}

type rolePair = portalserver.KeyPair

// Start starts the federation: it generates the sample back offices, the
// portal's keys and the institutions' entities, starts the IdP process with
// the portal and the institutions' SP roles as its SPs and the
// DS as its discovery service, then the DS, the WSPs (registered at the
// DS) and the portal.
func Start(t testing.TB, o Options) *Fed {
	t.Helper()
	ctx := context.Background()
	f := &Fed{Dir: t.TempDir(), WSPs: map[string]*wspserver.Server{}, Logs: logkit.NewCapture(t)}
	ca := pki.MustGet().CA
	f.RootCAs = x509.NewCertPool()
	f.RootCAs.AddCert(ca.Cert)
	var err error
	if f.Manifest, err = sample.Generate(f.Dir, sample.Options{Reference: time.Now().UTC().Truncate(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	recs, err := sample.LoadPensionRecords(filepath.Join(f.Dir, sample.PensionData))
	if err != nil {
		t.Fatal(err)
	}
	f.Pension = httptest.NewServer(sample.NewPensionOffice(recs))
	t.Cleanup(f.Pension.Close)

	dsLn, dsBase := listen(t)
	portalLn, portalBase := listen(t)
	f.PortalAddr = portalLn.Addr().String()
	if o.PortalHost != "" {
		portalBase = "https://" + o.PortalHost
	}
	f.PortalURL = portalBase
	portalID := PortalEntity(portalBase[len("https://"):])

	// The portal's keys and its SP metadata, for the IdP to load.
	pdir := filepath.Join(f.Dir, "portal")
	if err := os.MkdirAll(pdir, 0o700); err != nil {
		t.Fatal(err)
	}
	psign, err := ca.IssueHost("portal-signing", pki.RSA2048, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	penc, err := ca.Issue("portal-encryption", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"localhost"}
	if o.PortalHost != "" {
		hosts = append(hosts, o.PortalHost)
	}
	ptls, err := ca.IssueHost("portal-tls", pki.P256, hosts...)
	if err != nil {
		t.Fatal(err)
	}
	f.PortalSigning, f.PortalEncryption = psign, penc
	spMD := fedfiles.PortalEntity(portalID, portalBase, psign.Cert, penc.Cert)
	spXML, err := xmlsec.Serialize(spMD.Element())
	if err != nil {
		t.Fatal(err)
	}

	// The institutions' listeners and entities first: the IdP loads the
	// entities' SP roles (the reception desk, the WSP's
	// SingleLogoutService) beside the portal's.
	insts := o.Institutions
	if insts == nil {
		insts = []string{sample.HospitalA, sample.HospitalB, sample.Insurer, sample.Pension}
	}
	wspLn, wspURL := map[string]net.Listener{}, map[string]string{}
	fed := &md.EntitiesDescriptor{Name: "renkei-test-federation"}
	fed.Entities = append(fed.Entities, spMD)
	spDocs := [][]byte{spXML}
	var terminals []string
	for _, key := range insts {
		wspLn[key], wspURL[key] = listen(t)
		e := fedfiles.InstitutionEntity(f.Manifest.Institution(key), wspkit.Entities[key], wspURL[key], o.Desks[key],
			wspkit.WSPIdentity(t, key).Cert)
		if o.Desks[key] != "" {
			terminals = append(terminals, e.EntityID)
		}
		fed.Entities = append(fed.Entities, e)
		b, err := xmlsec.Serialize(e.Element())
		if err != nil {
			t.Fatal(err)
		}
		spDocs = append(spDocs, b)
	}
	fedXML, err := xmlsec.Serialize(fed.Element())
	if err != nil {
		t.Fatal(err)
	}

	relay := "sqlite:" + filepath.Join(f.Dir, "relay.db")
	f.IdP = idpkit.New(t, idpkit.Options{SPMetadata: spDocs, Discovery: true,
		DSAddress: dsBase + dsserver.PathSOAP, Store: relay})
	f.IdP.Start()

	// One metadata set every role but the IdP loads: the IdP as it
	// serves its metadata, the DS as the IdP knows it, and the portal
	// and the institutions.
	sources := []portalserver.MetadataSource{
		{Location: write(t, filepath.Join(f.Dir, "idp.xml"), f.IdP.Metadata), Unsigned: true},
		{Location: filepath.Join(f.IdP.Dir, "ds.xml"), Unsigned: true},
		{Location: write(t, filepath.Join(f.Dir, "federation.xml"), fedXML), Unsigned: true},
	}
	aggregate := sources[2].Location
	f.Sources = sources

	// The DS over the IdP's relay database, its key the one the IdP's
	// ds.xml lists.
	ddir := filepath.Join(f.Dir, "ds")
	if err := os.MkdirAll(ddir, 0o700); err != nil {
		t.Fatal(err)
	}
	dkp := pair(t, ddir, "ds", f.IdP.DSEncryption)
	df := &dsserver.File{EntityID: idpkit.DSEntityID, BaseURL: dsBase, TLS: dkp, Signing: dkp, Encryption: dkp, CheckOutgoing: true,
		IdP: f.IdP.EntityID, Store: relay, Metadata: sources, Admin: "127.0.0.1:0", Policy: fedfiles.DSPolicy(portalID, terminals)}
	df.Defaults()
	if f.DS, err = dsserver.Build(ctx, df, dsserver.Options{Listener: dsLn, Log: f.Logs.Logger("ds")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.DS.Shutdown() })
	if err := f.DS.Start(ctx); err != nil {
		t.Fatal(err)
	}

	for _, key := range insts {
		wf := wspkit.InstitutionFile(t, f.Dir, f.Manifest, key, aggregate, idpkit.DSEntityID, portalID)
		wf.Metadata = sources
		wf.BaseURL, wf.Listen, wf.IdP, wf.Admin = wspURL[key], wspLn[key].Addr().String(), f.IdP.EntityID, "127.0.0.1:0"
		backend := ""
		if key == sample.Pension {
			backend = f.Pension.URL
		}
		s, err := wspserver.Build(ctx, wf, wspserver.Options{Listener: wspLn[key], RootCAs: f.RootCAs, Backend: backend,
			Log: f.Logs.Logger("wsp:" + key), RegisterInterval: time.Hour})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		t.Cleanup(func() { _ = s.Shutdown() })
		if _, err := s.Register(ctx); err != nil {
			t.Fatalf("%s registers: %v", key, err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		f.WSPs[key] = s
	}

	f.PortalStore = filepath.Join(pdir, "portal.db")
	pf := &portalserver.File{EntityID: portalID, BaseURL: portalBase, TLS: pair(t, pdir, "tls", ptls),
		Signing: pair(t, pdir, "signing", psign), Encryption: pair(t, pdir, "encryption", penc),
		Metadata: sources, Store: "sqlite:" + f.PortalStore, IdP: f.IdP.EntityID, DS: idpkit.DSEntityID, Admin: "127.0.0.1:0",
		Timeout: o.Timeout, MaxSessionsPerCitizen: o.SessionsPerCitizen, Names: map[string]string{"ja": "マイポータル", "en": "My Portal"}}
	pf.Defaults()
	if err := pf.Validate(); err != nil {
		t.Fatal(err)
	}
	if f.Portal, err = portalserver.Build(ctx, pf, portalserver.Options{Listener: portalLn, RootCAs: f.RootCAs, Log: f.Logs.Logger("portal"),
		Tap: o.Tap}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Portal.Shutdown() })
	if err := f.Portal.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// Citizen makes the sample person's principal at the IdP with a card
// (its key P-256, the certificate naming the holder), and links the
// principal at every running institution that knows the person, under
// their local identifier, as the DS's operator command does. No service
// is associated yet: the citizen consents on the portal.
func (f *Fed) Citizen(t testing.TB, person string) (principal string, card *pki.Identity) {
	t.Helper()
	p := f.Manifest.Person(person)
	if p == nil {
		t.Fatalf("no sample person %q", person)
	}
	principal = "principal-" + person
	birth, _ := time.Parse(time.DateOnly, p.BirthDate)
	card = f.IdP.IssueCardFor(principal, "HIC-"+person, pki.P256, ra.Holder{Name: p.Name, BirthDate: birth})
	for key, local := range p.Local {
		if f.WSPs[key] == nil {
			continue
		}
		if _, err := f.DS.DS.LinkByHand(context.Background(), "fedkit", principal, wspkit.Entities[key], local); err != nil {
			t.Fatal(err)
		}
	}
	return principal, card
}

// Browser is the card holder's browser: the card's key signs the TLS
// handshake wherever a server asks for a client certificate (the IdP's
// card login); it keeps cookies, follows redirects and submits the
// auto-posting SAML forms.
func (f *Fed) Browser(t testing.TB, card *pki.Identity) *browser.Browser {
	t.Helper()
	b, err := browser.New(browser.Config{RootCAs: f.RootCAs, ServerName: idpkit.ServerName,
		Certificate: []*x509.Certificate{card.Cert}, Key: card.Key, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Login logs the browser's card holder in to the portal (card login at
// the IdP, the Response posted to the portal) and returns the dashboard.
func (f *Fed) Login(t testing.TB, b *browser.Browser) *browser.Page {
	t.Helper()
	p, err := b.Get(context.Background(), f.PortalURL+portal.PathLogin)
	if err != nil || p.Status != http.StatusOK || p.URL.String() != f.PortalURL+"/" {
		t.Fatalf("login: %v\n%s\nIdP:\n%s", err, b, f.IdP.Stderr())
	}
	return p
}

// Consent links the institution key for the logged-in card holder the
// way the citizen does: the portal's link button, the DS's consent page,
// allow.
func (f *Fed) Consent(t testing.TB, b *browser.Browser, key string) {
	t.Helper()
	ctx := context.Background()
	links, err := b.Get(ctx, f.PortalURL+"/institutions")
	if err != nil {
		t.Fatal(err)
	}
	consent := submit(t, b, links, "/institutions/link", "provider", wspkit.Entities[key], nil)
	if !strings.HasPrefix(consent.URL.String(), f.DS.ConsentURL()) {
		t.Fatalf("linking %s led to %s, not the DS's consent page", key, consent.URL)
	}
	back := submit(t, b, consent, "/consent", "", "", url.Values{"answer": {"allow"}})
	if back.URL.Path != "/institutions" || !strings.Contains(back.URL.RawQuery, "done.linked") {
		t.Fatalf("linking %s ended at %s", key, back.URL)
	}
}

// SessionCookie returns the portal session cookie the browser holds.
func (f *Fed) SessionCookie(t testing.TB, b *browser.Browser) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(f.PortalURL)
	for _, c := range b.Jar().Cookies(u) {
		if strings.HasSuffix(c.Name, "portal-session") {
			return c
		}
	}
	t.Fatal("the browser holds no portal session cookie")
	return nil
}

// submit submits the page's first form to action whose field has value
// (any form when field is ""), with set added.
func submit(t testing.TB, b *browser.Browser, p *browser.Page, action, field, value string, set url.Values) *browser.Page {
	t.Helper()
	forms, err := browser.ParseForms(p.Body, p.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, fm := range forms {
		if !strings.HasSuffix(fm.Action.Path, action) || field != "" && fm.Values.Get(field) != value {
			continue
		}
		for k, v := range set {
			fm.Values[k] = v
		}
		res, err := b.Submit(context.Background(), fm)
		if err != nil {
			t.Fatalf("submit %s: %v", action, err)
		}
		return res
	}
	t.Fatalf("no form to %s (%s=%s) on %s", action, field, value, p.URL)
	return nil
}
