package portalserver_test

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/benchkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/fedkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// Benchmark sizes: sessions open at once, and the bound of one run.
const (
	benchSessions = 50
	benchMaxTime  = 2 * time.Minute
)

// dashboardCalls are the WSP calls of one dashboard of a citizen linked
// at the four sample institutions: clinical, check-up and appointment at
// each hospital, eligibility, pension.
const dashboardCalls = 8

// BenchmarkDashboard measures My Portal's dashboard, every role as it
// runs (fedkit: the IdP process, the DS, the four sample WSPs over their
// SQLite back offices, the portal, each on its own loopback HTTPS
// listener, in this process but for the IdP), with 50 sessions of real
// card logins whose EPRs and tokens are cached: each iteration is one GET
// / of one session, by one client at a time and by 50 at once; the
// dashboard calls the WSPs fresh every time (8 signed ID-WSF calls). It reports the latency's p50 and p99 (the
// target p99 is 100 ms) and dashboards per second.
//
// The floor is the raw public-key work those 8 calls need, measured in
// the same run: per call the portal's signature and its check of the
// answer's, the WSP's two checks (the message, the DS's token), its
// RSA-OAEP unwrap of the token's EncryptedID and its answer's signature
// (all RSA-2048); x-floor is the dashboard's time per core over it.
func BenchmarkDashboard(b *testing.B) {
	f := fedkit.Start(b, fedkit.Options{Timeout: "10s", SessionsPerCitizen: benchSessions})
	cookies := benchSessionsOf(b, f)
	for _, conc := range []int{1, benchSessions} {
		b.Run(fmt.Sprintf("concurrent-%d", conc), func(b *testing.B) { benchDashboard(b, f, cookies[:conc]) })
	}
	// 50 citizens reading at once, each looking again every 5 s: 10
	// dashboards a second arriving on a fixed schedule, however long the
	// earlier ones take.
	b.Run(fmt.Sprintf("sessions-%d-every-5s", benchSessions), func(b *testing.B) {
		benchDashboardPaced(b, f, cookies, 5*time.Second/benchSessions)
	})
}

// benchDashboardPaced starts one dashboard every interval, round robin
// over the sessions, without waiting for the earlier ones (an open load),
// and reports the latency's p50 and p99.
func benchDashboardPaced(b *testing.B, f *fedkit.Fed, cookies []*http.Cookie, interval time.Duration) {
	hc := benchClient(f)
	ctx, cancel := context.WithTimeout(context.Background(), benchMaxTime)
	defer cancel()
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(interval)
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N && ctx.Err() == nil; i++ {
		<-tick.C
		wg.Add(1)
		go func(c *http.Cookie) {
			defer wg.Done()
			t0 := time.Now()
			if err := dashboard(hc, f, c); err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			lat = append(lat, time.Since(t0))
			mu.Unlock()
		}(cookies[i%len(cookies)])
	}
	wg.Wait()
	b.StopTimer()
	if len(lat) == 0 {
		b.Fatal("no dashboard measured")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(time.Second)/float64(interval), "dashboards/s-offered")
}

// dashboard GETs the dashboard of the session c and checks that every
// institution answered.
func dashboard(hc *http.Client, f *fedkit.Fed, c *http.Cookie) error {
	req, _ := http.NewRequest(http.MethodGet, f.PortalURL+"/", nil)
	req.AddCookie(c)
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `aria-current="page"`) ||
		strings.Contains(string(body), `class="banner"`) {
		i := strings.Index(string(body), `class="banner"`)
		return errors.New("the dashboard is not complete: HTTP " + res.Status + ": " + string(body[max(i, 0):min(len(body), max(i, 0)+300)]))
	}
	return nil
}

// benchDashboard runs b.N dashboards over the sessions, one client per
// session at once.
func benchDashboard(b *testing.B, f *fedkit.Fed, cookies []*http.Cookie) {
	hc := benchClient(f)
	get := func(c *http.Cookie) error { return dashboard(hc, f, c) }
	for _, c := range cookies { // discovery and tokens cached
		if err := get(c); err != nil {
			b.Fatal(err)
		}
	}
	fl := newDashboardFloor(b, f)
	floor := benchkit.Time(fl.dashboard)

	ctx, cancel := context.WithTimeout(context.Background(), benchMaxTime)
	defer cancel()
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range cookies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				t0 := time.Now()
				if err := get(cookies[i]); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < b.N && ctx.Err() == nil; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	for range max(1, b.N/20) { // the floor, again, now that the load is over
		floor = min(floor, benchkit.Time(fl.dashboard))
	}
	if len(lat) == 0 {
		b.Fatal("no dashboard measured")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	perCore := elapsed.Seconds() * float64(runtime.GOMAXPROCS(0)) / float64(len(lat))
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "dashboards/s")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0))/floor.Seconds(), "floor-dashboards/s")
	b.ReportMetric(perCore/floor.Seconds(), "x-floor")
}

// benchSessionsOf logs in benchSessions sessions, spread over the sample
// citizens known at all four institutions, each having consented once.
func benchSessionsOf(b *testing.B, f *fedkit.Fed) []*http.Cookie {
	var out []*http.Cookie
	people := []string{"p01", "p06", "p09", "p12"}
	for i, p := range people {
		_, card := f.Citizen(b, p)
		br := f.Browser(b, card)
		f.Login(b, br)
		for _, key := range []string{sample.HospitalA, sample.HospitalB, sample.Insurer, sample.Pension} {
			f.Consent(b, br, key)
		}
		out = append(out, f.SessionCookie(b, br))
		for j := 1; j < benchSessions/len(people)+boolInt(i < benchSessions%len(people)); j++ {
			br := f.Browser(b, card)
			f.Login(b, br)
			out = append(out, f.SessionCookie(b, br))
		}
	}
	if len(out) != benchSessions {
		b.Fatalf("%d sessions, want %d", len(out), benchSessions)
	}
	return out
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

// benchClient is the load client: keep-alive connections to the portal.
func benchClient(f *fedkit.Fed) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: benchSessions,
		TLSClientConfig: &tls.Config{RootCAs: f.RootCAs, ServerName: idpkit.ServerName, MinVersion: tls.VersionTLS12}}}
}

// dashboardFloor is the raw public-key work of one dashboard's calls.
type dashboardFloor struct {
	b               *testing.B
	portal, ds, wsp *benchkit.Signature
	unwrap          *benchkit.KeyTransport
}

func newDashboardFloor(b *testing.B, f *fedkit.Fed) *dashboardFloor {
	id := wspkit.WSPIdentity(b, sample.HospitalA)
	return &dashboardFloor{b: b, portal: benchkit.NewSignature(b, f.PortalSigning.Key),
		ds: benchkit.NewSignature(b, f.IdP.DSEncryption.Key), wsp: benchkit.NewSignature(b, id.Key),
		unwrap: benchkit.NewKeyTransport(b, id.Key.(*rsa.PrivateKey))}
}

func (fl *dashboardFloor) dashboard() {
	for range dashboardCalls {
		if err := errors.Join(fl.portal.Sign(), fl.portal.Verify(), fl.ds.Verify(), fl.unwrap.Unwrap(), fl.wsp.Sign(),
			fl.wsp.Verify()); err != nil {
			fl.b.Error(err)
		}
	}
}

// BenchmarkFirstDashboard measures the first dashboard of a login: a new
// session from the bootstrap of a real card login, whose first page asks
// the DS for every service type (the DS mints one token per service, 8,
// each signed and its subject encrypted for its WSP) and then calls the 8
// services with those fresh tokens. The floor is the raw public-key work
// of that: the Query (the portal's signature, the DS's checks of the
// message and of the IdP's DS token, its unwrap of the token's subject,
// 8 token signatures and 8 RSA-OAEP wraps, the response's signature and
// its check) and the 8 calls (as in BenchmarkDashboard).
func BenchmarkFirstDashboard(b *testing.B) {
	f := fedkit.Start(b, fedkit.Options{Timeout: "10s", SessionsPerCitizen: 4})
	_, card := f.Citizen(b, "p01")
	br := f.Browser(b, card)
	f.Login(b, br)
	for _, key := range []string{sample.HospitalA, sample.HospitalB, sample.Insurer, sample.Pension} {
		f.Consent(b, br, key)
	}
	c, err := f.Portal.Portal.Session(f.SessionCookie(b, br).Value)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	first := func() {
		s, err := f.Portal.Portal.Open(c.Identity, c.Data.(*sp.Login).Bootstrap, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Portal.Portal.Close(s.ID)
		ov, err := f.Portal.Portal.Records(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		if len(ov.Sections) != dashboardCalls {
			b.Fatalf("%d sections, want %d", len(ov.Sections), dashboardCalls)
		}
		for _, sec := range ov.Sections {
			if sec.Err != nil {
				b.Fatalf("%s %s: %v", sec.Provider, sec.ServiceType, sec.Err)
			}
		}
	}
	fl := newDashboardFloor(b, f)
	wrap := benchkit.NewKeyTransport(b, wspkit.WSPIdentity(b, sample.HospitalA).Key.(*rsa.PrivateKey))
	dsUnwrap := benchkit.NewKeyTransport(b, f.IdP.DSEncryption.Key.(*rsa.PrivateKey))
	floor := func() {
		err := errors.Join(fl.portal.Sign(), fl.ds.Verify(), fl.ds.Verify(), dsUnwrap.Unwrap(), fl.ds.Sign(), fl.portal.Verify())
		for range dashboardCalls {
			err = errors.Join(err, fl.ds.Sign(), wrap.Wrap())
		}
		if err != nil {
			b.Error(err)
		}
		fl.dashboard()
	}
	first()
	b.ResetTimer()
	ts, tfs := benchkit.Interleave(b, nil, first, floor)
	benchkit.ReportRatio(b, ts, tfs[0], "first-dashboard-ns", "floor-ns")
}
