// Package ocspcheck asks a card issuer's OCSP responder (RFC 6960) whether
// a card certificate is revoked, for card/trust. Each request is bounded
// in time, and each verified answer is kept until its nextUpdate, at most
// MaxAge after its thisUpdate, so a login costs a round trip only when no
// current answer is at hand. The caller falls back to the CRL on any error
// this package returns.
package ocspcheck

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/renkei-idwsf/renkei/card/trust"
)

// DefaultTimeout bounds one OCSP request when Client.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// DefaultMaxAge is the oldest thisUpdate accepted, and the longest an
// answer is cached, when Client.MaxAge is zero.
const DefaultMaxAge = time.Hour

// maxResponse bounds the answer read from a responder.
const maxResponse = 64 << 10

// maxCached bounds the cache; past it the cache starts again empty.
const maxCached = 10000

// skew is the clock difference tolerated on an answer's thisUpdate.
const skew = 5 * time.Minute

// Errors of CheckOCSP; match them with errors.Is.
var (
	ErrNoResponder = errors.New("ocspcheck: no OCSP responder: none configured and the certificate names none")
	ErrResponder   = errors.New("ocspcheck: OCSP responder failed")
	ErrBadAnswer   = errors.New("ocspcheck: OCSP answer refused")
)

// Client asks OCSP responders over HTTP POST (RFC 6960 Appendix A.1).
type Client struct {
	// Responder is the responder's URL; "" takes the first OCSP URL of
	// the certificate's Authority Information Access.
	Responder string
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxAge bounds how old an answer may be: one whose thisUpdate is
	// older is refused, and none is cached past thisUpdate+MaxAge, however
	// late its nextUpdate (RFC 6960 §4.2.2.1, §3.2 item 5: the client
	// decides what is recent enough); 0 means DefaultMaxAge.
	MaxAge time.Duration
	// HTTP is the transport; nil means a plain http.Client.
	HTTP *http.Client
	// Log receives a line for every check that falls back to the CRL;
	// nil means slog.Default().
	Log *slog.Logger

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	status trust.OCSPStatus
	expiry time.Time
}

var _ trust.OCSPChecker = (*Client)(nil)

// CheckOCSP returns the status of cert from a cached answer current at
// now, or from a new answer of the responder, verified as signed by
// issuer or by a responder certificate issuer delegated, which must carry
// id-kp-OCSPSigning and be valid at now (RFC 6960 §4.2.2.2), naming cert's
// serial, with thisUpdate not after now nor more than MaxAge before it,
// and nextUpdate, if any, not before now (RFC 6960 §3.2).
func (c *Client) CheckOCSP(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) (trust.OCSPStatus, error) {
	key := string(issuer.RawSubjectPublicKeyInfo) + "\x00" + cert.SerialNumber.String()
	if st, ok := c.lookup(key, now); ok {
		return st, nil
	}
	resp, err := c.ask(ctx, cert, issuer, now)
	if err != nil {
		c.log().Warn("OCSP check failed, falling back to the CRL", slog.String("serial", cert.SerialNumber.String()),
			slog.String("error", err.Error()))
		return trust.OCSPUnknown, err
	}
	st := status(resp.Status)
	c.store(key, st, c.expiry(resp), now)
	return st, nil
}

func (c *Client) ask(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) (*ocsp.Response, error) {
	url := c.Responder
	if url == "" && len(cert.OCSPServer) > 0 {
		url = cert.OCSPServer[0]
	}
	if url == "" {
		return nil, ErrNoResponder
	}
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: request: %v", ErrResponder, err)
	}
	der, err := c.post(ctx, url, req)
	if err != nil {
		return nil, err
	}
	return check(der, cert, issuer, now, c.maxAge())
}

// post sends the request and reads the answer, both within Timeout.
func (c *Client) post(ctx context.Context, url string, req []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrResponder, err)
	}
	hr.Header.Set("Content-Type", "application/ocsp-request")
	resp, err := c.client().Do(hr)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrResponder, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered HTTP %d", ErrResponder, url, resp.StatusCode)
	}
	der, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %s: %v", ErrResponder, url, err)
	case len(der) > maxResponse:
		return nil, fmt.Errorf("%w: %s: answer larger than %d bytes", ErrBadAnswer, url, maxResponse)
	}
	return der, nil
}

// check parses and verifies an answer about cert, refusing one whose
// thisUpdate is more than maxAge before now (RFC 6960 §3.2 item 5).
func check(der []byte, cert, issuer *x509.Certificate, now time.Time, maxAge time.Duration) (*ocsp.Response, error) {
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadAnswer, err)
	}
	if err := checkResponder(resp.Certificate, issuer, now); err != nil {
		return nil, err
	}
	switch {
	case resp.ThisUpdate.After(now.Add(skew)):
		return nil, fmt.Errorf("%w: thisUpdate %s is in the future", ErrBadAnswer, resp.ThisUpdate.UTC().Format(time.RFC3339))
	case !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate):
		return nil, fmt.Errorf("%w: nextUpdate %s has passed", ErrBadAnswer, resp.NextUpdate.UTC().Format(time.RFC3339))
	case now.Sub(resp.ThisUpdate) > maxAge:
		return nil, fmt.Errorf("%w: thisUpdate %s is older than %s", ErrBadAnswer, resp.ThisUpdate.UTC().Format(time.RFC3339), maxAge)
	}
	return resp, nil
}

// checkResponder checks the certificate an answer was signed with, when
// it is not the issuer itself. x/crypto/ocsp only checks that the issuer
// signed it, which every card certificate satisfies; RFC 6960 §4.2.2.2
// requires a delegated responder's certificate to carry id-kp-OCSPSigning
// in its extKeyUsage, and RFC 6960 §4.2.2.2 with RFC 5280 §4.1.2.5 that it
// be within its validity period at now. Its own revocation status is not
// checked: RFC 6960 §4.2.2.2.1 lets the CA mark it id-pkix-ocsp-nocheck.
func checkResponder(signer, issuer *x509.Certificate, now time.Time) error {
	if signer == nil || bytes.Equal(signer.Raw, issuer.Raw) {
		return nil // signed by the issuer (RFC 6960 §4.2.2.2, the CA as responder)
	}
	ocspSigning := false
	for _, u := range signer.ExtKeyUsage {
		ocspSigning = ocspSigning || u == x509.ExtKeyUsageOCSPSigning
	}
	switch {
	case !ocspSigning:
		return fmt.Errorf("%w: responder certificate %q (serial %s) lacks id-kp-OCSPSigning (RFC 6960 §4.2.2.2)",
			ErrBadAnswer, signer.Subject, signer.SerialNumber)
	case now.Before(signer.NotBefore):
		return fmt.Errorf("%w: responder certificate %q not valid before %s", ErrBadAnswer, signer.Subject,
			signer.NotBefore.UTC().Format(time.RFC3339))
	case now.After(signer.NotAfter):
		return fmt.Errorf("%w: responder certificate %q expired %s", ErrBadAnswer, signer.Subject,
			signer.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

func status(s int) trust.OCSPStatus {
	switch s {
	case ocsp.Good:
		return trust.OCSPGood
	case ocsp.Revoked:
		return trust.OCSPRevoked
	}
	return trust.OCSPUnknown
}

// lookup returns a cached status still current at now.
func (c *Client) lookup(key string, now time.Time) (trust.OCSPStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[key]
	if !ok || !now.Before(e.expiry) {
		return trust.OCSPUnknown, false
	}
	return e.status, true
}

// expiry is when a cached answer stops being used: its nextUpdate, but
// no later than thisUpdate+MaxAge; zero for an answer without nextUpdate,
// which is not kept (RFC 6960 §4.2.2.1: newer information is always
// available).
func (c *Client) expiry(resp *ocsp.Response) time.Time {
	if resp.NextUpdate.IsZero() {
		return time.Time{}
	}
	if limit := resp.ThisUpdate.Add(c.maxAge()); limit.Before(resp.NextUpdate) {
		return limit
	}
	return resp.NextUpdate
}

// store keeps an answer until its expiry; a zero expiry is not kept.
func (c *Client) store(key string, st trust.OCSPStatus, expiry, now time.Time) {
	if expiry.IsZero() || !now.Before(expiry) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil || len(c.cache) >= maxCached {
		c.cache = map[string]cached{}
	}
	c.cache[key] = cached{status: st, expiry: expiry}
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) maxAge() time.Duration {
	if c.MaxAge > 0 {
		return c.MaxAge
	}
	return DefaultMaxAge
}

func (c *Client) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}
