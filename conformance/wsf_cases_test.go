package conformance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

const (
	testWSP    = "https://127.0.0.1/wsp"
	testWSC    = "https://127.0.0.1/conformance-wsc"
	testIssuer = "https://127.0.0.1/conformance-ds"
	dstAction  = "urn:liberty:dst:2006-08:ref:Query"
	nsDSTRef   = "urn:liberty:dst:2006-08:ref"
)

// wspFlaws are the switches of a lax WSP.
type wspFlaws struct {
	// TwoNodes serves round-robin from two receivers that share no replay
	// cache, as two nodes on separate memory would.
	TwoNodes     bool
	AnyTimestamp bool // a skew of years
}

func dstQuery(variant int) *etree.Element {
	q := etree.NewElement("dstref:Query")
	q.CreateAttr("xmlns:dstref", nsDSTRef)
	item := q.CreateElement("dstref:QueryItem")
	item.CreateAttr("itemID", fmt.Sprintf("q%d", variant))
	item.CreateElement("dstref:Select").SetText("/pp:PP/pp:CommonName")
	return q
}

// startWSP serves a wsf/server receiver with an echo DST service on
// loopback TLS and returns the suite's Env for it.
func startWSP(t *testing.T, f wspFlaws) *Env {
	t.Helper()
	p := pki.MustGet()
	issue := func(name string) *pki.Identity {
		id, err := p.CA.Issue(name, pki.RSA2048)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	wspID, wscID, dsID := issue("wsp"), issue("wsc"), issue("ds")
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{wspID.Cert.Raw}, PrivateKey: wspID.Key}},
		ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	issuer := wsf.NewPeer(testIssuer, dsID.Cert)
	issuer.TokenIssuer = true
	s, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{EntityID: testWSP, Endpoints: []string{srv.URL}, Key: wspID.Key, Certificate: wspID.Cert,
		Directory: wsf.StaticDirectory{testWSC: wsf.NewPeer(testWSC, wscID.Cert), testIssuer: issuer},
		Replay:    server.NewMemoryReplayCache(), Schema: s, Mechanisms: wsf.Mechanisms(),
		Services: map[string]server.Service{dstAction: server.ServiceFunc(func(ctx context.Context, m *server.Message) (*server.Reply, error) {
			e := etree.NewElement("dstref:QueryResponse")
			e.CreateAttr("xmlns:dstref", nsDSTRef)
			e.AddChild(wsf.Status{Code: wsf.OK}.Element())
			return &server.Reply{Payload: e}, nil
		})}}
	if f.AnyTimestamp {
		cfg.Skew, cfg.MaxAge = 1000*time.Hour, 1000*time.Hour
	}
	h = handlerFor(t, cfg, f.TwoNodes)
	pool := x509.NewCertPool()
	pool.AddCert(p.CA.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &Env{Transport: tr, WSF: wspFromMetadata(t, wspID.Cert, srv.URL),
		WSC: &WSC{EntityID: testWSC, Key: wscID.Key, Cert: wscID.Cert, IssuerID: testIssuer, IssuerKey: dsID.Key, IssuerCert: dsID.Cert}}
}

// wspFromMetadata goes the command line's way: the WSP's metadata (an
// entity with a signing key), its endpoint and a payload file's bytes.
func wspFromMetadata(t *testing.T, cert *x509.Certificate, addr string) *WSFTarget {
	t.Helper()
	ed := &md.EntityDescriptor{EntityID: testWSP, SPSSO: []*md.SPSSODescriptor{{SSO: md.SSO{Role: md.Role{
		ProtocolSupport: []string{md.ProtocolSAML2}, Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{cert}}}}},
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: md.BindingHTTPPOST, Location: addr + "/acs"}}}}}}
	raw, err := xmlsec.Serialize(ed.Element())
	if err != nil {
		t.Fatal(err)
	}
	target, err := ParseTarget("wsp.xml", raw)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := xmlsec.Serialize(dstQuery(0))
	if err != nil {
		t.Fatal(err)
	}
	wt, err := WSFTargetFromMetadata(target, addr, dstAction, payload)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := xmlsec.Serialize(wt.Payload(0))
	b, _ := xmlsec.Serialize(wt.Payload(1))
	if string(a) == string(b) {
		t.Fatal("payload variants 0 and 1 are the same")
	}
	return wt
}

func handlerFor(t *testing.T, cfg server.Config, twoNodes bool) http.Handler {
	rcv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !twoNodes {
		return server.Handler{Receiver: rcv}
	}
	cfg.Replay = server.NewMemoryReplayCache()
	other, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			server.Handler{Receiver: other}.ServeHTTP(w, r)
			return
		}
		server.Handler{Receiver: rcv}.ServeHTTP(w, r)
	})
}

func runWSF(t *testing.T, f wspFlaws) *Report {
	env := startWSP(t, f)
	// The echo service is no DST service: the rows of the WSP cases
	// (WSPCases) are out of this run's scope.
	r := &Runner{Role: RoleWSP, Mode: ModeWSP, Cases: WSFCases(RoleWSP), Rows: Matrix(), Only: []string{"idwsf"}, CaseTimeout: 30 * time.Second}
	return r.Run(context.Background(), env)
}

func TestWSFCasesAgainstWSP(t *testing.T) {
	rep := runWSF(t, wspFlaws{})
	var txt strings.Builder
	rep.WriteText(&txt)
	t.Log(txt.String())
	if rep.Failed() {
		t.Fatal("the wsf/server WSP fails the ID-WSF cases")
	}
	judged := 0
	for _, row := range rep.Rows {
		if row.Verdict != OutOfScope {
			judged++
		}
	}
	if judged != 7 {
		t.Fatalf("%d rows judged in WSP mode, want F1-F6 and F11", judged)
	}
}

func TestWSFFlawsCaught(t *testing.T) {
	tests := []struct {
		name  string
		flaws wspFlaws
		case_ string
	}{
		{"fail/two-nodes-no-shared-replay-cache", wspFlaws{TwoNodes: true}, "IDWSF2-SB-2.3/messageid-replayed"},
		{"fail/any-timestamp", wspFlaws{AnyTimestamp: true}, "IDWSF2-SB-2.3/timestamp-stale"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := runWSF(t, tc.flaws)
			res, ok := rep.Result(tc.case_)
			if !ok || res.Outcome.Verdict != Fail {
				t.Fatalf("%s: %+v, want a failure", tc.case_, res.Outcome)
			}
		})
	}
}
