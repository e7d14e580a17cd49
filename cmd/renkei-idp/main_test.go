package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	kitproc "github.com/renkei-idwsf/renkei/internal/testkit/proc"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// writeConfig makes a complete configuration in a temporary directory:
// keys from the test PKI, the card CA and CRL from an RA, one SP file.
func writeConfig(t *testing.T, tweak func(*idpserver.File)) (string, *pki.Identity) {
	t.Helper()
	dir := t.TempDir()
	p := pki.MustGet()
	a, err := ra.Init(ra.Config{Dir: filepath.Join(dir, "ra")})
	must(t, err)
	_, err = a.WriteCRL()
	must(t, err)
	must(t, os.Mkdir(filepath.Join(dir, "srv"), 0o700))
	srv, srvKey, err := p.RSA.WriteFiles(filepath.Join(dir, "srv"))
	must(t, err)
	sp := &md.EntityDescriptor{EntityID: "https://sp.example.org", SPSSO: []*md.SPSSODescriptor{{
		SSO:               md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}}},
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: samlp.BindingHTTPPOST, Location: "https://sp.example.org/acs"}}}}}}
	b, err := xmlsec.Serialize(sp.Element())
	must(t, err)
	spFile := filepath.Join(dir, "sp.xml")
	must(t, os.WriteFile(spFile, b, 0o600))
	c := idpserver.File{EntityID: "https://idp.example.org/saml", BaseURL: "https://idp.example.org", CardBaseURL: "https://login.idp.example.org:9443",
		Listen: "127.0.0.1:0", CardListen: "127.0.0.1:0",
		TLS: idpserver.KeyPair{Cert: srv, Key: srvKey}, CardTLS: idpserver.KeyPair{Cert: srv, Key: srvKey}, Signing: idpserver.KeyPair{Cert: srv, Key: srvKey}, Encryption: idpserver.KeyPair{Cert: srv, Key: srvKey},
		CardCA: filepath.Join(dir, "ra", ra.CardCACert), CardCRL: filepath.Join(dir, "ra", ra.CardCRL),
		Metadata: []idpserver.MetadataSource{{Location: spFile, Unsigned: true}}, Store: "sqlite:" + filepath.Join(dir, "idp.db"),
		Lifetimes: idpserver.Lifetimes{ECP: "90s"}}
	if tweak != nil {
		tweak(&c)
	}
	j, err := json.Marshal(c)
	must(t, err)
	path := filepath.Join(dir, "idp.json")
	must(t, os.WriteFile(path, j, 0o600))
	return path, p.RSA
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPrintMetadata: -print-metadata writes signed, schema-valid metadata.
func TestPrintMetadata(t *testing.T) {
	path, signer := writeConfig(t, nil)
	var out bytes.Buffer
	must(t, run(context.Background(), []string{"-config", path, "-print-metadata"}, &out, slog.New(slog.NewJSONHandler(&out, nil))))
	must(t, xsd.Validate(out.Bytes()))
	doc, err := xmlsec.Parse(out.Bytes(), xmlsec.Limits{})
	must(t, err)
	d, _, err := md.Verify(doc.Root(), &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{signer.Cert})})
	must(t, err)
	if d.Entity.EntityID != "https://idp.example.org/saml" {
		t.Fatalf("entity %q", d.Entity.EntityID)
	}
}

// TestConfigValidate: every problem is reported at once.
func TestConfigValidate(t *testing.T) {
	c := &idpserver.File{BaseURL: "http://idp.example.org", Lifetimes: idpserver.Lifetimes{ECP: "-1s"},
		Metadata: []idpserver.MetadataSource{{Location: "x.xml"}}}
	c.Defaults()
	err := c.Validate()
	for _, want := range []string{"entityID is empty", "baseURL", "cardBaseURL", "signing needs cert and key",
		"cardCA and cardCRL", "exactly one of operatorCert and unsigned", "lifetimes.ecp"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	path, _ := writeConfig(t, func(c *idpserver.File) { c.CardCRL = "/nonexistent.crl"; c.Signing.Key = "/nonexistent.key" })
	err = run(context.Background(), []string{"-config", path, "-print-metadata"}, &bytes.Buffer{}, slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)))
	if err == nil || !strings.Contains(err.Error(), "cardCRL") || !strings.Contains(err.Error(), "signing.key") {
		t.Fatalf("file errors not all reported: %v", err)
	}
}

// TestServeStops: the servers start on loopback and stop gracefully when
// the context ends (as on SIGINT or SIGTERM).
func TestServeStops(t *testing.T) {
	path, _ := writeConfig(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var logs bytes.Buffer
	if err := run(ctx, []string{"-config", path}, &bytes.Buffer{}, slog.New(slog.NewJSONHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "serving") || !strings.Contains(logs.String(), "stopped") {
		t.Fatalf("logs: %s", logs.String())
	}
}

// TestServeReloadsOnHUP: SIGHUP to a serving renkei-idp reloads its
// metadata and logs it.
func TestServeReloadsOnHUP(t *testing.T) {
	guard := make(chan os.Signal, 1) // a SIGHUP before run listens must not end the test binary
	signal.Notify(guard, syscall.SIGHUP)
	defer signal.Stop(guard)
	path, _ := writeConfig(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs kitproc.Output
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-config", path}, &bytes.Buffer{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	}()
	waitLog(t, &logs, "serving", done)
	must(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	waitLog(t, &logs, "metadata reloaded", done)
	cancel()
	must(t, <-done)
}

// waitLog waits, at most 30 s, for text in the log of a run that has not
// ended.
func waitLog(t *testing.T, logs *kitproc.Output, text string, done chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), text) {
		select {
		case err := <-done:
			t.Fatalf("run ended before %q: %v\n%s", text, err, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", text, logs.String())
		}
	}
}
