package wsc_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// counter counts the requests sent to the DS.
type counter struct {
	base http.RoundTripper
	ds   string
	n    atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.String() == c.ds {
		c.n.Add(1)
	}
	return c.base.RoundTrip(r)
}

// portal is My Portal's client over a transport that counts the DS
// queries; dial, when set, replaces the transport's dialer.
func portal(t *testing.T, k *wspkit.Kit, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*client.Client, *counter) {
	t.Helper()
	hc := k.Fed.HTTPClient(t, k.Fed.Keys.Portal)
	if dial != nil {
		hc.Transport.(*http.Transport).DialContext = dial
	}
	cnt := &counter{base: hc.Transport, ds: k.Fed.URL}
	hc.Transport = cnt
	c, err := client.New(client.Config{EntityID: wspkit.PortalID, Key: k.Fed.Keys.Portal.Key, Certificate: k.Fed.Keys.Portal.Cert,
		Directory: k.Fed.Directory, HTTP: hc, Schema: k.Fed.Schema, Now: k.Fed.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c, cnt
}

// login is the session of the citizen's login at the portal: the
// bootstrap EPR of the DS with its DS token, as the IdP hands it over.
func login(t *testing.T, k *wspkit.Kit, c *client.Client, principal string, now func() time.Time) *wsc.Session {
	t.Helper()
	tok := k.Fed.DSToken(t, principal, k.Fed.Keys.Portal.Cert, dskit.TokenOptions{Lifetime: 2 * time.Hour})
	s, err := wsc.NewSession(wsc.Config{Client: c, Now: now, Purpose: wsf.PurposeSelf,
		Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2}}, k.Fed.DSEPR(tok))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sel(svcType, item string) dst.QueryItem {
	s := dst.Lookup(svcType)
	return dst.QueryItem{ItemID: item, Select: "/" + s.Prefix + ":" + item, HasSelect: true, Count: -1}
}

func query(t *testing.T, svcType, provider, item string) wsc.Call {
	t.Helper()
	c, err := wsc.DSTQuery(svcType, provider, &dst.Query{Items: []dst.QueryItem{sel(svcType, item)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// items checks a DST answer and returns its number of items.
func items(t *testing.T, what string, r *dst.QueryResponse, err error) int {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if r.Status.Code != wsf.OK || len(r.Data) != 1 || len(r.Data[0].Items) == 0 {
		t.Fatalf("%s: %+v", what, r.Status)
	}
	return len(r.Data[0].Items)
}

var (
	hospitalA = wspkit.Entities[sample.HospitalA]
	insurer   = wspkit.Entities[sample.Insurer]
)

func start(t *testing.T) *wspkit.Kit {
	return wspkit.Start(t, wspkit.Options{Institutions: []string{sample.HospitalA, sample.Insurer}})
}

// The portal's day: everything discovered at once, lab results and
// eligibility read in parallel, the cache saving the DS every query until
// the tokens expire, then one query more.
func TestDiscoverCallAllAndExpiry(t *testing.T) {
	k := start(t)
	principal := k.Enrol(t, "p01")
	c, ds := portal(t, k, nil)
	s := login(t, k, c, principal, k.Fed.Clock.Now)
	ctx := context.Background()

	all, err := s.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k.EPR(t, all, sample.HospitalA, dst.Clinical)
	k.EPR(t, all, sample.Insurer, dst.Eligibility)
	for range 2 {
		eprs, err := s.Discover(ctx, dst.Clinical, dst.Eligibility)
		if err != nil || len(eprs) != 2 {
			t.Fatalf("cached discovery: %d EPRs, %v", len(eprs), err)
		}
	}
	if n := ds.n.Load(); n != 1 {
		t.Fatalf("%d DS queries, want 1: the second Discover should be served from the cache", n)
	}

	out := s.CallAll(ctx, []wsc.Call{query(t, dst.Clinical, hospitalA, "LabResult"),
		query(t, dst.Eligibility, insurer, "Eligibility")}, 10*time.Second)
	for i, what := range []string{"lab results", "eligibility"} {
		if out[i].Err != nil {
			t.Fatalf("%s: %v", what, out[i].Err)
		}
		r, err := wsc.DecodeQuery([]string{dst.Clinical, dst.Eligibility}[i], out[i].Result)
		items(t, what, r, err)
	}
	if out[1].Result.Sender.EntityID != insurer {
		t.Fatalf("eligibility answered by %s", out[1].Result.Sender.EntityID)
	}
	if n := ds.n.Load(); n != 1 {
		t.Fatalf("%d DS queries after the calls, want 1", n)
	}

	// The WSP tokens last the DS's ten minutes, the WSPs allowing three
	// minutes of skew; past them the session asks the DS again before
	// calling.
	k.Fed.Clock.Advance(14 * time.Minute)
	r, err := s.Query(ctx, dst.Clinical, hospitalA, &dst.Query{Items: []dst.QueryItem{sel(dst.Clinical, "LabResult")}})
	items(t, "lab results after expiry", r, err)
	if n := ds.n.Load(); n != 2 {
		t.Fatalf("%d DS queries after the tokens expired, want 2", n)
	}
}

// A session whose clock lags the WSP's sends a token the WSP finds
// expired: the WSP answers InappropriateCredentials, and the session
// discovers again and re-sends once.
func TestExpiredTokenRediscovered(t *testing.T) {
	k := start(t)
	principal := k.Enrol(t, "p01")
	c, ds := portal(t, k, nil)
	lagging := k.Fed.Clock.Now()
	s := login(t, k, c, principal, func() time.Time { return lagging })
	ctx := context.Background()
	eprs, err := s.Discover(ctx, dst.Clinical)
	if err != nil || len(eprs) != 1 {
		t.Fatalf("discover: %d, %v", len(eprs), err)
	}
	k.Fed.Clock.Advance(14 * time.Minute) // past the token and the WSP's skew

	// What the WSP answers to the expired token.
	_, err = wspkit.Call(ctx, c, eprs[0], dst.Clinical, "Query",
		dst.Lookup(dst.Clinical).QueryElement(&dst.Query{Items: []dst.QueryItem{sel(dst.Clinical, "LabResult")}}), wsf.PurposeSelf)
	var f *wsf.Fault
	if !errors.As(err, &f) || !errors.Is(err, wsf.ErrInappropriateCreds) || f.Code != wsf.FaultInvalidSecurityToken {
		t.Fatalf("expired token: %v, want wsse:InvalidSecurityToken with InappropriateCredentials", err)
	}

	r, err := s.Query(ctx, dst.Clinical, hospitalA, &dst.Query{Items: []dst.QueryItem{sel(dst.Clinical, "LabResult")}})
	items(t, "lab results with a fresh token", r, err)
	if n := ds.n.Load(); n != 2 {
		t.Fatalf("%d DS queries, want 2 (the first, and one after InappropriateCredentials)", n)
	}
}

// Concurrent callers of one service type share one DS query; a dead WSP
// costs its own call the timeout and nothing to the other.
func TestConcurrencyAndTimeouts(t *testing.T) {
	k := start(t)
	principal := k.Enrol(t, "p01")

	// A listener that accepts and never answers, standing in for hospital A.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	var held []net.Conn
	var heldMu sync.Mutex
	go func() {
		for {
			conn, err := dead.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			held = append(held, conn)
			heldMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		heldMu.Lock()
		defer heldMu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	hospital := k.WSPs[sample.HospitalA][0].File.Listen
	var d net.Dialer
	c, ds := portal(t, k, func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == hospital {
			addr = dead.Addr().String()
		}
		return d.DialContext(ctx, network, addr)
	})
	s := login(t, k, c, principal, k.Fed.Clock.Now)
	ctx := context.Background()

	const callers = 8
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Discover(ctx, dst.Clinical, dst.Eligibility)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := ds.n.Load(); n != 1 {
		t.Fatalf("%d concurrent Discovers made %d DS queries, want 1", callers, n)
	}

	// The bound is generous: the live call must finish within it on a
	// busy 2-core machine; what is checked is that the dead WSP costs its
	// own timeout and no more, not how fast anything runs.
	const timeout = 5 * time.Second
	begin := time.Now()
	out := s.CallAll(ctx, []wsc.Call{query(t, dst.Clinical, hospitalA, "LabResult"),
		query(t, dst.Eligibility, insurer, "Eligibility")}, timeout)
	took := time.Since(begin)
	if !errors.Is(out[0].Err, context.DeadlineExceeded) {
		t.Fatalf("dead WSP: %v, want the call's deadline", out[0].Err)
	}
	if out[1].Err != nil {
		t.Fatalf("insurer beside a dead WSP: %v", out[1].Err)
	}
	r, err := wsc.DecodeQuery(dst.Eligibility, out[1].Result)
	items(t, "eligibility", r, err)
	if took > 3*timeout {
		t.Fatalf("CallAll took %v with a %v timeout: the dead WSP held the others back", took, timeout)
	}
}

func TestBootstrapOf(t *testing.T) {
	ds := &wsf.EPR{Address: "https://ds.example/disco", Metadata: &wsf.EPRMetadata{Abstract: "DS", ProviderID: "https://ds.example",
		ServiceType: wsf.ServiceTypeDisco, SecurityContexts: []wsf.SecurityContext{{Mechanisms: []string{string(wsf.ClientTLSSAMLV2)}}}}}
	other := &wsf.EPR{Address: "https://wsp.example/soap", Metadata: &wsf.EPRMetadata{Abstract: "WSP", ProviderID: "https://wsp.example",
		ServiceType: dst.Clinical, SecurityContexts: []wsf.SecurityContext{{Mechanisms: []string{string(wsf.ClientTLSSAMLV2)}}}}}
	a := &saml.Assertion{AttributeStatements: []saml.AttributeStatement{{Attributes: []saml.Attribute{{Name: wsf.DiscoveryEPRAttr,
		Values: []saml.AttributeValue{{Elements: []*etree.Element{other.Element()}}, {Elements: []*etree.Element{ds.Element()}}}}}}}}
	got, err := wsc.BootstrapOf(a)
	if err != nil || got.Address != ds.Address {
		t.Fatalf("BootstrapOf: %+v, %v", got, err)
	}
	if _, err := wsc.BootstrapOf(&saml.Assertion{}); !errors.Is(err, wsc.ErrNoBootstrap) {
		t.Fatalf("no bootstrap: %v", err)
	}
}
