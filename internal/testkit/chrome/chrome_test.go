package chrome_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/renkei-idwsf/renkei/internal/testkit/chrome"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// idpHost is the name the test servers are reached by, mapped to their
// loopback listeners by the browser's host rules.
const idpHost = "idp.renkei.test"

// server is an HTTPS server on 127.0.0.1 that asks for a client
// certificate and records what each request came with.
type server struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []request
	errLog bytes.Buffer // the server's log: failed handshakes
}

// request is what one request came with.
type request struct {
	path  string
	chain []*x509.Certificate // the client's
	lang  string              // Accept-Language
}

func newServer(t *testing.T, auth tls.ClientAuthType) *server {
	t.Helper()
	p := pki.MustGet()
	id, err := p.CA.IssueHost("chrome-kit-idp", pki.P256, idpHost)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	pool := x509.NewCertPool()
	pool.AddCert(p.CA.Cert)
	s.srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key}},
		ClientAuth:   auth,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}
	s.srv.Config.ErrorLog = log.New(syncWriter{&s.mu, &s.errLog}, "", 0)
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// serve answers / with who signed in, /inaccessible with a page that
// fails WCAG level A.
func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.got = append(s.got, request{r.URL.Path, r.TLS.PeerCertificates, r.Header.Get("Accept-Language")})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.URL.Path == "/inaccessible" {
		fmt.Fprint(w, `<!DOCTYPE html><html><title>x</title><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">`)
		return
	}
	who := "nobody"
	if len(r.TLS.PeerCertificates) > 0 {
		who = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><title>My Portal</title><main><h1>Signed in</h1><p id="who">%s</p></main>`,
		html.EscapeString(who))
}

// requests returns the requests so far (the browser may have asked for
// /favicon.ico too) and the server's log.
func (s *server) requests() ([]request, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got), s.errLog.String()
}

// page returns the first request for path.
func (s *server) page(t *testing.T, path string) request {
	t.Helper()
	got, _ := s.requests()
	for _, r := range got {
		if r.path == path {
			return r
		}
	}
	t.Fatalf("no request for %s among %v", path, got)
	return request{}
}

func (r request) String() string {
	var cns []string
	for _, c := range r.chain {
		cns = append(cns, c.Subject.CommonName)
	}
	return r.path + " [" + strings.Join(cns, ", ") + "]"
}

func (s *server) rule() map[string]string {
	return map[string]string{idpHost: s.srv.Listener.Addr().String()}
}

type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// TestClientCertificate: a server that requires a client certificate from
// the test CA is sent, with no prompt, exactly the soft certificate the
// browser was given; a browser given none sends none, and the server's
// handshake fails; one not required gets none. The browsers run at once.
func TestClientCertificate(t *testing.T) {
	t.Run("ok/soft-certificate-sent-without-prompt", func(t *testing.T) {
		t.Parallel()
		citizen, err := pki.MustGet().CA.Issue("citizen-chrome-kit", pki.RSA2048)
		if err != nil {
			t.Fatal(err)
		}
		s := newServer(t, tls.RequireAndVerifyClientCert)
		b := chrome.Start(t, chrome.Options{ClientCert: citizen.Cert, ClientKey: citizen.Key, HostRules: s.rule(), Lang: "ja"})
		if st := b.Navigate("https://" + idpHost + "/"); st != http.StatusOK {
			t.Fatalf("HTTP %d", st)
		}
		got, _ := s.requests()
		for _, r := range got {
			if len(r.chain) != 1 || !r.chain[0].Equal(citizen.Cert) {
				t.Errorf("the server was sent %v, want the citizen's certificate alone", r)
			}
		}
		if r := s.page(t, "/"); r.lang != "ja" {
			t.Errorf("Accept-Language %q, want ja", r.lang)
		}
		if got := b.Text("#who"); got != citizen.Cert.Subject.CommonName {
			t.Errorf("the page shows %q", got)
		}
		if vs := b.Axe(); len(vs) != 0 {
			t.Errorf("axe-core: %v", vs)
		}
		png, err := os.ReadFile(b.Screenshot("signed-in"))
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("screenshot: %v, %d bytes", err, len(png))
		}
	})
	t.Run("fail/no-certificate-configured", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, tls.RequireAndVerifyClientCert)
		b := chrome.Start(t, chrome.Options{HostRules: s.rule()})
		_, err := b.NavigateErr("https://" + idpHost + "/")
		// Chromium's error depends on whether it reads the server's TLS 1.3
		// alert before the reset (ERR_BAD_SSL_CLIENT_AUTH_CERT or
		// ERR_SOCKET_NOT_CONNECTED): the server's log tells why.
		var le *chromedp.LoadError
		if !errors.As(err, &le) {
			t.Errorf("navigation: %v, want a page load error", err)
		} else {
			t.Logf("navigation: %v", err)
		}
		got, errs := s.requests()
		if len(got) != 0 {
			t.Errorf("the server served %v", got)
		}
		if !strings.Contains(errs, "didn't provide a certificate") {
			t.Errorf("the server's log does not show the missing certificate:\n%s", errs)
		}
	})
	t.Run("ok/none-sent-when-optional", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, tls.VerifyClientCertIfGiven)
		b := chrome.Start(t, chrome.Options{HostRules: s.rule()})
		if st := b.Navigate("https://" + idpHost + "/"); st != http.StatusOK {
			t.Fatalf("HTTP %d", st)
		}
		got, _ := s.requests()
		for _, r := range got {
			if len(r.chain) != 0 {
				t.Errorf("the server was sent %v, want no certificate", r)
			}
		}
		if r := s.page(t, "/"); r.lang != "en" {
			t.Errorf("Accept-Language %q, want en (the default)", r.lang)
		}
		// axe-core's result is not vacuous: a page that fails level A is
		// reported.
		b.Navigate("https://" + idpHost + "/inaccessible")
		ids := map[string]bool{}
		for _, v := range b.Axe() {
			ids[v.ID] = true
		}
		if !ids["image-alt"] || !ids["html-has-lang"] {
			t.Errorf("axe-core on a page without alt text or language reported %v", ids)
		}
	})
}

func TestHostRulesOnlyLoopback(t *testing.T) {
	for _, c := range []struct {
		name string
		to   string
	}{
		{"fail/public-address", "192.0.2.1:443"},
		{"fail/name", "example.com:443"},
		{"fail/no-port", "127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := chrome.HostRulesFlag(map[string]string{idpHost: c.to}); err == nil {
				t.Errorf("%s accepted", c.to)
			}
		})
	}
	got, err := chrome.HostRulesFlag(map[string]string{"b.renkei.test": "127.0.0.1:2", "a.renkei.test": "[::1]:1"})
	if want := "MAP a.renkei.test [::1]:1,MAP b.renkei.test 127.0.0.1:2"; err != nil || got != want {
		t.Errorf("got %q, %v, want %q", got, err, want)
	}
}
