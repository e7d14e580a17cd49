package browser_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/vcard"
	"github.com/renkei-idwsf/renkei/internal/vpcd"
)

// slot is this package's reader entry, leased once: pcscd starts once.
var slot *vpcd.Slot

func TestMain(m *testing.M) {
	s, err := vpcd.Acquire()
	if err != nil {
		fmt.Fprintf(os.Stderr, "browser tests hold the virtual card through pcscd + vpcd: %v\n", err)
		os.Exit(1)
	}
	slot = s
	code := m.Run()
	if err := s.Release(); err != nil {
		fmt.Fprintf(os.Stderr, "release pcscd: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

// flowServer is a loopback TLS server that requests a client certificate
// and plays a SAML-shaped flow: /start sets a cookie and redirects (302) to
// /next, which redirects (303) to /form, a POST-binding page whose form
// goes to /acs; /acs answers with the client certificate's subject if the
// cookie and the form values came along. onNext runs inside /next.
func flowServer(t *testing.T, onNext func()) *httptest.Server {
	t.Helper()
	p := pki.MustGet()
	pool := x509.NewCertPool()
	pool.AddCert(p.CA.Cert)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s1", Path: "/"})
		http.Redirect(w, r, "/next?step=2", http.StatusFound)
	})
	mux.HandleFunc("GET /next", func(w http.ResponseWriter, r *http.Request) {
		if onNext != nil {
			onNext()
		}
		http.Redirect(w, r, "/form", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, postPage)
	})
	mux.HandleFunc("POST /acs", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("sid")
		if err != nil || c.Value != "s1" || r.PostFormValue("SAMLResponse") != "PHNhbWw+" ||
			r.PostFormValue("RelayState") != `rs<&>"` || r.PostFormValue("go") != "" {
			http.Error(w, "missing cookie or form values", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "welcome %s", r.TLS.PeerCertificates[0].Subject.CommonName)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{p.P256.Cert.Raw}, PrivateKey: p.P256.Key}},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: pool,
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// postPage is an HTTP-POST binding page as our IdP and Lasso write them:
// escaped attribute values, a noscript button, a script that submits.
const postPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>SAML POST</title>
<script>var s = "<form action='/evil'><input name=SAMLResponse value=x>";</script></head>
<body onload="document.forms[0].submit()">
<!-- <form action="/commented"><input name="SAMLResponse" value="no"></form> -->
<form method="post" action="/acs">
<input type="hidden" name="SAMLResponse" value="PHNhbWw+">
<input type=hidden name='RelayState' value="rs&lt;&amp;&gt;&#34;">
<noscript><input type="submit" name="go" value="Continue"></noscript>
</form></body></html>`

func newBrowser(t *testing.T, c *vcard.Card, noKeepAlive bool) *browser.Browser {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(pki.MustGet().CA.Cert)
	b, err := browser.New(browser.Config{RootCAs: pool, ServerName: "localhost",
		Certificate: []*x509.Certificate{c.Cert}, Key: c.Signer, NoKeepAlive: noKeepAlive})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestCardFlow: holding the virtual card through pcscd, the browser
// completes mutual TLS, keeps the cookie, follows 302 and 303, and
// auto-posts the POST-binding form; with keep-alive off every hop is a
// fresh handshake, which the card's APDU log shows as one GENERAL
// AUTHENTICATE per hop.
func TestCardFlow(t *testing.T) {
	for _, tc := range []struct {
		name        string
		id          *pki.Identity
		noKeepAlive bool
		wantSigs    int
	}{
		{"ok/rsa-keepalive", pki.MustGet().RSA, false, 1},
		{"ok/p256-fresh-handshakes", pki.MustGet().P256, true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := vcard.Insert(t, slot, 0, tc.id, vcard.Options{})
			srv := flowServer(t, nil)
			b := newBrowser(t, c, tc.noKeepAlive)
			before := c.Virtual.Count(piv.InsGeneralAuth)
			page, err := b.Get(ctx(t), srv.URL+"/start")
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if page.Status != 200 || string(page.Body) != "welcome "+tc.id.Cert.Subject.CommonName {
				t.Fatalf("ended at %s %d %q\n%s", page.URL, page.Status, page.Body, b)
			}
			checkHops(t, b, srv.URL)
			if n := c.Virtual.Count(piv.InsGeneralAuth) - before; n != tc.wantSigs {
				t.Fatalf("the card signed %d handshakes, want %d", n, tc.wantSigs)
			}
			if err := c.Remove(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func checkHops(t *testing.T, b *browser.Browser, base string) {
	t.Helper()
	want := []browser.Hop{
		{Method: "GET", URL: base + "/start", Status: 302, Location: base + "/next?step=2"},
		{Method: "GET", URL: base + "/next?step=2", Status: 303, Location: base + "/form"},
		{Method: "GET", URL: base + "/form", Status: 200},
		{Method: "POST", URL: base + "/acs", Status: 200, Auto: true},
	}
	got := b.Hops()
	if len(got) != len(want) {
		t.Fatalf("hops:\n%s", b)
	}
	for i, h := range got {
		if h.Method != want[i].Method || h.URL != want[i].URL || h.Status != want[i].Status ||
			h.Location != want[i].Location || h.Auto != want[i].Auto {
			t.Fatalf("hop %d = %+v, want %+v\n%s", i, h, want[i], b)
		}
	}
	if f := got[3].Form; f.Get("SAMLResponse") != "PHNhbWw+" || f.Get("RelayState") != `rs<&>"` || f.Has("go") {
		t.Fatalf("posted form %v", f)
	}
}

// TestCardRemovedMidFlow: the card is pulled while the server handles the
// second hop; the next handshake cannot be signed and the browser says so
// with a *KeyError naming the URL, not a bare TLS alert.
func TestCardRemovedMidFlow(t *testing.T) {
	c := vcard.Insert(t, slot, 0, pki.MustGet().RSA, vcard.Options{})
	pulled := make(chan error, 1)
	srv := flowServer(t, func() { pulled <- c.Pull() })
	b := newBrowser(t, c, true)
	page, err := b.Get(ctx(t), srv.URL+"/start")
	if perr := <-pulled; perr != nil {
		t.Fatal(perr)
	}
	var kerr *browser.KeyError
	if !errors.As(err, &kerr) {
		t.Fatalf("fail/card-removed: got page %v, error %v (%T), want *KeyError\n%s", page, err, err, b)
	}
	if kerr.URL != srv.URL+"/form" || !strings.Contains(err.Error(), "card removed") {
		t.Fatalf("fail/card-removed: %v", err)
	}
	if h := b.Hops(); len(h) != 3 || h[2].Status != 0 || h[2].Err != err.Error() {
		t.Fatalf("fail/card-removed: want 2 hops and the failed one recorded:\n%s", b)
	}
	t.Logf("the browser reports: %v", err)
}

// TestNoCertificate: without a client certificate the server's handshake
// fails; the browser reports the TLS error and no KeyError.
func TestNoCertificate(t *testing.T) {
	srv := flowServer(t, nil)
	pool := x509.NewCertPool()
	pool.AddCert(pki.MustGet().CA.Cert)
	b, err := browser.New(browser.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Get(ctx(t), srv.URL+"/start")
	var kerr *browser.KeyError
	if err == nil || errors.As(err, &kerr) {
		t.Fatalf("fail/no-certificate: %v", err)
	}
}
