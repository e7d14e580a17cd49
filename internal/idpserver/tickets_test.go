package idpserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
)

const (
	ticketKeyA = "6b1a0c9e2f4d8a7b3c5e1f0a9d8c7b6a5f4e3d2c1b0a99887766554433221100"
	ticketKeyB = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
)

// TestTicketKeys: a browser's TLS session from one node resumes at
// another node that shares the ticket key file, not at a node with other
// keys, and never at the card-login listener, where every login must be a
// new signature by the card.
func TestTicketKeys(t *testing.T) {
	roots := x509.NewCertPool()
	a := ticketNode(t, roots, ticketKeyA)
	b := ticketNode(t, roots, ticketKeyB+"\n"+ticketKeyA+"\n")
	c := ticketNode(t, roots, ticketKeyB)
	// resumes is whether a new browser's second visit, at to, resumes the
	// TLS session of its first, at from.
	resumes := func(from, to *Server, listener string) bool {
		t.Helper()
		browser := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{
			RootCAs: roots, ServerName: "localhost", ClientSessionCache: tls.NewLRUClientSessionCache(8)}}}
		var resumed []bool
		for _, s := range []*Server{from, to} {
			path := map[string]string{Main: idp.PathMetadata, Card: idp.PathLogin}[listener]
			resp, err := browser.Get("https://" + s.Addr(listener).String() + path)
			must(t, err)
			resp.Body.Close()
			resumed = append(resumed, resp.TLS.DidResume)
		}
		if resumed[0] {
			t.Fatal("a first visit resumed a session")
		}
		return resumed[1]
	}
	if !resumes(a, a, Main) {
		t.Error("fail/not-resumed: node A did not resume its own session")
	}
	if !resumes(a, b, Main) {
		t.Error("fail/shared-key-not-resumed: node B, holding node A's key as an older one, did not resume A's session")
	}
	if resumes(a, c, Main) {
		t.Error("fail/foreign-key-resumed: node C resumed a session whose ticket only A's key opens")
	}
	if resumes(a, a, Card) {
		t.Error("fail/card-login-resumed: the card-login listener resumed a TLS session")
	}
}

// ticketNode is a started Server whose file names a ticket key file of
// keys (lines of hex); its RA's CA is added to roots.
func ticketNode(t *testing.T, roots *x509.CertPool, keys string) *Server {
	f, ca := testFile(t)
	f.TLSTicketKeys = filepath.Join(t.TempDir(), "tickets.key")
	must(t, os.WriteFile(f.TLSTicketKeys, []byte(keys), 0o600))
	s, err := Build(context.Background(), f, Options{MainListener: loopback(t), CardListener: loopback(t), Log: logkit.New(t, "idp")})
	must(t, err)
	must(t, s.Start(context.Background()))
	t.Cleanup(func() { s.Shutdown() })
	roots.AddCert(ca)
	return s
}

// TestTicketKeysRefused: a ticket key file that holds no usable key stops
// Build, naming the file's field and the line.
func TestTicketKeysRefused(t *testing.T) {
	for name, keys := range map[string]string{
		"fail/empty":     "\n\n",
		"fail/short":     ticketKeyA[:62],
		"fail/not-hex":   strings.Repeat("zz", 32),
		"fail/zero":      strings.Repeat("00", 32),
		"fail/too-many":  strings.Repeat(ticketKeyA+"\n", maxTicketKeys+1),
		"fail/no-file":   "",
		"fail/long-line": ticketKeyA + "00",
	} {
		t.Run(name, func(t *testing.T) {
			f, _ := testFile(t)
			f.TLSTicketKeys = filepath.Join(t.TempDir(), "tickets.key")
			if name != "fail/no-file" {
				must(t, os.WriteFile(f.TLSTicketKeys, []byte(keys), 0o600))
			}
			s, err := Build(context.Background(), f, Options{Store: "sqlite::memory:"})
			if err == nil {
				s.Shutdown()
				t.Fatal("Build accepted the ticket key file")
			}
			if !strings.Contains(err.Error(), "tlsTicketKeys") {
				t.Fatalf("the error does not name tlsTicketKeys: %v", err)
			}
		})
	}
}
