//go:build cgo

package card_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// recordingSigner notes the options crypto/tls asked the card for.
type recordingSigner struct {
	*piv.Signer
	opts []crypto.SignerOpts
}

func (s *recordingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	s.opts = append(s.opts, o)
	return s.Signer.Sign(r, d, o)
}

// tlsServer accepts one handshake at a time on loopback, requiring a client
// certificate that chains to the test CA, and reports the peer chain.
func tlsServer(t *testing.T, version uint16) (string, <-chan []*x509.Certificate) {
	t.Helper()
	p := pki.MustGet()
	pool := x509.NewCertPool()
	pool.AddCert(p.CA.Cert)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{p.P256.Cert.Raw}, PrivateKey: p.P256.Key}},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: pool,
		MinVersion: version, MaxVersion: version,
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	peers := make(chan []*x509.Certificate, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			if tc.Handshake() == nil {
				peers <- tc.ConnectionState().PeerCertificates
				tc.Write([]byte("ok"))
			}
			tc.Close()
		}
	}()
	return l.Addr().String(), peers
}

func dialWithCard(addr string, version uint16, cert *x509.Certificate, s crypto.Signer) error {
	roots := x509.NewCertPool()
	roots.AddCert(pki.MustGet().CA.Cert)
	cfg := &tls.Config{
		RootCAs: roots, ServerName: "localhost", MinVersion: version, MaxVersion: version,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: s}, nil
		},
	}
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 2)
	_, err = io.ReadFull(c, buf)
	return err
}

// TestMutualTLSWithCard completes TLS 1.2 and 1.3 client authentication
// with RSA and ECC cards through PC/SC. The card's APDU log must show one
// GENERAL AUTHENTICATE per handshake, and the card file (which holds the
// key) must not be opened while the client works.
func TestMutualTLSWithCard(t *testing.T) {
	for _, id := range []*pki.Identity{pki.MustGet().RSA, pki.MustGet().P256} {
		path := newCardFile(t, id)
		r := insert(t, 0, path, virtual.Options{})
		watch := watchOpens(t, filepath.Dir(path))
		s := &recordingSigner{Signer: r.login(t)}
		cert, err := r.client.Certificate()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			name := fmt.Sprintf("ok/%s-tls1%d", id.Name, v-tls.VersionTLS10+0)
			t.Run(name, func(t *testing.T) {
				addr, peers := tlsServer(t, v)
				before := r.card.Count(piv.InsGeneralAuth)
				if err := dialWithCard(addr, v, cert, s); err != nil {
					t.Fatalf("handshake: %v", err)
				}
				if got := (<-peers)[0]; !got.Equal(id.Cert) {
					t.Fatal("the server saw another client certificate")
				}
				if n := r.card.Count(piv.InsGeneralAuth) - before; n != 1 {
					t.Fatalf("card log shows %d GENERAL AUTHENTICATE for one handshake, want 1", n)
				}
				checkTLS13PSS(t, v, s)
			})
		}
		for _, name := range watch() {
			if name == filepath.Base(path) {
				t.Fatalf("the card file %s was opened during the client's work", name)
			}
		}
		r.remove(t)
	}
}

func checkTLS13PSS(t *testing.T, v uint16, s *recordingSigner) {
	if _, ok := s.Public().(*rsa.PublicKey); !ok || v != tls.VersionTLS13 {
		return
	}
	pss, ok := s.opts[len(s.opts)-1].(*rsa.PSSOptions)
	if !ok || pss.SaltLength != rsa.PSSSaltLengthEqualsHash {
		t.Fatalf("TLS 1.3 asked for %#v, want PSS with salt length = hash length", s.opts[len(s.opts)-1])
	}
}

// watchOpens reports, when called, the names of files opened in dir since
// watchOpens was called (inotify IN_OPEN). It first proves itself by
// seeing its own probe.
func watchOpens(t *testing.T, dir string) func() []string {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_OPEN); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe")
	os.WriteFile(probe, nil, 0o600)
	if names := readEvents(fd); !bytes.Contains([]byte(fmt.Sprint(names)), []byte("probe")) {
		t.Fatalf("inotify missed the probe: %q", names)
	}
	return func() []string { return readEvents(fd) }
}

func readEvents(fd int) []string {
	var names []string
	buf := make([]byte, 64*1024)
	n, _ := syscall.Read(fd, buf)
	for off := 0; n > 0 && off+syscall.SizeofInotifyEvent <= n; {
		ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
		name := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
		names = append(names, string(bytes.TrimRight(name, "\x00")))
		off += syscall.SizeofInotifyEvent + int(ev.Len)
	}
	return names
}
