// Package wspkit is the test kit of the WSPs: the Discovery Service
// federation of dskit, the sample institutions of wsp/sample generated
// into the test's directory (the pension service's REST back office on a
// loopback listener), and each institution's WSP built by
// internal/wspserver from the files an operator would write, on its own
// loopback HTTPS listener, with its SvcMDs registered at the DS over SOAP
// as the WSP does it. A portal then discovers services for an enrolled
// citizen and calls the WSPs with the tokens the DS minted. Nothing here
// is for production use.
package wspkit

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// Entities are the institutions' entityIDs in the federation, by sample
// institution key (dskit's sample institutions, and the demo's).
var Entities = fedfiles.Entities

// Options vary the kit.
type Options struct {
	// Institutions are the sample institutions whose WSPs run; nil is all
	// four.
	Institutions []string
	// Nodes runs that many WSP nodes of each institution (default 1), on
	// one back office and one WSP store.
	Nodes int
	// Backend, when set, gives an institution's back-office address (a
	// PostgreSQL DSN) instead of the generated SQLite file.
	Backend map[string]string
	// Store, when set, is the WSP store DSN of an institution (its nodes
	// share it); "" is a SQLite file in the test's directory.
	Store map[string]string
	// Timeout, when set, is every back office's call bound.
	Timeout string
	// Reference is the sample data's reference date; zero is the
	// federation clock's day.
	Reference time.Time
	// Consent gives the DS its consent page (dskit.Options.Consent).
	Consent bool
	// SLO serves each WSP's SingleLogoutService for the federation's IdP
	// (wspserver.File.IdP).
	SLO bool
	// AsDeployed runs the WSPs as renkei-wsp runs by default (benchmarks):
	// without wspserver.File.CheckOutgoing (tests check every answer), and
	// logging JSON at level Info, here to nowhere rather than to the
	// test's log.
	AsDeployed bool
}

// Kit is the running federation.
type Kit struct {
	Fed *dskit.Federation
	Dir string
	// Aggregate is the metadata aggregate the WSPs load: the
	// federation's, with the institutions as they run and their names.
	Aggregate string
	Manifest  *sample.Manifest
	// WSPs are the nodes of each institution, by key.
	WSPs    map[string][]*wspserver.Server
	Pension *httptest.Server
	roots   *x509.CertPool
	conns   map[*wspserver.Server]*countingListener
}

// countingListener counts the connections a node accepted.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// Connections returns how many connections the node s accepted: tests
// that spread calls over nodes check that each node took some.
func (k *Kit) Connections(s *wspserver.Server) int64 { return k.conns[s].n.Load() }

// Start starts the federation, the sample back offices and the WSPs,
// and waits until every WSP has registered its SvcMDs.
func Start(t testing.TB, o Options) *Kit {
	t.Helper()
	f := dskit.New(t, dskit.Options{Consent: o.Consent})
	k := &Kit{Fed: f, Dir: t.TempDir(), WSPs: map[string][]*wspserver.Server{}, conns: map[*wspserver.Server]*countingListener{}}
	ref := o.Reference
	if ref.IsZero() {
		ref = f.Clock.Now().UTC().Truncate(24 * time.Hour)
	}
	var err error
	if k.Manifest, err = sample.Generate(k.Dir, sample.Options{Reference: ref}); err != nil {
		t.Fatal(err)
	}
	recs, err := sample.LoadPensionRecords(filepath.Join(k.Dir, sample.PensionData))
	if err != nil {
		t.Fatal(err)
	}
	k.Pension = httptest.NewServer(sample.NewPensionOffice(recs))
	t.Cleanup(k.Pension.Close)
	k.roots = x509.NewCertPool()
	k.roots.AddCert(f.Keys.CA.Cert)

	insts := o.Institutions
	if insts == nil {
		insts = []string{sample.HospitalA, sample.HospitalB, sample.Insurer, sample.Pension}
	}
	nodes := max(o.Nodes, 1)
	lns := map[string][]net.Listener{}
	at := map[string]dskit.WebService{}
	for _, key := range insts {
		in := k.Manifest.Institution(key)
		if in == nil {
			t.Fatalf("no sample institution %q", key)
		}
		ws := dskit.WebService{ServiceTypes: append(append([]string{}, in.Services...), audit.NS),
			Names: []md.Localized{{Lang: "ja", Value: in.Name}, {Lang: "en", Value: in.NameEn}}}
		for range nodes {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln = &countingListener{Listener: ln}
			lns[key] = append(lns[key], ln)
			ws.URLs = append(ws.URLs, "https://"+ln.Addr().String()+wspserver.PathSOAP)
		}
		at[Entities[key]] = ws
	}
	agg := dskit.WriteAggregate(t, dskit.AggregateWith(t, pki.RSA2048, f.URL, at), k.Dir)
	k.Aggregate = agg
	ctx := context.Background()
	for _, key := range insts {
		files := k.files(t, key, agg, o)
		if nodes > 1 {
			files.Endpoints = at[Entities[key]].URLs
		}
		for i, ln := range lns[key] {
			fc := *files
			fc.BaseURL = "https://" + ln.Addr().String()
			fc.Listen = ln.Addr().String()
			backend := o.Backend[key]
			if key == sample.Pension {
				backend = k.Pension.URL
			}
			log := logkit.New(t, "wsp:"+key)
			if o.AsDeployed {
				log = slog.New(slog.NewJSONHandler(io.Discard, nil)).With(slog.String("service", "renkei-wsp"))
			}
			s, err := wspserver.Build(ctx, &fc, wspserver.Options{Listener: ln, RootCAs: k.roots, Now: f.Clock.Now,
				Backend: backend, Log: log, RegisterInterval: time.Hour})
			if err != nil {
				t.Fatalf("%s node %d: %v", key, i, err)
			}
			t.Cleanup(func() { _ = s.Shutdown() })
			if i == 0 {
				if _, err := s.Register(ctx); err != nil {
					t.Fatalf("%s registers: %v", key, err)
				}
			}
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			k.WSPs[key] = append(k.WSPs[key], s)
			k.conns[s] = ln.(*countingListener)
		}
	}
	return k
}

// files writes an institution's keys and returns its configuration as an
// operator would write it (BaseURL and Listen are the node's).
func (k *Kit) files(t testing.TB, key, aggregate string, o Options) *wspserver.File {
	t.Helper()
	f := InstitutionFile(t, k.Dir, k.Manifest, key, aggregate, dskit.DSID, dskit.PortalID)
	if st := o.Store[key]; st != "" {
		f.Store = st
	}
	f.Backend.Timeout = o.Timeout
	if o.SLO {
		f.IdP = dskit.IdPID
	}
	f.CheckOutgoing = !o.AsDeployed
	return f
}

// WSPIdentity is the keys of the sample institution key's WSP (signing,
// encryption and TLS), as InstitutionFile writes them.
func WSPIdentity(t testing.TB, key string) *pki.Identity { return dskit.WSPIdentity(t, Entities[key]) }

// InstitutionFile writes the sample institution key's WSP keys into
// dir/KEY-wsp and returns its configuration as an operator would write
// it: the aggregate, a SQLite store beside the keys, the generated back
// office's mapping, the access log readable by the portal, registration
// at the DS, every answer checked against the schemas. BaseURL and Listen are the caller's to set.
func InstitutionFile(t testing.TB, dir string, m *sample.Manifest, key, aggregate, ds, portal string) *wspserver.File {
	t.Helper()
	wdir := filepath.Join(dir, key+"-wsp")
	if err := os.MkdirAll(wdir, 0o700); err != nil {
		t.Fatal(err)
	}
	entity := Entities[key]
	id := dskit.WSPIdentity(t, entity)
	cert, keyFile := filepath.Join(wdir, "wsp.crt"), filepath.Join(wdir, "wsp.key")
	if err := errors.Join(os.WriteFile(cert, id.CertPEM(), 0o600), os.WriteFile(keyFile, id.KeyPEM(), 0o600)); err != nil {
		t.Fatal(err)
	}
	kp := wspserver.KeyPair{Cert: cert, Key: keyFile}
	f := fedfiles.WSPFile(m.Institution(key), entity, dir, kp, []wspserver.MetadataSource{{Location: aggregate, Unsigned: true}},
		"sqlite:"+filepath.Join(wdir, "wsp.db"), ds, portal)
	f.CheckOutgoing = true
	return f
}

// Enrol makes a principal for the sample person and links it at every
// institution the person is known to under their local identifier,
// associating each of the institution's services (the citizen's consent),
// as enrolment at the reception desk and the portal's consent page do.
func (k *Kit) Enrol(t testing.TB, person string) string {
	t.Helper()
	p := k.Manifest.Person(person)
	if p == nil {
		t.Fatalf("no sample person %q", person)
	}
	principal := k.Fed.NewPrincipal(t)
	for key, local := range p.Local {
		k.Link(t, principal, key, local)
	}
	return principal
}

// Link links principal at the institution key under local, as the IdP
// does on the institution's ManageNameID NewID, and has the institution's
// WSP associate its services over SOAP (SvcMDAssociationAdd).
func (k *Kit) Link(t testing.TB, principal, key, local string) {
	t.Helper()
	ctx := context.Background()
	nodes := k.WSPs[key]
	if len(nodes) == 0 {
		return
	}
	if _, err := k.Fed.DS.LinkByHand(ctx, "wspkit", principal, Entities[key], local); err != nil {
		t.Fatal(err)
	}
	// The WSP associates its services itself, with the DS token of the
	// card login at the institution, bound to its key.
	tok := k.Fed.DSToken(t, principal, dskit.WSPIdentity(t, Entities[key]).Cert, dskit.TokenOptions{})
	if err := nodes[0].Associate(ctx, k.Fed.DSEPR(tok)); err != nil {
		t.Fatal(err)
	}
}

// PortalID is My Portal's entityID.
const PortalID = dskit.PortalID

// Portal is My Portal's client (ClientTLS:SAMLV2 by default).
func (k *Kit) Portal(t testing.TB, mechs ...wsf.Mechanism) *client.Client {
	return k.Fed.Client(t, dskit.PortalID, k.Fed.Keys.Portal, mechs...)
}

// Discover asks the DS, as the portal with principal's DS token, for the
// service types (none: every service), and returns the EPRs.
func (k *Kit) Discover(t testing.TB, c *client.Client, principal string, types ...string) []*wsf.EPR {
	t.Helper()
	return k.DiscoverWith(t, c, k.Fed.DSToken(t, principal, k.Fed.Keys.Portal.Cert, dskit.TokenOptions{}), types...)
}

// DiscoverWith is Discover with the DS token tok.
func (k *Kit) DiscoverWith(t testing.TB, c *client.Client, tok *etree.Element, types ...string) []*wsf.EPR {
	t.Helper()
	q := &disco.Query{}
	for _, typ := range types {
		q.RequestedServices = append(q.RequestedServices, disco.RequestedService{ServiceTypes: []string{typ},
			ResultsType: disco.ResultsAll})
	}
	if len(types) == 0 {
		q.RequestedServices = []disco.RequestedService{{ResultsType: disco.ResultsAll}}
	}
	res, err := c.Call(context.Background(), &client.Call{EPR: k.Fed.DSEPR(tok), Action: disco.Action("Query"), Payload: q.Element()})
	if err != nil {
		t.Fatalf("disco:Query: %v", err)
	}
	r, err := disco.DecodeQueryResponse(res.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status.Code != disco.OK {
		t.Fatalf("disco:Query answered %+v", r.Status)
	}
	return r.EPRs
}

// EPR returns the EPR of eprs for the service type at the institution
// key, failing the test when there is none.
func (k *Kit) EPR(t testing.TB, eprs []*wsf.EPR, key, serviceType string) *wsf.EPR {
	t.Helper()
	for _, e := range eprs {
		if e.Metadata != nil && e.Metadata.ProviderID == Entities[key] && e.Metadata.ServiceType == serviceType {
			return e
		}
	}
	t.Fatalf("no EPR of %s for %s among %d", serviceType, key, len(eprs))
	return nil
}

// Call sends a DST operation of serviceType to epr with the purpose of
// the citizen's own reading, and returns the verified answer's payload.
func Call(ctx context.Context, c *client.Client, epr *wsf.EPR, serviceType, op string, payload *etree.Element, purpose string) (*client.Result, error) {
	h := wsf.Header{}
	if purpose != "" {
		h.UsageDirectives = []wsf.UsageDirective{wsf.PurposeDirective(purpose)}
	}
	// IDWSF2 §5: the action is the service namespace, ':' and the element.
	return c.Call(ctx, &client.Call{EPR: epr, Action: serviceType + ":" + op, Payload: payload, Header: h})
}

// HTTPClient is a client trusting the federation's TLS certificates.
func (k *Kit) HTTPClient(t testing.TB) *http.Client { return k.Fed.HTTPClient(t, nil) }
