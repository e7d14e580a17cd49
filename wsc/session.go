package wsc

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// Config configures the Sessions of one WSC (My Portal, a reception
// terminal). Time is a field: nil Now means time.Now.
type Config struct {
	// Client signs, sends and verifies every message; required. Its
	// Mechanisms decide which security context of an EPR it uses.
	Client *client.Client
	Now    func() time.Time
	// ResultsType is the resultsType of every disco:RequestedService;
	// "" means disco.ResultsAll.
	ResultsType disco.ResultsType
	// Mechanisms are sent as the RequestedServices' SecurityMechIDs, in
	// this order of preference, so the DS mints tokens for a mechanism
	// the client uses; nil asks for any.
	Mechanisms []wsf.Mechanism
	// MaxTokenAge bounds how long EPRs are cached when their tokens'
	// expiry cannot be read (an EncryptedAssertion, no token at all) and
	// the EPR states no notOnOrAfter; 0 means 10 minutes, the DS's default
	// token lifetime.
	MaxTokenAge time.Duration
	// Margin is taken off a token's expiry, so that a cached token is not
	// sent in its last seconds; 0 means 30 seconds.
	Margin time.Duration
	// Purpose is stated in an sb:UsageDirective on every call to a WSP
	// (wsf.PurposeDirective) unless the Call gives its own; "" states none.
	Purpose string
	// DiscoveryPurpose, when not empty, is stated in an sb:UsageDirective
	// on every disco:Query: the DS's reception-desk rule reads the purpose
	// of a terminal's Query there. "" states none.
	DiscoveryPurpose string
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("wsc: Client is required"))
	}
	if c.MaxTokenAge < 0 || c.Margin < 0 {
		errs = append(errs, errors.New("wsc: MaxTokenAge and Margin may not be negative"))
	}
	switch c.ResultsType {
	case "", disco.ResultsAll, disco.ResultsBest, disco.ResultsOnlyOne:
	default:
		errs = append(errs, fmt.Errorf("wsc: ResultsType %q", c.ResultsType))
	}
	return errors.Join(errs...)
}

// Session is one citizen's login at the WSC: the bootstrap EPR of the
// Discovery Service and the EPRs discovered with it, cached per service
// type until their tokens expire. It is safe for concurrent use.
type Session struct {
	cfg       Config
	bootstrap *wsf.EPR

	mu      sync.Mutex
	cache   map[string]*entry  // by service type
	flights map[string]*flight // DS queries under way, by service type
}

// entry is the cached answer of the DS for one service type.
type entry struct {
	eprs    []*wsf.EPR
	expires time.Time
}

// NewSession returns the Session of the login whose bootstrap EPR of the
// Discovery Service is bootstrap (BootstrapOf reads it from the SSO
// assertion).
func NewSession(cfg Config, bootstrap *wsf.EPR) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if bootstrap == nil || bootstrap.Metadata == nil || bootstrap.Metadata.ServiceType != wsf.ServiceTypeDisco {
		return nil, errors.New("wsc: the bootstrap is not an EPR of the Discovery Service")
	}
	return &Session{cfg: cfg, bootstrap: bootstrap, cache: map[string]*entry{}, flights: map[string]*flight{}}, nil
}

// ErrNoBootstrap reports an assertion without a Discovery Service EPR.
var ErrNoBootstrap = errors.New("wsc: the assertion carries no Discovery Service EPR")

// BootstrapOf returns the first EPR of the Discovery Service among those a
// verified SSO assertion carries in its DiscoveryEPR attribute
// (wsf.BootstrapEPRs), or ErrNoBootstrap.
func BootstrapOf(a *saml.Assertion) (*wsf.EPR, error) {
	eprs, err := wsf.BootstrapEPRs(a)
	if err != nil {
		return nil, err
	}
	for _, e := range eprs {
		if e.Metadata != nil && e.Metadata.ServiceType == wsf.ServiceTypeDisco {
			return e, nil
		}
	}
	return nil, ErrNoBootstrap
}

func (s *Session) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

func (s *Session) maxTokenAge() time.Duration {
	if s.cfg.MaxTokenAge > 0 {
		return s.cfg.MaxTokenAge
	}
	return 10 * time.Minute
}

func (s *Session) margin() time.Duration {
	if s.cfg.Margin > 0 {
		return s.cfg.Margin
	}
	return 30 * time.Second
}
