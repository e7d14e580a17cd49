package dskit

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// HospitalAID is the entityID of the sample hospital A.
const HospitalAID = "https://hospital-a.renkei.test/metadata"

// RunningWSP is a sample institution's WSP as renkei-wsp assembles it.
type RunningWSP struct {
	Server *wspserver.Server
	// Identity is its signing, encryption and TLS key.
	Identity *pki.Identity
	// Manifest lists the generated people; Institution is the WSP's.
	Manifest    *sample.Manifest
	Institution *sample.Institution
	// Aggregate is the federation's metadata the WSP trusts.
	Aggregate *md.EntitiesDescriptor
}

// EntityID is the WSP's entityID.
func (w *RunningWSP) EntityID() string { return w.Server.File.EntityID }

// SOAPURL is the WSP's SOAP endpoint.
func (w *RunningWSP) SOAPURL() string { return w.Server.SOAPURL() }

// Entity returns the WSP's own EntityDescriptor from the aggregate, as
// its operator hands it to a tester.
func (w *RunningWSP) Entity() *md.EntityDescriptor {
	for _, e := range w.Aggregate.Entities {
		if e.EntityID == w.EntityID() {
			return e
		}
	}
	return nil
}

// StartWSP runs hospital A's WSP as renkei-wsp assembles it
// (internal/wspserver.Build): the sample institutions generated into a
// temporary directory with today (UTC) as their reference date, so that
// the outpatient slots lie ahead; hospital A's SQL mapping with its three
// service types (clinical, checkup, appointment); the federation's
// aggregate listing the WSP at its loopback listener, the portal as the
// audit reader and the DS as the token issuer. The assembly's Handler is
// served on a loopback TLS listener that requests client certificates.
// Start is not called, so the WSP never registers at the DS, whose
// endpoint in the aggregate nothing serves. It is shut down at the end of
// the test.
func StartWSP(t testing.TB) *RunningWSP {
	t.Helper()
	dir := t.TempDir()
	m, err := sample.Generate(dir, sample.Options{Reference: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	in := m.Institution(sample.HospitalA)
	id := WSPIdentity(t, HospitalAID)
	kp := wspserver.KeyPair{Cert: filepath.Join(dir, "wsp.crt"), Key: filepath.Join(dir, "wsp.key")}
	for name, b := range map[string][]byte{kp.Cert: id.CertPEM(), kp.Key: id.KeyPEM()} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	base := "https://" + srv.Listener.Addr().String()
	agg := AggregateWith(t, pki.RSA2048, "https://127.0.0.1:1/disco",
		map[string]WebService{HospitalAID: {ServiceTypes: in.Services, URLs: []string{base + wspserver.PathSOAP}}})
	f := &wspserver.File{EntityID: HospitalAID, BaseURL: base, TLS: kp, Signing: kp, Encryption: kp,
		Metadata:     []wspserver.MetadataSource{{Location: WriteAggregate(t, agg, dir), Unsigned: true}},
		Store:        "sqlite:" + filepath.Join(dir, "wsp.db"),
		Backend:      wspserver.Backend{Kind: "sql", Mapping: filepath.Join(dir, in.Mapping)},
		AuditReaders: []string{PortalID}, DS: DSID, Abstract: in.NameEn, CheckOutgoing: true}
	f.Defaults()
	s, err := wspserver.Build(context.Background(), f, wspserver.Options{Log: logkit.New(t, "wsp")})
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	h = s.Handler()
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{tlsCert(id)}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &RunningWSP{Server: s, Identity: id, Manifest: m, Institution: in, Aggregate: agg}
}

// PersonAt returns a person of the sample known at the institution key,
// and their local identifier there.
func (w *RunningWSP) PersonAt(t testing.TB, key string) (*sample.Person, string) {
	t.Helper()
	for i := range w.Manifest.People {
		if local := w.Manifest.People[i].Local[key]; local != "" {
			return &w.Manifest.People[i], local
		}
	}
	t.Fatalf("no person of the sample is known at %s", key)
	return nil, ""
}
