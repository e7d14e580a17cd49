package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"software.sslmate.com/src/go-pkcs12"
)

// registryEnv is an RA directory, a relay database on a real SQLite file,
// and the files the commands write.
type registryEnv struct {
	t          *testing.T
	dir, files string
	dsn        string
	db         *sqlstore.DB
}

func newRegistryEnv(t *testing.T) *registryEnv {
	e := &registryEnv{t: t, dir: t.TempDir(), files: t.TempDir()}
	e.dsn = "sqlite:" + filepath.Join(e.files, "relay.db")
	mustRun(t, "init", "-dir", e.dir)
	db, err := sqlstore.Open(context.Background(), e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	return e
}

func (e *registryEnv) file(name string) string { return filepath.Join(e.files, name) }

// idp is an IdP over the relay database that trusts the RA's card-issuer
// CA with the CRL as the RA last wrote it, and its service CA for soft
// certificates, as renkei-idp is configured.
func (e *registryEnv) idp() *idp.IdP {
	e.t.Helper()
	a, err := ra.Open(ra.Config{Dir: e.dir})
	if err != nil {
		e.t.Fatal(err)
	}
	crl, err := keyfile.ReadCRL(filepath.Join(e.dir, ra.CardCRL))
	if err != nil {
		e.t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(a.CardCA())
	signer := pki.MustGet().RSA
	p, err := idp.New(idp.Config{
		EntityID: "https://idp.example.org/saml", SigningKey: signer.Key, SigningCerts: []*x509.Certificate{signer.Cert},
		Cards: e.db, Federations: e.db, Sessions: e.db,
		CardTrust: &trust.Verifier{Roots: roots, CRLs: []*x509.RevocationList{crl}},
		SoftCAs:   []*x509.Certificate{a.ServiceCA()},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *registryEnv) authenticate(cert *x509.Certificate) (idp.Authn, error) {
	return e.idp().AuthenticateCertificate(context.Background(), []*x509.Certificate{cert}, time.Now())
}

// TestStoreLifecycle runs every card-changing command with -store and
// checks each result as the IdP sees it at card login.
func TestStoreLifecycle(t *testing.T) {
	e := newRegistryEnv(t)
	mustRun(t, "card", "-dir", e.dir, "-number", "7001", "-out", e.file("a.json"), "-store", e.dsn, "-principal", "p-anna")
	mustRun(t, "card", "-dir", e.dir, "-number", "7002", "-out", e.file("b.json"), "-store", e.dsn, "-principal", "p-anna")
	first := cardCert(t, e.file("a.json"))
	e.checkRow("7001", "p-anna", first, store.CardIssued)
	if _, err := e.db.Principal(context.Background(), "p-anna"); err != nil {
		t.Fatalf("ok/principal-created: %v", err)
	}
	e.wantAuthn("ok/issued-card", first, "p-anna", saml.ACSmartcardPKI)

	mustRun(t, "revoke", "-dir", e.dir, "-number", "7002", "-store", e.dsn)
	second := cardCert(t, e.file("b.json"))
	e.checkRow("7002", "p-anna", second, store.CardRevoked)
	e.wantRefused("fail/revoked-card", second, idp.ErrCertRevoked)
	if err := run([]string{"revoke", "-dir", e.dir, "-number", "7002", "-store", e.dsn}, &bytes.Buffer{}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("fail/revoke-twice: %v, want store.ErrConflict", err)
	}

	fed := store.Federation{PrincipalID: "p-anna", ProviderID: "https://portal.example.org/sp", NameID: "n-anna", Created: time.Now()}
	if err := e.db.CreateFederation(context.Background(), fed); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "reissue", "-dir", e.dir, "-number", "7001", "-new-number", "7003", "-out", e.file("c.json"), "-store", e.dsn)
	third := cardCert(t, e.file("c.json"))
	if trust.CardNumber(third) != "7003" || !strings.Contains(out, "replaces 7001") {
		t.Errorf("ok/reissue: card number %q, output:\n%s", trust.CardNumber(third), out)
	}
	e.checkRow("7001", "p-anna", first, store.CardRevoked)
	e.checkRow("7003", "p-anna", third, store.CardIssued)
	e.wantAuthn("ok/reissued-card", third, "p-anna", saml.ACSmartcardPKI)
	e.wantRefused("fail/superseded-card", first, idp.ErrCertRevoked)
	if a, err := e.authenticate(third); err == nil {
		if f, err := e.db.Federation(context.Background(), a.PrincipalID, fed.ProviderID); err != nil || f.NameID != fed.NameID {
			t.Errorf("ok/link-survives-reissue: %+v, %v", f, err)
		}
	}
	if _, err := trustVerify(t, e.dir, first); !errors.Is(err, trust.ErrRevoked) {
		t.Errorf("fail/superseded-on-crl: Verify = %v", err)
	}

	// A lost card revoked at once without the store, then in the store;
	// then replaced: each step completes what the previous one left.
	mustRun(t, "card", "-dir", e.dir, "-number", "7004", "-out", e.file("d.json"), "-store", e.dsn, "-principal", "p-anna")
	mustRun(t, "revoke", "-dir", e.dir, "-number", "7004")
	if out := mustRun(t, "revoke", "-dir", e.dir, "-number", "7004", "-store", e.dsn); !strings.Contains(out, "already revoked on the CRL") {
		t.Errorf("ok/revoke-completes-in-store: output:\n%s", out)
	}
	e.checkRow("7004", "p-anna", cardCert(t, e.file("d.json")), store.CardRevoked)
	mustRun(t, "reissue", "-dir", e.dir, "-number", "7004", "-new-number", "7005", "-out", e.file("e.json"), "-store", e.dsn)
	e.wantAuthn("ok/reissue-of-revoked-card", cardCert(t, e.file("e.json")), "p-anna", saml.ACSmartcardPKI)
	list := mustRun(t, "list", "-dir", e.dir, "-store", e.dsn)
	for _, want := range []string{"7003\tserial " + third.SerialNumber.String(), "store: issued, principal p-anna", "store: revoked, principal p-anna"} {
		if !strings.Contains(list, want) {
			t.Errorf("ok/list-store: no %q in\n%s", want, list)
		}
	}

	mustRun(t, "soft", "-dir", e.dir, "-password", "pw", "-out", e.file("demo.p12"), "-store", e.dsn, "-principal", "p-bert", "-number", "SOFT-1")
	_, soft, _, err := pkcs12.DecodeChain(readFile(t, e.file("demo.p12")), "pw")
	if err != nil {
		t.Fatal(err)
	}
	e.checkRow("SOFT-1", "p-bert", soft, store.CardIssued)
	e.wantAuthn("ok/soft", soft, "p-bert", saml.ACX509)
	mustRun(t, "revoke", "-dir", e.dir, "-number", "SOFT-1", "-store", e.dsn)
	e.wantRefused("fail/soft-revoked-in-registry", soft, idp.ErrCertRevoked)
}

func trustVerify(t *testing.T, dir string, cert *x509.Certificate) ([]*x509.Certificate, error) {
	return verifier(t, dir).Verify(cert)
}

// checkRow compares the store's card number with the certificate written.
func (e *registryEnv) checkRow(number, principal string, cert *x509.Certificate, status store.CardStatus) {
	e.t.Helper()
	c, err := e.db.Card(context.Background(), number)
	if err != nil {
		e.t.Fatalf("card %s in the store: %v", number, err)
	}
	if c.PrincipalID != principal || c.CertIssuer != cert.Issuer.String() || c.CertSerial != cert.SerialNumber.String() || c.Status != status {
		e.t.Errorf("card %s in the store = %+v, want principal %s, issuer %q, serial %s, %s",
			number, c, principal, cert.Issuer, cert.SerialNumber, status)
	}
}

func (e *registryEnv) wantAuthn(name string, cert *x509.Certificate, principal, class string) {
	e.t.Helper()
	a, err := e.authenticate(cert)
	if err != nil || a.PrincipalID != principal || a.ClassRef != class {
		e.t.Errorf("%s: AuthenticateCertificate = %+v, %v; want %s with %s", name, a, err, principal, class)
	}
}

func (e *registryEnv) wantRefused(name string, cert *x509.Certificate, want error) {
	e.t.Helper()
	if a, err := e.authenticate(cert); !errors.Is(err, want) {
		e.t.Errorf("%s: AuthenticateCertificate = %+v, %v; want %v", name, a, err, want)
	}
}

// closedPort is a loopback TCP port nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestStoreErrors checks that every refused command says why and leaves
// the RA, its CRL and the store as they were.
func TestStoreErrors(t *testing.T) {
	e := newRegistryEnv(t)
	mustRun(t, "card", "-dir", e.dir, "-number", "8001", "-out", e.file("a.json"), "-store", e.dsn, "-principal", "p-carl")
	down := "postgres://renkei:pw@" + closedPort(t) + "/relay?sslmode=disable&connect_timeout=5"
	out := e.file("new.json")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"fail/store-without-principal", []string{"card", "-number", "8002", "-out", out, "-store", e.dsn}, "-principal"},
		{"fail/principal-without-store", []string{"card", "-number", "8002", "-out", out, "-principal", "p-carl"}, "-store"},
		{"fail/card-number-taken", []string{"card", "-number", "8001", "-out", out, "-store", e.dsn, "-principal", "p-dora"}, "already registered"},
		{"fail/reissue-store-without-new-number", []string{"reissue", "-number", "8001", "-out", out, "-store", e.dsn}, "-new-number"},
		{"fail/reissue-new-number-without-store", []string{"reissue", "-number", "8001", "-new-number", "8002", "-out", out}, "-new-number"},
		{"fail/reissue-same-number", []string{"reissue", "-number", "8001", "-new-number", "8001", "-out", out, "-store", e.dsn}, "differ"},
		{"fail/reissue-unknown-card", []string{"reissue", "-number", "9999", "-new-number", "8002", "-out", out, "-store", e.dsn}, "unknown card"},
		{"fail/revoke-unknown-card", []string{"revoke", "-number", "9999", "-store", e.dsn}, "unknown card"},
		{"fail/soft-store-without-number", []string{"soft", "-password", "pw", "-out", out, "-store", e.dsn, "-principal", "p-carl"}, "-number"},
		{"fail/card-store-unreachable", []string{"card", "-number", "8002", "-out", out, "-store", down, "-principal", "p-carl"}, "relay database"},
		{"fail/revoke-store-unreachable", []string{"revoke", "-number", "8001", "-store", down}, "relay database"},
		{"fail/soft-store-unreachable", []string{"soft", "-password", "pw", "-out", out, "-store", down, "-principal", "p-carl", "-number", "S-1"}, "relay database"},
		{"fail/soft-label-taken", []string{"soft", "-password", "pw", "-out", out, "-store", e.dsn, "-principal", "p-dora", "-number", "8001"}, "already registered"},
		{"fail/reissue-store-unreachable", []string{"reissue", "-number", "8001", "-new-number", "8002", "-out", out, "-store", down}, "relay database"},
	}
	for _, c := range cases {
		before := e.snapshot()
		err := run(append(c.args, "-dir", e.dir), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one that mentions %q", c.name, err, c.want)
		}
		if after := e.snapshot(); after != before {
			t.Errorf("%s: state changed:\nbefore %s\nafter  %s", c.name, before, after)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: card file written (%v)", c.name, err)
		}
	}
	e.wantAuthn("ok/card-untouched", cardCert(t, e.file("a.json")), "p-carl", saml.ACSmartcardPKI)
}

// snapshot is the RA's records, its CRL and the store's cards of the
// principals the tests use, as text to compare.
func (e *registryEnv) snapshot() string {
	e.t.Helper()
	a, err := ra.Open(ra.Config{Dir: e.dir})
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range a.Cards() {
		b.WriteString(c.CardNumber + "/" + c.Serial + "/" + c.RevokedAt.String() + " ")
	}
	b.Write(readFile(e.t, filepath.Join(e.dir, ra.CardCRL)))
	for _, p := range []string{"p-carl", "p-dora"} {
		cards, err := e.db.Cards(context.Background(), p)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, c := range cards {
			b.WriteString(" " + c.Number + "/" + c.CertSerial + "/" + string(c.Status))
		}
		if _, err := e.db.Principal(context.Background(), p); err == nil {
			b.WriteString(" principal " + p)
		}
	}
	return b.String()
}
