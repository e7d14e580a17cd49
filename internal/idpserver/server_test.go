package idpserver

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// testFile is a complete configuration over an RA's files in a temporary
// directory, and the RA's service CA that issued the IdP's TLS key.
func testFile(t *testing.T) (*File, *x509.Certificate) {
	t.Helper()
	dir := t.TempDir()
	raDir := filepath.Join(dir, "ra")
	a, err := ra.Init(ra.Config{Dir: raDir})
	must(t, err)
	_, _, err = a.IssueServer("idp", []string{"localhost"})
	must(t, err)
	sp := &md.EntityDescriptor{EntityID: "https://sp.example.org", SPSSO: []*md.SPSSODescriptor{{
		SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}}},
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: samlp.BindingHTTPPOST,
			Location: "https://sp.example.org/acs"}}}}}}
	b, err := xmlsec.Serialize(sp.Element())
	must(t, err)
	spFile := filepath.Join(dir, "sp.xml")
	must(t, os.WriteFile(spFile, b, 0o600))
	kp := KeyPair{Cert: filepath.Join(raDir, "idp.crt"), Key: filepath.Join(raDir, "idp.key")}
	f := &File{EntityID: "https://idp.example.org/saml", BaseURL: "https://idp.example.org", CardBaseURL: "https://login.idp.example.org",
		TLS: kp, CardTLS: kp, Signing: kp, CardCA: filepath.Join(raDir, ra.CardCACert), CardCRL: filepath.Join(raDir, ra.CardCRL),
		Metadata: []MetadataSource{{Location: spFile, Unsigned: true}}, Store: "sqlite:" + filepath.Join(dir, "idp.db")}
	f.Defaults()
	must(t, f.Validate())
	return f, a.ServiceCA()
}

func loopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	return ln
}

// TestServer: a Server built on pre-opened listeners serves SSO, SLO and
// ManageNameID on the main listener, and Shutdown (twice is fine) stops
// both listeners.
func TestServer(t *testing.T) {
	f, ca := testFile(t)
	mainLn, cardLn := loopback(t), loopback(t)
	var mu sync.Mutex
	var refused []string
	s, err := Build(context.Background(), f, Options{MainListener: mainLn, CardListener: cardLn, Log: logkit.New(t, "idp"),
		Refused: func(r *http.Request, err error) { mu.Lock(); refused = append(refused, r.URL.Path); mu.Unlock() }})
	must(t, err)
	must(t, s.Start(context.Background()))
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}, DisableKeepAlives: true}}
	base := "https://" + s.Addr(Main).String()
	for path, want := range map[string]int{idp.PathMetadata: 200, idp.PathSSO: 400, idp.PathSLO: 400, idp.PathNIM: 400, "/nowhere": 404} {
		resp, err := client.Get(base + path)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: HTTP %d, want %d", path, resp.StatusCode, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refused) != 3 {
		t.Errorf("refusals logged at %v, want /sso, /slo and /nim", refused)
	}
	must(t, s.Shutdown())
	must(t, s.Shutdown())
	for _, ln := range []net.Listener{mainLn, cardLn} {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			t.Errorf("%s still listens after Shutdown", ln.Addr())
		}
	}
}

// TestBuildFails: a file that cannot be read fails Build, naming it, and
// the listeners handed over are closed.
func TestBuildFails(t *testing.T) {
	f, _ := testFile(t)
	f.Signing.Key = filepath.Join(t.TempDir(), "absent.key")
	mainLn, cardLn := loopback(t), loopback(t)
	_, err := Build(context.Background(), f, Options{MainListener: mainLn, CardListener: cardLn})
	if err == nil || !strings.Contains(err.Error(), "signing.key") {
		t.Fatalf("fail/missing-key: %v", err)
	}
	for _, ln := range []net.Listener{mainLn, cardLn} {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			t.Errorf("fail/missing-key: %s still listens", ln.Addr())
		}
	}
}

// writePEM writes key and cert to files (pki.Identity.WriteFiles), even a
// certificate that is not key's.
func writePEM(t *testing.T, key crypto.Signer, cert *x509.Certificate) KeyPair {
	t.Helper()
	certPath, keyPath, err := (&pki.Identity{Name: "enc", Key: key, Cert: cert}).WriteFiles(t.TempDir())
	must(t, err)
	return KeyPair{Key: keyPath, Cert: certPath}
}

// TestBuildEncryptionKey: the IdP's encryption key must decrypt (RSA)
// and be the key of the certificate its metadata publishes; otherwise
// SPs would encrypt for a key it cannot use, and Build says so.
func TestBuildEncryptionKey(t *testing.T) {
	p := pki.MustGet()
	for _, tc := range []struct {
		name string
		kp   func(f *File) KeyPair
		want string
	}{
		{"fail/ec-key-cannot-decrypt", func(f *File) KeyPair { return f.Signing }, "cannot decrypt"},
		{"fail/certificate-of-another-key", func(*File) KeyPair { return writePEM(t, p.RSA.Key, p.ForeignRSA.Cert) }, "not the certificate"},
		{"ok/rsa-key-and-its-certificate", func(*File) KeyPair { return writePEM(t, p.RSA.Key, p.RSA.Cert) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := testFile(t)
			f.Encryption = tc.kp(f)
			s, err := Build(context.Background(), f, Options{MainListener: loopback(t), CardListener: loopback(t)})
			if tc.want == "" {
				must(t, err)
				must(t, s.Shutdown())
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "encryption") {
				t.Fatalf("got %v, want an error naming the encryption key: %q", err, tc.want)
			}
		})
	}
}

// withDS adds to f's metadata a Discovery Service entity with role and
// names it as the bootstrap's DS.
func withDS(t *testing.T, f *File, role *md.RoleDescriptor) {
	t.Helper()
	e := &md.EntityDescriptor{EntityID: "https://ds.example.org/disco"}
	if role != nil {
		e.Roles = []*md.RoleDescriptor{role}
	}
	b, err := xmlsec.Serialize(e.Element())
	must(t, err)
	p := filepath.Join(t.TempDir(), "ds.xml")
	must(t, os.WriteFile(p, b, 0o600))
	f.Metadata = append(f.Metadata, MetadataSource{Location: p, Unsigned: true})
	f.Discovery = &DiscoveryRef{EntityID: e.EntityID}
}

// TestBuildDiscovery: the DS is found in the metadata, and Build refuses
// to start when every bootstrap would fail: a DS the metadata does not
// list, or lists without a SOAP endpoint or an encryption key.
func TestBuildDiscovery(t *testing.T) {
	cert := []*x509.Certificate{pki.MustGet().RSA.Cert}
	keys := []md.KeyDescriptor{{Use: md.UseSigning, Certificates: cert}, {Use: md.UseEncryption, Certificates: cert}}
	ws := func(eps []string, keys []md.KeyDescriptor) *md.RoleDescriptor {
		return (&metadir.WebService{ServiceTypes: []string{wsf.ServiceTypeDisco}, Endpoints: eps, Keys: keys}).Role()
	}
	for _, tc := range []struct {
		name string
		role *md.RoleDescriptor
		want []string
	}{
		{"ok/ds-with-endpoint-and-key", ws([]string{"https://ds.example.org/soap"}, keys), nil},
		{"fail/ds-not-in-metadata", nil, []string{"not in the metadata"}},
		{"fail/ds-without-encryption-key", ws([]string{"https://ds.example.org/soap"}, keys[:1]), []string{"no encryption key"}},
		{"fail/ds-offers-another-service", (&metadir.WebService{ServiceTypes: []string{"urn:renkei:svc:audit:1.0"},
			Endpoints: []string{"https://ds.example.org/soap"}, Keys: keys}).Role(), []string{"no SOAP endpoint"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := testFile(t)
			if tc.role != nil {
				withDS(t, f, tc.role)
			} else {
				withDS(t, f, nil)
				f.Discovery.EntityID = "https://absent.example.org/disco"
			}
			s, err := Build(context.Background(), f, Options{MainListener: loopback(t), CardListener: loopback(t)})
			if tc.want == nil {
				must(t, err)
				must(t, s.Shutdown())
				return
			}
			if err == nil {
				must(t, s.Shutdown())
				t.Fatal("built")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) || !strings.Contains(err.Error(), "discovery") {
					t.Fatalf("got %v, want %q", err, w)
				}
			}
		})
	}
}

// TestFileDiscoveryOldFields: the file names the DS by entityID alone;
// the former address and encryptionCert fields are refused by name.
func TestFileDiscoveryOldFields(t *testing.T) {
	f, _ := testFile(t)
	b, err := json.Marshal(f)
	must(t, err)
	s := strings.Replace(string(b), `"store"`, `"discovery":{"entityID":"https://ds.example.org","encryptionCert":"ds.crt"},"store"`, 1)
	p := filepath.Join(t.TempDir(), "idp.json")
	must(t, os.WriteFile(p, []byte(s), 0o600))
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "encryptionCert") {
		t.Fatalf("old discovery field: %v", err)
	}
}

// TestAuthnLimitsFromFile: the file's authnLimits reach the IdP's HTTP
// adapter (a deployment behind a TCP balancer raises them), and negative
// values are refused by Validate.
func TestAuthnLimitsFromFile(t *testing.T) {
	f, _ := testFile(t)
	f.AuthnLimits = AuthnLimits{ClientBurst: 5000, ClientRate: 250, MaxPending: 70000}
	must(t, f.Validate())
	s, err := Build(context.Background(), f, Options{MainListener: loopback(t), CardListener: loopback(t), Log: logkit.New(t, "idp")})
	must(t, err)
	t.Cleanup(func() { _ = s.Shutdown() })
	if got, want := s.httpAdapter().Limits, (idp.AuthnLimits{ClientBurst: 5000, ClientRate: 250, MaxPending: 70000}); got != want {
		t.Errorf("ok/limits-wired: %+v, want %+v", got, want)
	}
	f.AuthnLimits.ClientRate = -1
	if err := f.Validate(); err == nil || !strings.Contains(err.Error(), "authnLimits") {
		t.Errorf("fail/negative-rate: %v", err)
	}
}
