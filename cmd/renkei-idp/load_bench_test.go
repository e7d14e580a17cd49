package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/benchkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Bounds of one benchmark run: no run may take longer, whatever b.N is.
const (
	loadTimeout = 3 * time.Minute
	callTimeout = 20 * time.Second
)

// idpProfile, when set, is a directory where each IdP process of
// BenchmarkLogin writes its CPU profile (renkei-idp-KEYTYPE.pprof) when it
// stops: go test -run '^$' -bench Login ./cmd/renkei-idp -idp-cpuprofile DIR.
var idpProfile = flag.String("idp-cpuprofile", "", "directory for the CPU profiles of the IdP processes of BenchmarkLogin")

// BenchmarkLogin drives the real renkei-idp binary (a child process, with
// its SQLite store on disk, as an operator runs it) from this process, the
// client: SP-initiated Web SSO of a portal that signs its AuthnRequests
// and asks for the discovery bootstrap, each Response checked as the
// portal checks it (wsc/sp: signature, audience, conditions, decryption).
//
// "full" is a new browser each time: fresh TLS handshakes at the main and
// at the card listener, the card's certificate authenticating the second,
// and a new IdP session. "session" is a browser that already holds an IdP
// session and its connection to the main listener; "return" one that
// holds the session and comes back on a new connection, resuming its TLS
// session with a ticket. Each runs with 1 and 4 browsers at once, with the IdP's TLS and SAML signing keys both RSA-2048
// or both P-256.
//
// The IdP's cost is its own CPU time (utime+stime of /proc/PID/stat,
// benchkit.ProcessCPU, read before and after the bounded loop), not the wall clock, reported as
// idp-cpu-ms/login beside logins/s. The floor is the signatures the IdP
// must make for one login (a TLS server signature per full handshake, the
// assertion's and the bootstrap token's), made with the same keys in this
// process, interleaved with the logins, and timed as this thread's CPU
// (floor-ms/login); x-floor is the first over the second.
func BenchmarkLogin(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the IdP's CPU time is read from /proc")
	}
	for _, kt := range []pki.KeyType{pki.RSA2048, pki.P256} {
		l := newLoad(b, kt)
		for _, flow := range []string{"full", "session", "return"} {
			for _, n := range []int{1, 4} {
				b.Run(fmt.Sprintf("%s/%s/c%d", kt, flow, n), func(b *testing.B) { l.run(b, flow, n) })
			}
		}
	}
}

// load is one IdP process and the portal that logs in there.
type load struct {
	k       *idpkit.IdP
	portal  *sp.SP
	card    tls.Certificate
	tlsKey  *benchkit.Signature // the IdP's TLS server key
	samlKey *benchkit.Signature // the IdP's SAML signing key
}

func newLoad(b *testing.B, kt pki.KeyType) *load {
	p := pki.MustGet()
	dir := b.TempDir()
	server := map[pki.KeyType]*pki.Identity{pki.RSA2048: p.RSA, pki.P256: p.P256}[kt]
	signing, err := p.CA.Issue("idp-signing-"+string(kt), kt)
	must(b, err)
	var srv, sig idpkit.KeyPair
	srv.Cert, srv.Key, err = server.WriteFiles(dir)
	must(b, err)
	sig.Cert, sig.Key, err = signing.WriteFiles(dir)
	must(b, err)
	cfg, spMD := portalConfig(b, dir)
	opts := idpkit.Options{SPMetadata: [][]byte{spMD}, Discovery: true, WantAuthnRequestsSigned: true, AsDeployed: true,
		Tweak: func(c *idpkit.Config) {
			c.TLS, c.CardTLS, c.Signing = srv, srv, sig
			// Every login of the load comes from one loopback address.
			c.AuthnLimits = idpserver.AuthnLimits{ClientBurst: 1 << 20, ClientRate: 1 << 20}
		}}
	if *idpProfile != "" {
		opts.Args = []string{"-cpuprofile", filepath.Join(*idpProfile, "renkei-idp-"+string(kt)+".pprof")}
	}
	k := idpkit.New(b, opts)
	card := k.IssueCard("p-bench", "HIC-BENCH-"+string(kt), kt)
	k.Start()
	must(b, os.WriteFile(filepath.Join(dir, "idp.xml"), k.Metadata, 0o600))
	must(b, cfg.Metadata.(*md.Set).Refresh(context.Background(), time.Now()))
	portal, err := sp.New(cfg)
	must(b, err)
	return &load{k: k, portal: portal, tlsKey: benchkit.NewSignature(b, server.Key), samlKey: benchkit.NewSignature(b, signing.Key),
		card: tls.Certificate{Certificate: [][]byte{card.Cert.Raw}, PrivateKey: card.Key, Leaf: card.Cert}}
}

// portalConfig is the portal's SP (RSA-2048 keys, a store in memory)
// trusting the IdP metadata file idp.xml in dir, and its metadata.
func portalConfig(b *testing.B, dir string) (sp.Config, []byte) {
	ca := pki.MustGet().CA
	sign, err := ca.Issue("portal-signing", pki.RSA2048)
	must(b, err)
	enc, err := ca.Issue("portal-encryption", pki.RSA2048)
	must(b, err)
	schema, err := xsd.Default()
	must(b, err)
	set, err := md.New(md.Config{Sources: []md.Source{{Location: filepath.Join(dir, "idp.xml"), Unsigned: true}}, Schema: schema})
	must(b, err)
	db, err := sqlstore.Open(context.Background(), "sqlite::memory:")
	must(b, err)
	b.Cleanup(func() { db.Close() })
	const base = "https://127.0.0.1:1"
	cfg := sp.Config{EntityID: base + "/metadata", ACSURL: base + "/acs", SLOURL: base + "/slo", IdP: "https://idp.renkei.test/saml",
		Metadata: set, Key: sign.Key, Certificate: sign.Cert, Decrypter: &xmlenc.Decrypter{Key: enc.Key.(crypto.Decrypter)},
		EncryptionCertificate: enc.Cert, Store: db, Schema: schema}
	spMD, err := xmlsec.Serialize(sp.Descriptor(cfg).Element())
	must(b, err)
	return cfg, spMD
}

// run measures b.N logins of flow by n browsers at once.
func (l *load) run(b *testing.B, flow string, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	browsers := make([]*http.Client, n)
	for i := range browsers {
		browsers[i] = l.browser(flow == "return")
		if _, err := l.login(ctx, browsers[i]); err != nil { // warm: a session, the code paths
			b.Fatalf("warm-up login: %v\nrenkei-idp:\n%s", err, l.k.Stderr())
		}
	}
	signs := l.signatures(flow)
	var next atomic.Int64
	var floor atomic.Int64 // ns of this process's CPU
	errs := make(chan error, n)
	var wg sync.WaitGroup
	b.ResetTimer()
	ops0 := l.storeOps(b)
	cpu0, err := benchkit.ProcessCPU(l.k.PID())
	must(b, err)
	t0 := time.Now()
	for _, c := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- l.worker(ctx, b.N, &next, &floor, flow, c, signs)
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	cpu1, err := benchkit.ProcessCPU(l.k.PID())
	must(b, err)
	b.StopTimer()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatalf("%v\nrenkei-idp:\n%s", err, l.k.Stderr())
		}
	}
	logins := float64(b.N)
	idp := float64(cpu1-cpu0) / 1e6 / logins
	fl := float64(floor.Load()) / 1e6 / logins
	b.ReportMetric(logins/wall.Seconds(), "logins/s")
	b.ReportMetric(idp, "idp-cpu-ms/login")
	b.ReportMetric(fl, "floor-ms/login")
	b.ReportMetric(idp/fl, "x-floor")
	l.reportStore(b, ops0, l.storeOps(b))
}

// worker logs in until next reaches total, after each login making the
// floor's signatures on a locked thread and adding that thread's CPU time
// to floor.
func (l *load) worker(ctx context.Context, total int, next, floor *atomic.Int64, flow string, c *http.Client, signs []*benchkit.Signature) error {
	for next.Add(1) <= int64(total) {
		if ctx.Err() != nil {
			return fmt.Errorf("the load did not finish within %s", loadTimeout)
		}
		if flow == "full" {
			c = l.browser(false)
		}
		resumed, err := l.login(ctx, c)
		if flow == "full" {
			c.CloseIdleConnections()
		}
		if err != nil {
			return err
		}
		if flow == "return" && !resumed {
			return errors.New("a returning browser did not resume its TLS session")
		}
		d, err := benchkit.ThreadCPU(func() error {
			var errs []error
			for _, s := range signs {
				errs = append(errs, s.Sign())
			}
			return errors.Join(errs...)
		})
		if err != nil {
			return err
		}
		floor.Add(int64(d))
	}
	return nil
}

// signatures are the signatures the IdP makes for one login of flow: the
// assertion's and the bootstrap token's, and for a new browser a TLS
// server signature at each of the two listeners (a resumed TLS session
// needs none).
func (l *load) signatures(flow string) []*benchkit.Signature {
	s := []*benchkit.Signature{l.samlKey, l.samlKey}
	if flow == "full" {
		s = append(s, l.tlsKey, l.tlsKey)
	}
	return s
}

// browser is a new browser holding the card: no cookie, no connection, no
// TLS session to resume. A returning one keeps no connection open but
// keeps its TLS sessions, to resume them.
func (l *load) browser(returning bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: l.k.RootCAs, ServerName: idpkit.ServerName,
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{l.card}}}
	if returning {
		tr.DisableKeepAlives = true
		tr.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	}
	return &http.Client{Transport: tr, Jar: jar, Timeout: callTimeout}
}

// samlResponse finds the SAMLResponse of the IdP's HTTP-POST form.
var samlResponse = regexp.MustCompile(`name="SAMLResponse" value="([^"]*)"`)

// login is one SP-initiated login of c at the portal, the Response
// checked by the portal's engine; resumed is whether the connection that
// brought the Response resumed a TLS session.
func (l *load) login(ctx context.Context, c *http.Client) (resumed bool, err error) {
	lr, err := l.portal.StartLogin(ctx, "")
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, lr.URL, nil)
	if err != nil {
		return false, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	m := samlResponse.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return false, fmt.Errorf("HTTP %d at %s, no SAMLResponse form:\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	form := url.Values{"SAMLResponse": {html.UnescapeString(string(m[1]))}}
	msg, err := (&binding.POSTDecoder{}).Decode(strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	got, err := l.portal.Consume(ctx, msg, lr.ID)
	if err != nil {
		return false, err
	}
	if got.AuthnContext != saml.ACSmartcardPKI || got.Bootstrap == nil {
		return false, fmt.Errorf("login with AuthnContext %s, bootstrap %v: want the card's, with the DS's", got.AuthnContext, got.Bootstrap)
	}
	return resp.TLS != nil && resp.TLS.DidResume, nil
}

// storeCount matches a count of the IdP's store operations on /metrics.
var storeCount = regexp.MustCompile(`(?m)^renkei_store_operation_duration_seconds_count\{op="(\w+)",result="(\w+)"[^}]*\} (\d+)$`)

// storeOps are the IdP's store operations so far, by operation and
// result, from its admin listener's /metrics.
func (l *load) storeOps(b *testing.B) map[string]int {
	resp, err := http.Get(l.k.AdminURL + "/metrics")
	must(b, err)
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	must(b, err)
	ops := map[string]int{}
	for _, m := range storeCount.FindAllStringSubmatch(string(body), -1) {
		n, _ := strconv.Atoi(m[3])
		ops[m[1]+"/"+m[2]] += n
	}
	return ops
}

// reportStore reports the store's database calls per login, as its
// Observer counts them (store-calls/login: a read-modify-write is two),
// and logs them by store method.
func (l *load) reportStore(b *testing.B, before, after map[string]int) {
	var total int
	var each []string
	for op, n := range after {
		if d := n - before[op]; d > 0 {
			total += d
			each = append(each, fmt.Sprintf("%s %.2f", op, float64(d)/float64(b.N)))
		}
	}
	slices.Sort(each)
	b.ReportMetric(float64(total)/float64(b.N), "store-calls/login")
	b.Logf("database calls per login, by store method: %s", strings.Join(each, ", "))
}
