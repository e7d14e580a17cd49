package idp

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// TestSSOLimits: AuthnRequests without a session are bounded per client
// and overall, before they write anything: a flood from one loopback
// address gets 429 once its burst is spent, while another address still
// gets through to the card login; once the overall cap is reached every
// new client gets 503; a request with a live session is not counted; and
// a refused request left no replay row behind (its ID is accepted later).
func TestSSOLimits(t *testing.T) {
	e := newSSOEnv(t, nil)
	e.h.Limits = AuthnLimits{ClientBurst: 5, ClientRate: 0.001, MaxPending: 8}
	sp := e.sps[otherSP]
	flood, other, third := e.clientFrom(t, "127.0.0.1"), e.clientFrom(t, "127.0.0.2"), e.clientFrom(t, "127.0.0.3")
	send := func(c *http.Client, id string) exchange { return e.redirect(c, e.newRequest(sp, id), "", nil) }
	toLogin := func(x exchange) bool {
		return x.Status == http.StatusSeeOther && strings.HasPrefix(x.Header.Get("Location"), e.cardURL+PathLogin+"?")
	}
	var admitted, refused int
	for i := range 12 { // bounded: burst 5, then refusals
		x := send(flood, fmt.Sprintf("_flood-%d", i))
		switch {
		case toLogin(x):
			admitted++
		case x.Status == http.StatusTooManyRequests && x.Header.Get("Retry-After") != "" && strings.Contains(x.Body, "Too many login requests"):
			refused++
		default:
			t.Fatalf("flood request %d: HTTP %d %s", i, x.Status, x.Body)
		}
	}
	if admitted != 5 || refused != 7 {
		t.Fatalf("flood: %d admitted, %d refused; want 5 and 7", admitted, refused)
	}
	t.Run("ok/another-client-gets-through", func(t *testing.T) {
		for i := range 3 {
			if x := send(other, fmt.Sprintf("_other-%d", i)); !toLogin(x) {
				t.Fatalf("request %d of the other client: HTTP %d %s", i, x.Status, x.Body)
			}
		}
	})
	t.Run("fail/overall-cap-reached", func(t *testing.T) {
		x := send(third, "_flood-11")
		if x.Status != http.StatusServiceUnavailable || x.Header.Get("Retry-After") == "" || !strings.Contains(x.Body, "busy") {
			t.Fatalf("HTTP %d %s, want 503 once 8 requests are pending", x.Status, x.Body)
		}
	})
	t.Run("ok/session-is-not-counted", func(t *testing.T) {
		c := e.browser(&e.Alice)
		e.h.lim.mu.Lock()
		e.h.lim.live = nil                   // room for the one login that starts the session,
		delete(e.h.lim.clients, "127.0.0.1") // from the flood's address
		e.h.lim.mu.Unlock()
		if _, err := e.consume(sp, e.redirect(c, e.newRequest(sp, "_sess-0"), "", nil), "_sess-0"); err != nil {
			t.Fatal(err)
		}
		e.h.lim.mu.Lock()
		e.h.lim.live = make([]time.Time, 8) // full again, and never expiring at the frozen clock
		for i := range e.h.lim.live {
			e.h.lim.live[i] = e.now.Add(time.Hour)
		}
		e.h.lim.mu.Unlock()
		for i := range 3 {
			id := fmt.Sprintf("_sess-%d", i+1)
			got, err := e.consume(sp, e.redirect(c, e.newRequest(sp, id), "", nil), id)
			if err != nil || got.Assertion == nil {
				t.Fatalf("request %d with a session: %v", i, err)
			}
		}
	})
	t.Run("ok/refused-request-wrote-no-replay-row", func(t *testing.T) {
		e.h.lim.mu.Lock()
		e.h.lim.live = nil
		e.h.lim.mu.Unlock()
		if x := send(third, "_flood-11"); !toLogin(x) {
			t.Fatalf("the ID of a refused request was taken: HTTP %d %s", x.Status, x.Body)
		}
	})
}

// TestSSOLimitsJunk: a request takes its slot of the limits only once it
// is verified (AuthnLimits): AuthnRequests of an unknown issuer, with a
// bad signature or replaying an admitted one's ID, however many from one
// loopback address, take nothing from its bucket nor from MaxPending, and
// are refused for what they are; the valid requests of that client still
// get its whole burst, and the overall cap still counts them.
func TestSSOLimitsJunk(t *testing.T) {
	e := newSSOEnv(t, nil)
	e.h.Limits = AuthnLimits{ClientBurst: 3, ClientRate: 0.001, MaxPending: 4}
	sp, portal, legacy := e.sps[otherSP], e.sps[portalID], e.sps[legacyID]
	flood, other := e.clientFrom(t, "127.0.0.1"), e.clientFrom(t, "127.0.0.2")
	toLogin := func(x exchange) bool {
		return x.Status == http.StatusSeeOther && strings.HasPrefix(x.Header.Get("Location"), e.cardURL+PathLogin+"?")
	}
	if x := e.redirect(flood, e.newRequest(sp, "_valid-0"), "", nil); !toLogin(x) {
		t.Fatalf("first valid request: HTTP %d %s", x.Status, x.Body)
	}
	for i := range 10 { // bounded: ten of each kind, more than the burst and the cap
		unknown := e.newRequest(sp, fmt.Sprintf("_junk-u%d", i))
		unknown.Issuer.Value = "https://unknown.example.org/sp"
		x := e.redirect(flood, unknown, "", nil)
		if x.Status != http.StatusBadRequest || !strings.Contains(x.Body, "not known") {
			t.Fatalf("unknown issuer %d: HTTP %d %s, want its error page", i, x.Status, x.Body)
		}
		id := fmt.Sprintf("_junk-s%d", i)
		got, err := e.consume(portal, e.redirect(flood, e.newRequest(portal, id), "", redirectSigner(legacy)), id)
		if err != nil {
			t.Fatalf("bad signature %d: %v", i, err)
		}
		wantStatus(t, got, samlp.StatusRequester, samlp.StatusRequestDenied)
		got, err = e.consume(sp, e.redirect(flood, e.newRequest(sp, "_valid-0"), "", nil), "_valid-0")
		if err != nil {
			t.Fatalf("replay %d: %v", i, err)
		}
		wantStatus(t, got, samlp.StatusRequester, samlp.StatusRequestDenied)
	}
	if n := e.pendingSlots(); n != 1 {
		t.Fatalf("%d slots of MaxPending taken, want the first valid request's alone", n)
	}
	for i := 1; i <= 3; i++ { // the rest of the burst, then 429
		x := e.redirect(flood, e.newRequest(sp, fmt.Sprintf("_valid-%d", i)), "", nil)
		if ok := toLogin(x); ok != (i < 3) {
			t.Fatalf("valid request %d after the junk: HTTP %d %s; want the burst of 3 admitted, then 429", i, x.Status, x.Body)
		}
		if i == 3 && x.Status != http.StatusTooManyRequests {
			t.Fatalf("valid request %d: HTTP %d, want 429", i, x.Status)
		}
	}
	if x := e.redirect(other, e.newRequest(sp, "_valid-other-0"), "", nil); !toLogin(x) {
		t.Fatalf("the other client's request: HTTP %d %s", x.Status, x.Body)
	}
	if x := e.redirect(other, e.newRequest(sp, "_valid-other-1"), "", nil); x.Status != http.StatusServiceUnavailable {
		t.Fatalf("HTTP %d %s, want 503 once 4 valid requests are pending", x.Status, x.Body)
	}
	if n := e.pendingSlots(); n != 4 {
		t.Fatalf("%d slots of MaxPending taken, want the 4 valid requests'", n)
	}
}

// pendingSlots is how many slots of MaxPending the IdP's limiter holds.
func (e *ssoEnv) pendingSlots() int {
	l := e.h.limiter()
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.live)
}

// clientFrom is a client without a card that connects from the loopback
// address ip, so that the IdP sees another client.
func (e *ssoEnv) clientFrom(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.rootCAs, ServerName: "localhost", MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestAuthnLimiterClients: the buckets kept stay bounded by MaxClients,
// idle (full) ones going first, and a bucket refills with time.
func TestAuthnLimiterClients(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newAuthnLimiter(AuthnLimits{ClientBurst: 2, ClientRate: 1, MaxPending: 1000, MaxClients: 3}, time.Minute)
	for i := range 10 {
		must(t, l.admit(fmt.Sprintf("10.0.0.%d", i), now))
	}
	if len(l.clients) > 3 {
		t.Fatalf("%d buckets kept, want at most 3", len(l.clients))
	}
	must(t, l.admit("a", now))
	must(t, l.admit("a", now))
	wantErr(t, l.admit("a", now), ErrTooManyRequests)
	must(t, l.admit("a", now.Add(time.Second)))
	if n := len(l.live); n != 13 {
		t.Fatalf("%d admitted requests counted, want 13", n)
	}
	if l.expire(now.Add(time.Minute + time.Second)); len(l.live) != 0 {
		t.Fatalf("%d requests still counted after their lifetime", len(l.live))
	}
}

// TestClientKey: an IPv6 client is its /64, an IPv4 one its address.
func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{"192.0.2.7:443": "192.0.2.7", "[2001:db8:1:2:3::4]:443": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:1": "192.0.2.7"} {
		if got := clientKey(&http.Request{RemoteAddr: addr}); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}
