package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

const nimSPID = "https://nim-sp.example.org"

// soapNIMSP is an SP's SOAP ManageNameIDService: it verifies the IdP's
// signed request and answers Success, signed with its metadata key.
type soapNIMSP struct {
	idp *x509.Certificate
	key *pki.Identity
	got atomic.Pointer[samlp.ManageNameIDRequest]
}

func (s *soapNIMSP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env, err := (&binding.SOAPDecoder{Understood: []string{}}).Decode(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, _, err := samlp.VerifyManageNameIDRequest(env.Body, &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{s.idp})})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.got.Store(req)
	resp := &samlp.ManageNameIDResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_sp" + req.ID[1:],
		InResponseTo: req.ID, IssueInstant: time.Now().UTC(), Issuer: &saml.Issuer{Value: nimSPID},
		Status: samlp.NewStatus(samlp.StatusSuccess, "")}}
	el, err := samlp.Sign(resp, &dsig.Signer{Key: s.key.Key, Certificates: []*x509.Certificate{s.key.Cert}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b, _ := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b)
}

// TestOperatorNIM: renkei-idp nim -newid gives a federation a new NameID
// once the SP's SOAP ManageNameIDService accepted it, and nim -terminate
// ends it, the SP having received the Terminate.
func TestOperatorNIM(t *testing.T) {
	p := pki.MustGet()
	sp := &soapNIMSP{idp: p.RSA.Cert, key: p.ForeignRSA}
	srv := httptest.NewTLSServer(sp)
	defer srv.Close()
	var dsn string
	path, _ := writeConfig(t, func(c *idpserver.File) {
		dir := filepath.Dir(c.Metadata[0].Location)
		c.Metadata[0].Location = writeNIMSP(t, dir, srv.URL+"/nim", p.ForeignRSA.Cert)
		c.TrustedRoots = filepath.Join(dir, "sp-roots.pem")
		must(t, os.WriteFile(c.TrustedRoots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
		dsn = c.Store
	})
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	must(t, err)
	defer db.Close()
	must(t, db.CreatePrincipal(ctx, store.Principal{ID: "p-nim", Created: time.Now()}))
	must(t, db.CreateFederation(ctx, store.Federation{PrincipalID: "p-nim", ProviderID: nimSPID, NameID: "n-old", Created: time.Now()}))
	nim := func(op string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, []string{"-config", path, "nim", "-principal", "p-nim", "-sp", nimSPID, op}, &out, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatalf("nim %s: %v", op, err)
		}
		return out.String()
	}

	out := nim("-newid")
	got := sp.got.Load()
	f, err := db.Federation(ctx, "p-nim", nimSPID)
	must(t, err)
	if got == nil || got.NameID.Value != "n-old" || got.NewID == "" || f.NameID != got.NewID || !strings.Contains(out, got.NewID) {
		t.Fatalf("ok/newid: SP received %+v; federation NameID %q; output %q", got, f.NameID, out)
	}
	nim("-terminate")
	got = sp.got.Load()
	f, err = db.Federation(ctx, "p-nim", nimSPID)
	must(t, err)
	if !got.Terminate || got.NameID.Value != f.NameID || f.Active() {
		t.Fatalf("ok/terminate: SP received %+v; federation %+v", got, f)
	}
	var out2 bytes.Buffer
	if err := run(ctx, []string{"-config", path, "nim", "-principal", "p-nim", "-sp", nimSPID}, &out2, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "exactly one of -terminate and -newid") {
		t.Errorf("fail/no-operation: %v", err)
	}
}

// writeNIMSP writes the SP's metadata: an ACS, and the SOAP
// ManageNameIDService at nimURL, signing with cert.
func writeNIMSP(t *testing.T, dir, nimURL string, cert *x509.Certificate) string {
	t.Helper()
	d := &md.EntityDescriptor{EntityID: nimSPID, SPSSO: []*md.SPSSODescriptor{{
		SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
			Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{cert}}}},
			ManageNameID: []md.Endpoint{{Binding: samlp.BindingSOAP, Location: nimURL}}},
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: samlp.BindingHTTPPOST, Location: "https://nim-sp.example.org/acs"}}}}}}
	b, err := xmlsec.Serialize(d.Element())
	must(t, err)
	path := filepath.Join(dir, "nim-sp.xml")
	must(t, os.WriteFile(path, b, 0o600))
	return path
}
