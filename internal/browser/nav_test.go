package browser_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// plainServer is a loopback TLS server without client authentication.
func plainServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	p := pki.MustGet()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{p.RSA.Cert.Raw}, PrivateKey: p.RSA.Key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func plainBrowser(t *testing.T, maxHops int) *browser.Browser {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(pki.MustGet().CA.Cert)
	b, err := browser.New(browser.Config{RootCAs: pool, ServerName: "localhost", MaxHops: maxHops})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNavigation: 307 keeps the method and body (RFC 9110 §15.4.8), a
// redirect loop ends in ErrTooManyHops, a redirect without Location in
// ErrBadRedirect, and a form that is not SAML is left for the test.
func TestNavigation(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /307", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", r.Method, r.PostFormValue("k"))
	})
	mux.HandleFunc("GET /loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("GET /noloc", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusFound) })
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<form method="post" action="/echo"><input name="k" value="typed"></form>`)
	})
	srv := plainServer(t, mux)

	t.Run("ok/307-keeps-post", func(t *testing.T) {
		b := plainBrowser(t, 0)
		p, err := b.Post(ctx(t), srv.URL+"/307", url.Values{"k": {"v"}})
		if err != nil || string(p.Body) != "POST v" || len(b.Hops()) != 2 {
			t.Fatalf("%v %q\n%s", err, p.Body, b)
		}
	})
	t.Run("ok/plain-form-not-submitted", func(t *testing.T) {
		b := plainBrowser(t, 0)
		p, err := b.Get(ctx(t), srv.URL+"/login")
		if err != nil || len(b.Hops()) != 1 {
			t.Fatalf("%v\n%s", err, b)
		}
		forms, err := browser.ParseForms(p.Body, p.URL)
		if err != nil || len(forms) != 1 {
			t.Fatal(err)
		}
		if p, err = b.Submit(ctx(t), forms[0]); err != nil || string(p.Body) != "POST typed" {
			t.Fatalf("%v %q", err, p.Body)
		}
	})
	t.Run("fail/redirect-loop", func(t *testing.T) {
		b := plainBrowser(t, 5)
		if _, err := b.Get(ctx(t), srv.URL+"/loop"); !errors.Is(err, browser.ErrTooManyHops) || len(b.Hops()) != 5 {
			t.Fatalf("%v\n%s", err, b)
		}
	})
	t.Run("fail/redirect-without-location", func(t *testing.T) {
		b := plainBrowser(t, 0)
		if _, err := b.Get(ctx(t), srv.URL+"/noloc"); !errors.Is(err, browser.ErrBadRedirect) || b.Hops()[0].Status != 302 {
			t.Fatalf("%v\n%s", err, b)
		}
	})
	t.Run("fail/untrusted-server", func(t *testing.T) {
		b, err := browser.New(browser.Config{RootCAs: x509.NewCertPool(), ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		var uerr x509.UnknownAuthorityError
		if _, err := b.Get(ctx(t), srv.URL+"/login"); !errors.As(err, &uerr) {
			t.Fatalf("got %v", err)
		}
	})
}
