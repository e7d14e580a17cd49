package terminal

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// DefaultTokenLife bounds how long a card login serves before a fresh
// card handshake renews it (ARCHITECTURE "Reception terminal").
const DefaultTokenLife = 120 * time.Second

// DefaultTimeout bounds each call to another party.
const DefaultTimeout = 5 * time.Second

// Card is the patient's card once its PIN is verified: the
// authentication certificate and the key whose private operation runs on
// the card (card/piv.Signer).
type Card struct {
	Certificate *x509.Certificate
	Key         crypto.Signer
}

// Transport carries the terminal's SAML requests over the SOAP binding:
// ECP to the IdP over a TLS connection whose client authentication the
// card performs, and the others (logout, enrolment) over the
// institution's own TLS client. Each returns the answer's body. The HTTP
// implementation is HTTPTransport.
type Transport interface {
	ECP(ctx context.Context, c Card, r *sp.SOAPRequest) ([]byte, error)
	Post(ctx context.Context, r *sp.SOAPRequest) ([]byte, error)
}

// Config is what a terminal runs on. SP, Transport, WSC.Client and DS are
// required.
type Config struct {
	// SP is the institution's SAML SP, with its ECPACSURL: the terminal
	// is the institution's reception desk, under the institution's
	// entityID (the one its WSP serves under), so that the enrolment's
	// NewID and associations are the institution's.
	SP        *sp.SP
	Transport Transport
	// WSC is the ID-WSF client configuration; Purpose and
	// DiscoveryPurpose are set per use.
	WSC wsc.Config
	// Self is the institution's entityID: its own services are not
	// "other hospitals".
	Self string
	// DS is the Discovery Service's EPR for SvcMDQuery as the
	// institution itself (ClientTLS:X509), used at enrolment; AsItself
	// the client that invokes so. Both nil disables enrolment.
	DS       *wsf.EPR
	AsItself *client.Client
	// Names gives an institution's display name (metadata); nil shows
	// the entityID.
	Names func(provider string) Name
	// TokenLife bounds a card login's use; 0 means DefaultTokenLife.
	TokenLife time.Duration
	// Timeout bounds each call; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	if c.SP == nil || c.Transport == nil || c.WSC.Client == nil || c.Self == "" {
		errs = append(errs, errors.New("terminal: SP, Transport, WSC.Client and Self are required"))
	}
	if (c.DS == nil) != (c.AsItself == nil) {
		errs = append(errs, errors.New("terminal: DS and AsItself go together"))
	}
	if c.TokenLife < 0 || c.TokenLife > 10*time.Minute || c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("terminal: TokenLife %v out of (0, 10m], Timeout %v", c.TokenLife, c.Timeout))
	}
	return errors.Join(errs...)
}

// Terminal is the reception terminal's engine: it turns a card into a
// Visit. It is safe for concurrent use.
type Terminal struct {
	cfg Config
}

// New returns the terminal of cfg.
func New(cfg Config) (*Terminal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TokenLife == 0 {
		cfg.TokenLife = DefaultTokenLife
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Terminal{cfg: cfg}, nil
}

// Name is an institution's name in Japanese and English.
type Name = wsc.Name

func (t *Terminal) name(provider string) Name {
	if t.cfg.Names != nil {
		if n := t.cfg.Names(provider); n.Ja != "" || n.En != "" {
			return n
		}
	}
	return Name{Ja: provider, En: provider}
}

// Login authenticates the card at the IdP by ECP (SAML Profiles §4.2):
// the institution's signed AuthnRequest, relayed over TLS whose client
// authentication the card performs, and the IdP's answer checked as the
// SP must. The Visit holds the patient's login and DS bootstrap; it ends
// at End, or by itself when TokenLife passes.
func (t *Terminal) Login(ctx context.Context, c Card) (*Visit, error) {
	start := t.cfg.Now()
	var spent time.Duration
	var mu sync.Mutex
	if c.Key != nil {
		c.Key = timedSigner{Signer: c.Key, now: t.cfg.Now, spent: &spent, mu: &mu}
	}
	l, err := t.ecp(ctx, c)
	if err != nil {
		return nil, err
	}
	v := &Visit{t: t}
	if err := v.open(l); err != nil {
		return nil, err
	}
	mu.Lock()
	v.timing = Timing{Card: spent, ECP: t.cfg.Now().Sub(start) - spent}
	mu.Unlock()
	return v, nil
}

// ecp runs one ECP exchange with the card.
func (t *Terminal) ecp(ctx context.Context, c Card) (*sp.Login, error) {
	if c.Certificate == nil || c.Key == nil {
		return nil, errors.New("terminal: no card")
	}
	req, err := t.cfg.SP.StartECP(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	answer, err := t.cfg.Transport.ECP(ctx, c, req)
	if err != nil {
		return nil, &HopError{Hop: HopIdP, Err: err}
	}
	l, err := t.cfg.SP.ConsumeECP(ctx, bytes.NewReader(answer), req.ID)
	if err != nil {
		return nil, err
	}
	if l.Bootstrap == nil {
		return nil, wsc.ErrNoBootstrap
	}
	return l, nil
}

// session opens a WSC session of the login for purpose: it states the
// purpose on its disco:Query (the reception-desk rule) and on its calls.
func (t *Terminal) session(l *sp.Login, purpose string) (*wsc.Session, error) {
	c := t.cfg.WSC
	c.Purpose, c.DiscoveryPurpose = purpose, purpose
	if c.Now == nil {
		c.Now = t.cfg.Now
	}
	c.ResultsType = disco.ResultsAll
	return wsc.NewSession(c, l.Bootstrap)
}

// Hop names the party a failure came from, for the staff's words.
type Hop string

// The parties a visit talks to.
const (
	HopIdP Hop = "idp"
	HopDS  Hop = "ds"
)

// HopError is a failure to reach a party (network, timeout).
type HopError struct {
	Hop Hop
	Err error
}

func (e *HopError) Error() string { return "terminal: " + string(e.Hop) + ": " + e.Err.Error() }
func (e *HopError) Unwrap() error { return e.Err }
