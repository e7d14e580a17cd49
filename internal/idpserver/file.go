package idpserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
)

// File is the JSON file renkei-idp reads. Optional fields are omitted
// when empty, so a written file holds only what was set.
type File struct {
	EntityID string `json:"entityID"`
	// BaseURL is the main listener's public URL (metadata, /sso);
	// CardBaseURL the card-login listener's (/login, /ecp).
	BaseURL     string `json:"baseURL"`
	CardBaseURL string `json:"cardBaseURL"`
	// Listen and CardListen are host:port; both default to loopback.
	Listen     string `json:"listen"`
	CardListen string `json:"cardListen"`
	// Admin, when set, is the loopback host:port of the admin listener
	// (plain HTTP): /metrics, /healthz, /readyz.
	Admin string `json:"admin,omitempty"`

	TLS     KeyPair `json:"tls"`
	CardTLS KeyPair `json:"cardTLS"`
	// TLSTicketKeys is a file of TLS session ticket keys (tickets.go) that
	// every node of the IdP shares, so that a browser resumes its TLS
	// session at whichever node it reaches; "" keeps Go's keys, which are
	// this process's own.
	TLSTicketKeys string `json:"tlsTicketKeys,omitempty"`
	// Signing signs assertions and metadata; RolloverCert is the next
	// signing certificate, published but not yet used.
	Signing      KeyPair `json:"signing"`
	RolloverCert string  `json:"rolloverCert,omitempty"`
	Encryption   KeyPair `json:"encryption"`

	// CardCA and CardCRL are the card-issuer CA and its CRL; both may be
	// left out where only soft certificates (SoftCA) log in.
	CardCA  string `json:"cardCA,omitempty"`
	CardCRL string `json:"cardCRL,omitempty"`
	SoftCA  string `json:"softCA,omitempty"`
	SoftCRL string `json:"softCRL,omitempty"`
	// OCSP, when set, has card certificates checked with the card
	// issuer's OCSP responder before the CRL, which is still the fallback.
	OCSP *OCSP `json:"ocsp,omitempty"`
	// TrustedRoots is a PEM file of the CAs the SPs' TLS certificates are
	// checked against when the IdP calls them over SOAP (back-channel
	// logout, ManageNameID); "" means the system's roots.
	TrustedRoots string `json:"trustedRoots,omitempty"`

	Metadata []MetadataSource `json:"metadata"`
	// Store is a store/sqlstore DSN; "" is a SQLite file in the working
	// directory.
	Store     string        `json:"store"`
	Discovery *DiscoveryRef `json:"discovery,omitempty"`

	WantAuthnRequestsSigned bool                `json:"wantAuthnRequestsSigned"`
	Lifetimes               Lifetimes           `json:"lifetimes"`
	CookieDomain            string              `json:"cookieDomain,omitempty"`
	Quirks                  map[string]SPQuirks `json:"quirks,omitempty"`
	IdPInitiated            []string            `json:"idpInitiated,omitempty"`
	// AuthnLimits bound the AuthnRequests that arrive without a session,
	// per client address and overall (idp.AuthnLimits); zero fields take
	// the defaults. A deployment behind a TCP balancer or NAT that hides
	// the clients' addresses raises clientBurst and clientRate.
	AuthnLimits AuthnLimits `json:"authnLimits,omitempty"`

	// Attributes is the operator's JSON file of the principals' attributes
	// (idp.ReadAttributeFile), kept apart from the store; Release lists,
	// per SP entityID, the attribute names (idp.AttributeOID) it receives in
	// assertions and to its AttributeQuery. An SP not listed receives
	// none. With a file, the AttributeService is served.
	Attributes string              `json:"attributes,omitempty"`
	Release    map[string][]string `json:"release,omitempty"`
	// NameIDMapping lists, per requester entityID, the providers whose
	// NameID for the principal it may obtain, encrypted for them; with any
	// entry the NameIDMappingService is served.
	NameIDMapping map[string][]string `json:"nameIDMapping,omitempty"`
	// CheckOutgoing schema-checks each assertion and SSO Response before
	// it leaves (idp.SSOConfig.CheckOutgoing, idp.Config.Schema). Off by
	// default: the IdP builds them from typed values and the tests check
	// every shape it sends; on, a login costs about a tenth more CPU.
	CheckOutgoing bool `json:"checkOutgoing,omitempty"`
}

// OCSP is where and how long the IdP asks about card certificates.
type OCSP struct {
	// Responder is the responder's http URL; "" takes the OCSP URL of the
	// card certificate's Authority Information Access.
	Responder string `json:"responder,omitempty"`
	// Timeout bounds each request (a Go duration); "" is 2s. A responder
	// that does not answer in time leaves the decision to the CRL.
	Timeout string `json:"timeout,omitempty"`
}

func (o *OCSP) validate() []error {
	if o == nil {
		return nil
	}
	var errs []error
	if o.Responder != "" {
		if u, err := url.Parse(o.Responder); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("ocsp.responder %q is not an http or https URL", o.Responder))
		}
	}
	if d, err := ParseDuration(o.Timeout); err != nil {
		errs = append(errs, fmt.Errorf("ocsp.timeout: %w", err))
	} else if d > time.Minute {
		errs = append(errs, fmt.Errorf("ocsp.timeout %s: a login waits that long; at most 1m", d))
	}
	return errs
}

// KeyPair names a PEM certificate and its PKCS#8 PEM key.
type KeyPair struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// MetadataSource is the operator's signed aggregate or an SP's own file
// placed by the operator (rolekit.MetadataSource).
type MetadataSource = rolekit.MetadataSource

// DiscoveryRef names the Discovery Service the bootstrap points to. Its
// SOAP endpoint and encryption key are read from the metadata (its
// urn:renkei:metadata:1.0 web service role, wsf/metadir) each time a
// token is minted; the file names no address or certificate of it.
type DiscoveryRef struct {
	EntityID string `json:"entityID"`
}

// Lifetimes are Go durations ("5m", "120s"); "" takes the default.
type Lifetimes struct {
	Assertion string `json:"assertion,omitempty"`
	Session   string `json:"session,omitempty"`
	Bootstrap string `json:"bootstrap,omitempty"`
	ECP       string `json:"ecp,omitempty"`
	// Enrol is how long after a certificate authentication at an SP its
	// ManageNameID NewID is accepted (idp.NIMConfig.EnrolWindow).
	Enrol string `json:"enrol,omitempty"`
	// Artifact is how long a Response sent by HTTP-Artifact waits for its
	// resolution (idp.ArtifactConfig.Lifetime).
	Artifact string `json:"artifact,omitempty"`
}

// SPQuirks are the per-SP interop settings (idp.SPQuirks).
type SPQuirks struct {
	AllowSHA1    bool `json:"allowSHA1"`
	SignResponse bool `json:"signResponse"`
	// AllowHTTPACS answers an http ACS of the SP, for test labs; the IdP
	// says so in its log at start.
	AllowHTTPACS bool `json:"allowHTTPACS,omitempty"`
}

// Defaults of the file.
const (
	DefaultListen     = "127.0.0.1:8443"
	DefaultCardListen = "127.0.0.1:9443"
	DefaultStore      = "sqlite:renkei-idp.db"
)

// Read reads the file, unknown fields refused, fills the defaults and
// validates it.
func Read(path string) (*File, error) {
	var c File
	if err := rolekit.Read(path, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Defaults fills the listen addresses and the store left empty.
func (c *File) Defaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.CardListen == "" {
		c.CardListen = DefaultCardListen
	}
	if c.Store == "" {
		c.Store = DefaultStore
	}
}

// Validate reports every problem of the file at once.
func (c *File) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if l := c.AuthnLimits; l.ClientBurst < 0 || l.ClientRate < 0 || l.MaxPending < 0 {
		add("authnLimits: negative values (%d, %g, %d); zero takes the default", l.ClientBurst, l.ClientRate, l.MaxPending)
	}
	if c.EntityID == "" {
		add("entityID is empty")
	}
	for name, u := range map[string]string{"baseURL": c.BaseURL, "cardBaseURL": c.CardBaseURL} {
		if p, err := url.Parse(u); err != nil || p.Scheme != "https" || p.Host == "" || p.RawQuery != "" {
			add("%s %q is not an https URL", name, u)
		}
	}
	for name, a := range map[string]string{"listen": c.Listen, "cardListen": c.CardListen} {
		if _, _, err := net.SplitHostPort(a); err != nil {
			add("%s %q: %v", name, a, err)
		}
	}
	if err := rolekit.CheckAdmin(c.Admin); err != nil {
		errs = append(errs, err)
	}
	for name, kp := range map[string]KeyPair{"tls": c.TLS, "cardTLS": c.CardTLS, "signing": c.Signing} {
		if kp.Cert == "" || kp.Key == "" {
			add("%s needs cert and key", name)
		}
	}
	if (c.Encryption.Cert == "") != (c.Encryption.Key == "") {
		add("encryption needs both cert and key, or neither")
	}
	switch {
	case c.CardCA == "" && c.CardCRL == "" && c.SoftCA == "":
		add("no cardCA and cardCRL, and no softCA: no certificate could log in")
	case (c.CardCA == "") != (c.CardCRL == ""):
		add("cardCA and cardCRL go together: a card cannot be checked without its revocation list")
	}
	if c.OCSP != nil && c.CardCA == "" {
		add("ocsp without cardCA: OCSP checks card certificates")
	}
	if c.SoftCRL != "" && c.SoftCA == "" {
		add("softCRL without softCA")
	}
	errs = append(errs, c.OCSP.validate()...)
	errs = append(errs, c.validateMetadata()...)
	errs = append(errs, c.Lifetimes.validate()...)
	errs = append(errs, c.validateRelease()...)
	if d := c.Discovery; d != nil && d.EntityID == "" {
		add("discovery needs entityID (its address and encryption key come from the metadata)")
	}
	return errors.Join(errs...)
}

// validateRelease checks the release policy and the mapping pairs.
func (c *File) validateRelease() []error {
	var errs []error
	if len(c.Release) > 0 && c.Attributes == "" {
		errs = append(errs, errors.New("release needs attributes, the file of the values it releases"))
	}
	for sp, names := range c.Release {
		for _, n := range names {
			if _, ok := idp.AttributeOID(n); !ok {
				errs = append(errs, fmt.Errorf("release[%q]: %q is not an attribute the IdP knows", sp, n))
			}
		}
	}
	for req, targets := range c.NameIDMapping {
		if slices.Contains(targets, req) {
			errs = append(errs, fmt.Errorf("nameIDMapping[%q] lists the requester itself", req))
		}
	}
	return errs
}

func (c *File) validateMetadata() []error {
	errs := rolekit.CheckMetadata(c.Metadata)
	if len(c.Metadata) == 0 {
		errs[0] = errors.New("metadata lists no source: no SP could be answered")
	}
	return errs
}

func (l Lifetimes) validate() []error {
	var errs []error
	for name, s := range map[string]string{"assertion": l.Assertion, "session": l.Session, "bootstrap": l.Bootstrap, "ecp": l.ECP, "enrol": l.Enrol, "artifact": l.Artifact} {
		if _, err := ParseDuration(s); err != nil {
			errs = append(errs, fmt.Errorf("lifetimes.%s: %w", name, err))
		}
	}
	return errs
}

// ParseDuration reads a lifetime; "" is zero (the default).
func ParseDuration(s string) (time.Duration, error) { return rolekit.ParseDuration(s) }

// AuthnLimits is idp.AuthnLimits in the file.
type AuthnLimits struct {
	ClientBurst int     `json:"clientBurst,omitempty"`
	ClientRate  float64 `json:"clientRate,omitempty"`
	MaxPending  int     `json:"maxPending,omitempty"`
}
