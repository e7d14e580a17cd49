package terminal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"time"

	"github.com/renkei-idwsf/renkei/wsc/sp"
)

// HTTPTransport is the Transport over HTTPS. ECP opens a fresh TLS
// connection for each login, whose client authentication the card
// performs (one signature on the card per login, never a resumed
// session); Post goes through Client, the institution's own.
type HTTPTransport struct {
	// RootCAs verify the IdP's server certificate.
	RootCAs *x509.CertPool
	// Client carries the other requests.
	Client *http.Client
	// Dial, when set, replaces the dialer of the card's connections.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// ECP posts r over a new TLS connection authenticated by c.
func (t *HTTPTransport) ECP(ctx context.Context, c Card, r *sp.SOAPRequest) ([]byte, error) {
	cert := &tls.Certificate{Certificate: [][]byte{c.Certificate.Raw}, PrivateKey: c.Key, Leaf: c.Certificate}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: t.RootCAs, MinVersion: tls.VersionTLS12,
			// The card signs the handshake: no session ticket may stand
			// in for it on a later login.
			ClientSessionCache: nil,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return cert, nil
			}},
		DisableKeepAlives:   true,
		TLSHandshakeTimeout: 10 * time.Second,
		DialContext:         t.Dial,
	}
	defer tr.CloseIdleConnections()
	return sp.PostSOAP(ctx, &http.Client{Transport: tr}, r)
}

// Post posts r with Client.
func (t *HTTPTransport) Post(ctx context.Context, r *sp.SOAPRequest) ([]byte, error) {
	return sp.PostSOAP(ctx, t.Client, r)
}
