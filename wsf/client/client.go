// Package client is the sending side of the ID-WSF SOAP binding: it builds
// a request for an EPR (headers of IDWSF2 §2.2, the security mechanism the
// EPR offers and the client supports, IDWSF2 §3.5), signs and sends it,
// verifies the response like a receiver does (signature by the provider's
// metadata key, coverage, Timestamp, RelatesTo), follows EndpointUpdate,
// reports faults and RedirectRequest as typed errors, honours sb:Timeout
// and runs calls in parallel.
package client

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Validator is an XSD validator (xmlsec/xsd.Schema satisfies it).
type Validator = wsf.Validator

// Config configures a Client. Time, randomness and keys are fields: nil
// Now means time.Now, nil Rand crypto/rand.
type Config struct {
	// EntityID is this provider's entityID, sent as sb:Sender.
	EntityID string
	// Key and Certificate are this provider's metadata key: the
	// holder-of-key key of its tokens, its signing key and its TLS client
	// key (the HTTP client's TLS configuration must present Certificate).
	Key         crypto.Signer
	Certificate *x509.Certificate
	// Directory is the metadata aggregate: the keys responses are
	// verified with, and each peer's quirk profile.
	Directory wsf.Directory
	// HTTP sends the requests; required.
	HTTP *http.Client
	// Schema checks every response not exempted by its sender's profile;
	// required.
	Schema Validator
	// SkipOutgoingValidation turns off checking every request against
	// Schema before it is sent; checked, a request the schemas refuse is
	// an error wrapping wsf.ErrInvalidOutgoing and is never sent. The
	// check costs about a seventh of building and signing the request
	// (wsf/server BenchmarkValidateOutgoing).
	SkipOutgoingValidation bool
	// Mechanisms the client may use, in its order of preference; nil means
	// every implemented one except TLS:Bearer, which is used only when
	// listed here.
	Mechanisms []wsf.Mechanism
	// Limits bound the parse of responses.
	Limits xmlsec.Limits
	// Skew and MaxAge judge response Timestamps; 0 means 3 and 5 minutes.
	Skew, MaxAge time.Duration
	// MaxEndpointUpdates bounds how often one call follows EndpointUpdated;
	// 0 means 2.
	MaxEndpointUpdates int
	// Parallel bounds CallAll's concurrency; 0 means 4.
	Parallel int
	// Meter, when set, counts the requests signed and the responses
	// verified (metrics only).
	Meter wsf.Meter
	// Log, when set, gets a line per call made while serving a request
	// with a request ID: which ID its recipient sees (wsf.RecipientRequestID).
	Log  *slog.Logger
	Now  func() time.Time
	Rand io.Reader
}

// Validate reports every missing field at once.
func (c *Config) Validate() error {
	var errs []error
	if c.EntityID == "" {
		errs = append(errs, errors.New("EntityID is required"))
	}
	if c.Key == nil || c.Certificate == nil {
		errs = append(errs, errors.New("Key and Certificate are required"))
	}
	if c.Directory == nil {
		errs = append(errs, errors.New("Directory is required"))
	}
	if c.HTTP == nil {
		errs = append(errs, errors.New("HTTP is required"))
	}
	if c.Schema == nil {
		errs = append(errs, errors.New("Schema is required"))
	}
	return errors.Join(errs...)
}

// Client sends ID-WSF requests. It is safe for concurrent use.
type Client struct {
	cfg     Config
	checker secmech.Checker
	// ridKey is the client's own secret for the request ID each recipient
	// sees (wsf.RecipientRequestID), made by New from Rand.
	ridKey []byte
}

// New returns a Client, or every problem of cfg at once.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, ridKey: make([]byte, 32)}
	rnd := cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	if _, err := io.ReadFull(rnd, c.ridKey); err != nil {
		return nil, fmt.Errorf("wsf/client: request ID key: %w", err)
	}
	c.checker = secmech.Checker{MaxAge: orDuration(cfg.MaxAge, 5*time.Minute), Meter: cfg.Meter,
		Tokens: secmech.TokenChecker{Self: cfg.EntityID, Directory: cfg.Directory, Skew: orDuration(cfg.Skew, 3*time.Minute)}}
	return c, nil
}

func (c *Client) now() time.Time {
	if c.cfg.Now != nil {
		return c.cfg.Now()
	}
	return time.Now()
}

func (c *Client) mechanisms() []wsf.Mechanism {
	if len(c.cfg.Mechanisms) > 0 {
		return c.cfg.Mechanisms
	}
	return []wsf.Mechanism{wsf.ClientTLSSAMLV2, wsf.ClientTLSPeerSAMLV2, wsf.TLSSAMLV2, wsf.ClientTLSX509}
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func orInt(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
