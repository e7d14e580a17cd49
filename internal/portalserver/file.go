package portalserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/wsf"
)

// File is the JSON file renkei-portal reads. Optional fields are omitted
// when empty.
type File struct {
	// EntityID is the portal's: an SP and an ID-WSF WSC in the aggregate.
	// Its host must be BaseURL's: the Discovery Service returns citizens
	// from its consent page only to that host.
	EntityID string `json:"entityID"`
	// BaseURL is the public https origin of the pages; the SAML endpoints
	// are under it (/acs, /slo, /slo/soap, /metadata).
	BaseURL string `json:"baseURL"`
	// Listen is host:port; it defaults to loopback.
	Listen string `json:"listen"`
	// Admin, when set, is the loopback host:port of the admin listener
	// (plain HTTP): /metrics, /healthz, /readyz.
	Admin string `json:"admin,omitempty"`

	TLS KeyPair `json:"tls"`
	// Signing signs the AuthnRequests, the logout messages and every
	// ID-WSF request, and is the TLS client key towards the DS and the
	// WSPs (the key the holder-of-key tokens are bound to); Encryption
	// decrypts the assertions. Both as the aggregate lists them.
	Signing    KeyPair `json:"signing"`
	Encryption KeyPair `json:"encryption"`
	// TrustedRoots is a PEM file of the CAs the DS's and the WSPs' TLS
	// certificates are checked against; "" means the system's roots.
	TrustedRoots string `json:"trustedRoots,omitempty"`

	Metadata []MetadataSource `json:"metadata"`
	// Store keeps the AuthnRequests and logout requests under way and the
	// assertion IDs seen: a store/sqlstore DSN; "" is a SQLite file in the
	// working directory. The citizens' sessions live in the process: the
	// portal runs as one node.
	Store string `json:"store"`
	// IdP and DS are the entityIDs of the IdP the citizens log in at and
	// of the Discovery Service their bootstrap names.
	IdP string `json:"idp"`
	DS  string `json:"ds"`
	// Timeout bounds each institution's answer ("3s"); SessionLife a
	// portal session ("30m"). Empty means the defaults.
	Timeout     string `json:"timeout,omitempty"`
	SessionLife string `json:"sessionLife,omitempty"`
	// Mechanisms are asked of the DS, in order of preference; empty means
	// ClientTLS:SAMLV2.
	Mechanisms []string `json:"mechanisms,omitempty"`
	// Names are the portal's md:ServiceName by language ("ja", "en").
	Names map[string]string `json:"names,omitempty"`
	// MaxSessionsPerCitizen bounds one citizen's sessions at once (a new
	// login ends the oldest); 0 means 4.
	MaxSessionsPerCitizen int `json:"maxSessionsPerCitizen,omitempty"`
	// AuthnContexts are the authentication context classes a login may
	// have; empty means SmartcardPKI alone (a card login).
	AuthnContexts []string `json:"authnContexts,omitempty"`
}

// KeyPair names a PEM certificate and its PKCS#8 PEM key.
type KeyPair = rolekit.KeyPair

// MetadataSource is the operator's signed aggregate or a file the
// operator placed.
type MetadataSource = rolekit.MetadataSource

// Defaults of the file.
const (
	DefaultListen = "127.0.0.1:8447"
	DefaultStore  = "sqlite:renkei-portal.db"
)

// Read reads the file, unknown fields refused.
func Read(path string) (*File, error) {
	var c File
	if err := rolekit.Read(path, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Defaults fills the listen address and the store left empty.
func (c *File) Defaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Store == "" {
		c.Store = DefaultStore
	}
}

// Validate reports every problem of the file at once.
func (c *File) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	base, err := url.Parse(c.BaseURL)
	if err != nil || base.Scheme != "https" || base.Host == "" || base.RawQuery != "" || strings.Trim(base.Path, "/") != "" {
		add("baseURL %q is not an https origin", c.BaseURL)
		base = nil
	}
	if id, err := url.Parse(c.EntityID); err != nil || id.Scheme != "https" || id.Host == "" {
		add("entityID %q is not an https URL", c.EntityID)
	} else if base != nil && id.Hostname() != base.Hostname() {
		add("entityID %q is not on the host of baseURL %q: the DS would not send citizens back from its consent page", c.EntityID, c.BaseURL)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen %q: %v", c.Listen, err)
	}
	if err := rolekit.CheckAdmin(c.Admin); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, rolekit.CheckKeyPairs(map[string]KeyPair{"tls": c.TLS, "signing": c.Signing, "encryption": c.Encryption})...)
	errs = append(errs, rolekit.CheckMetadata(c.Metadata)...)
	if c.IdP == "" {
		add("idp (the IdP's entityID) is empty")
	}
	if c.DS == "" {
		add("ds (the Discovery Service's entityID) is empty")
	}
	for name, d := range map[string]string{"timeout": c.Timeout, "sessionLife": c.SessionLife} {
		if v, err := rolekit.ParseDuration(d); err != nil || v < 0 {
			add("%s %q: not a positive duration (%v)", name, d, err)
		}
	}
	if c.MaxSessionsPerCitizen < 0 {
		add("maxSessionsPerCitizen %d is negative", c.MaxSessionsPerCitizen)
	}
	for _, m := range c.Mechanisms {
		if _, ok := wsf.ParseMechanism(m); !ok {
			add("mechanisms: %q is not a mechanism Renkei implements", m)
		}
	}
	for lang := range c.Names {
		if lang != "ja" && lang != "en" {
			add("names: language %q is not ja or en", lang)
		}
	}
	return errors.Join(errs...)
}
