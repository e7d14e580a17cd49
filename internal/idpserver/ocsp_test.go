package idpserver

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/idp"
	kitproc "github.com/renkei-idwsf/renkei/internal/testkit/proc"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/store"
)

// TestOCSPLogin: with ocsp configured, a card the RA revoked is refused at
// login while the CRL the IdP holds still lists it as good, and a good
// card logs in, asking the responder the card names. A responder that accepts connections and never answers,
// or refuses them, leaves the decision to the CRL within ocsp.timeout:
// the card logs in while the CRL in use says good, and is refused once
// the IdP reads the CRL that lists it.
func TestOCSPLogin(t *testing.T) {
	f, _ := testFile(t)
	a, err := ra.Open(ra.Config{Dir: filepath.Dir(f.CardCA)})
	must(t, err)
	responder := httptest.NewServer(raOCSP(a.Responder(0)))
	defer responder.Close()
	must(t, a.SetOCSPURL(responder.URL)) // the cards name it: the "ra" IdP configures no responder
	lost, kept := issueCard(t, a, "HIC-0001"), issueCard(t, a, "HIC-0002")
	if len(lost.OCSPServer) != 1 || lost.OCSPServer[0] != responder.URL {
		t.Fatalf("the card names OCSP responders %v", lost.OCSPServer)
	}

	var log kitproc.Output
	servers := map[string]*Server{
		"ra":      ocspServer(t, *f, "", &log, lost, kept),
		"silent":  ocspServer(t, *f, "http://"+silent(t), &log, lost, kept),
		"refused": ocspServer(t, *f, "http://"+refusing(t), &log, lost, kept),
	}
	must(t, a.Revoke("HIC-0001", 1)) // the RA rewrites the CRL file; the servers keep the one they read

	login := func(s *Server, cert *x509.Certificate) error {
		_, err := s.SSO.IdP().AuthenticateCertificate(context.Background(), []*x509.Certificate{cert}, time.Now())
		return err
	}
	if err := login(servers["ra"], lost); !errors.Is(err, idp.ErrCertRevoked) || !strings.Contains(err.Error(), "OCSP") {
		t.Errorf("fail/ocsp-revoked-crl-good: login = %v, want ErrCertRevoked by OCSP", err)
	}
	if err := login(servers["ra"], kept); err != nil {
		t.Errorf("ok/ocsp-good: login = %v", err)
	}
	for _, name := range []string{"silent", "refused"} {
		s := servers[name]
		if err := login(s, lost); err != nil {
			t.Errorf("ok/%s-responder-falls-back-to-crl: login = %v, want the CRL in use (good) to decide", name, err)
		}
		must(t, s.ReloadCRLs())
		if err := login(s, lost); !errors.Is(err, idp.ErrCertRevoked) {
			t.Errorf("fail/%s-responder-crl-revoked: login = %v, want ErrCertRevoked from the CRL", name, err)
		}
	}
	if n := strings.Count(log.String(), "falling back to the CRL"); n < 4 {
		t.Errorf("ok/fallback-logged: %d log lines say so, want 4:\n%s", n, log.String())
	}
}

// ocspServer builds an IdP over f (its own store) asking OCSP at url ("":
// the one the card names), with
// cards registered; it is never started, so it keeps the CRL it read.
func ocspServer(t *testing.T, f File, url string, log io.Writer, cards ...*x509.Certificate) *Server {
	t.Helper()
	f.OCSP = &OCSP{Responder: url, Timeout: "300ms"}
	f.Store = "sqlite:" + filepath.Join(t.TempDir(), "idp.db")
	must(t, f.Validate())
	s, err := Build(context.Background(), &f, Options{Log: slog.New(slog.NewTextHandler(log, nil))})
	must(t, err)
	t.Cleanup(func() { _ = s.Shutdown() })
	ctx := context.Background()
	must(t, s.Store.CreatePrincipal(ctx, store.Principal{ID: "p-1", Created: time.Now()}))
	for _, c := range cards {
		must(t, s.Store.IssueCard(ctx, store.Card{Number: c.Subject.SerialNumber, PrincipalID: "p-1", CertIssuer: c.Issuer.String(),
			CertSerial: c.SerialNumber.String(), Status: store.CardIssued, Issued: time.Now()}))
	}
	return s
}

func issueCard(t *testing.T, a *ra.Authority, number string) *x509.Certificate {
	t.Helper()
	key, err := ra.NewKey("p256", nil)
	must(t, err)
	cert, err := a.IssueCard(number, key.Public())
	must(t, err)
	return cert
}

// raOCSP serves the RA's responder over HTTP POST, as renkei-ra ocsp does.
func raOCSP(r *ra.Responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		der, _ := io.ReadAll(io.LimitReader(req.Body, 8<<10))
		resp, err := r.Respond(der)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		_, _ = w.Write(resp)
	})
}

// silent is a loopback address that accepts connections and never answers.
func silent(t *testing.T) string {
	ln := loopback(t)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// refusing is a loopback address nothing listens on any more.
func refusing(t *testing.T) string {
	ln := loopback(t)
	addr := ln.Addr().String()
	must(t, ln.Close())
	return addr
}

// TestOCSPValidate: a responder that is not an http(s) URL, a timeout that
// does not parse or would hold a login over a minute, and ocsp without a
// card CA are each reported.
func TestOCSPValidate(t *testing.T) {
	f, _ := testFile(t)
	f.OCSP = &OCSP{Responder: "ldap://ocsp.example.org", Timeout: "5m"}
	err := f.Validate()
	for _, want := range []string{"ocsp.responder", "ocsp.timeout 5m0s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("fail/%s: Validate = %v", want, err)
		}
	}
	f.OCSP = &OCSP{Timeout: "soon"}
	if err := f.Validate(); err == nil || !strings.Contains(err.Error(), "ocsp.timeout") {
		t.Errorf("fail/timeout-garbage: Validate = %v", err)
	}
	f.OCSP, f.CardCA, f.CardCRL, f.SoftCA = &OCSP{}, "", "", f.CardCA
	if err := f.Validate(); err == nil || !strings.Contains(err.Error(), "ocsp without cardCA") {
		t.Errorf("fail/ocsp-without-card-ca: Validate = %v", err)
	}
}
