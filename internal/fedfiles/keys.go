package fedfiles

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
)

// softPassword protects the citizen's soft certificate; it is printed
// beside the file, so it protects nothing but the import dialog's
// expectations.
const softPassword = "renkei-demo"

// The keys the RA issues: name, key type, whether the certificate names
// the loopback hosts (a TLS server's).
var roleKeys = []struct {
	name, kt string
	server   bool
}{
	{"operator", "p256", false},
	{"idp-tls", "p256", true}, {"idp-signing", "rsa2048", false}, {"idp-encryption", "rsa2048", false},
	{"ds", "rsa2048", true},
	{"portal-tls", "p256", true}, {"portal-signing", "rsa2048", true}, {"portal-encryption", "rsa2048", false},
	{"terminal-tls", "p256", true},
	{"wsp-hospital-a", "rsa2048", true}, {"wsp-hospital-b", "rsa2048", true},
	{"wsp-insurer", "rsa2048", true}, {"wsp-pension", "rsa2048", true},
}

// loopbackHosts are the names every server certificate carries.
var loopbackHosts = []string{"localhost", "127.0.0.1"}

// issue initialises the RA in ra/ and has it issue every role's keys,
// the card-issuer CA's CRL, and writes the service CA as the roots every
// role trusts.
func (w *writer) issue(context.Context) error {
	a, err := ra.Init(ra.Config{Dir: w.path("ra"), Now: func() time.Time { return w.now }})
	if err != nil {
		return err
	}
	if _, err := a.WriteCRL(); err != nil {
		return err
	}
	w.keys = map[string]pair{}
	for _, k := range roleKeys {
		var hosts []string
		if k.server {
			hosts = loopbackHosts
		}
		cert, key, err := a.IssueRole(k.name, k.kt, hosts)
		if err != nil {
			return err
		}
		w.keys[k.name] = pair{Cert: w.path("ra", k.name+".crt"), Key: w.path("ra", k.name+".key"), cert: cert, key: key}
	}
	w.opKey, w.opCert = w.keys["operator"].key, w.keys["operator"].cert
	w.f.OperatorCert = w.keys["operator"].Cert
	w.f.RootsFile = w.path("ra", ra.ServiceCACert)
	w.f.RootCAs = x509.NewCertPool()
	w.f.RootCAs.AddCert(a.ServiceCA())
	w.ra = a
	return nil
}

// citizen issues the citizen's card (a P-256 key the card-issuer CA
// certifies, naming the holder) into a virtual card file, and a soft
// certificate from the service CA as PKCS#12.
func (w *writer) citizen(context.Context) error {
	p := w.f.Person
	f := w.f
	f.Principal, f.Card = "principal-"+p.Key, "HIC-"+p.Key
	key, err := ra.NewKey("p256", nil)
	if err != nil {
		return err
	}
	birth, _ := time.Parse(time.DateOnly, p.BirthDate)
	cert, err := w.ra.IssueCardFor(f.Card, key.Public(), ra.Holder{Name: p.Name, BirthDate: birth})
	if err != nil {
		return err
	}
	f.CardKey, f.CardCert, f.CardFile = key, cert, w.path("card.json")
	if err := virtual.Create(f.CardFile, f.Card, key, cert, nil); err != nil {
		return err
	}
	p12, err := w.ra.IssueSoft(p.Name, softPassword)
	if err != nil {
		return err
	}
	f.SoftP12, f.SoftPassword = w.path("citizen.p12"), softPassword
	if err := os.WriteFile(f.SoftP12, p12, 0o600); err != nil {
		return err
	}
	_, soft, _, err := pkcs12.DecodeChain(p12, softPassword)
	if err != nil {
		return err
	}
	w.soft = soft
	return os.WriteFile(w.path("citizen.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: soft.Raw}), 0o644)
}

// relay records the citizen in the relay database as the RA does: the
// principal, the card and the soft certificate (which the IdP finds by
// issuer and serial).
func (w *writer) relay(ctx context.Context) error {
	db, err := sqlstore.Open(ctx, w.f.Relay)
	if err != nil {
		return err
	}
	defer db.Close()
	f := w.f
	if err := db.CreatePrincipal(ctx, store.Principal{ID: f.Principal, Created: w.now}); err != nil {
		return err
	}
	for _, c := range []struct {
		number string
		cert   *x509.Certificate
	}{{f.Card, f.CardCert}, {"SOFT-" + w.f.Person.Key, w.soft}} {
		err := db.IssueCard(ctx, store.Card{Number: c.number, PrincipalID: f.Principal, CertIssuer: c.cert.Issuer.String(),
			CertSerial: c.cert.SerialNumber.String(), Status: store.CardIssued, Issued: w.now})
		if err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes b at path (0600) and returns path.
func writeFile(path string, b []byte) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, b, 0o600)
}
