package dsserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/wsf"
)

// File is the JSON file renkei-ds reads. Optional fields are omitted when
// empty.
type File struct {
	EntityID string `json:"entityID"`
	// BaseURL is the listener's public URL: the SOAP endpoint is
	// BaseURL+PathSOAP, the consent page BaseURL+PathConsent.
	BaseURL string `json:"baseURL"`
	// Listen is host:port; it defaults to loopback.
	Listen string `json:"listen"`
	// Admin, when set, is the loopback host:port of the admin listener
	// (plain HTTP): /metrics, /healthz, /readyz.
	Admin string `json:"admin,omitempty"`

	TLS KeyPair `json:"tls"`
	// Signing signs the tokens and the responses; Encryption is the key
	// the IdP's DS tokens are encrypted for. Both must be the keys the
	// metadata aggregate lists for the DS.
	Signing    KeyPair `json:"signing"`
	Encryption KeyPair `json:"encryption"`

	// IdP is the entityID of the IdP whose DS tokens the DS accepts and
	// whose federation table it shares (the NameQualifier of every
	// pairwise NameID).
	IdP      string           `json:"idp"`
	Metadata []MetadataSource `json:"metadata"`
	// Store is a store/sqlstore DSN; "" is a SQLite file in the working
	// directory. The IdP and the DS share it.
	Store  string `json:"store"`
	Policy Policy `json:"policy"`
	// Peers names the quirk profile of a peer by entityID: "zxid" or
	// "lasso" (IDWSF2 §11); every other peer is strict.
	Peers map[string]string `json:"peers,omitempty"`
	// CheckOutgoing validates every answer against the schemas before it
	// is sent (wsf/server Config.SkipOutgoingValidation), an answer the
	// schemas refuse becoming an S:Server fault. Off by default: every
	// answer is built from typed values (the EPRs from SvcMDs validated
	// when registered, the tokens by the minter), and every shape is
	// validated in the tests, where the test kits turn this on. The check
	// costs a libxml2 parse and validation of the whole signed answer,
	// about 50 KB for five services.
	CheckOutgoing bool `json:"checkOutgoing,omitempty"`
}

// KeyPair names a PEM certificate and its PKCS#8 PEM key.
type KeyPair = rolekit.KeyPair

// MetadataSource is the operator's signed aggregate or a file the
// operator placed (rolekit.MetadataSource).
type MetadataSource = rolekit.MetadataSource

// Policy is discovery.Policy in the file; durations are Go durations.
type Policy struct {
	Mechanisms    []string  `json:"mechanisms,omitempty"`
	TokenLifetime string    `json:"tokenLifetime,omitempty"`
	EncryptBearer bool      `json:"encryptBearer,omitempty"`
	Portals       []string  `json:"portals,omitempty"`
	Reception     Reception `json:"reception"`
}

// Reception is the reception-desk rule.
type Reception struct {
	Terminals []string            `json:"terminals,omitempty"`
	MaxAge    string              `json:"maxAge,omitempty"`
	Purposes  map[string][]string `json:"purposes,omitempty"`
}

// Defaults of the file.
const (
	DefaultListen = "127.0.0.1:8445"
	DefaultStore  = "sqlite:renkei-ds.db"
)

// Paths on the listener.
const (
	PathSOAP    = "/disco"
	PathConsent = "/consent"
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
	if c.EntityID == "" {
		add("entityID is empty")
	}
	if c.IdP == "" {
		add("idp (the IdP's entityID) is empty")
	}
	if p, err := url.Parse(c.BaseURL); err != nil || p.Scheme != "https" || p.Host == "" || p.RawQuery != "" {
		add("baseURL %q is not an https URL", c.BaseURL)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen %q: %v", c.Listen, err)
	}
	if err := rolekit.CheckAdmin(c.Admin); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, rolekit.CheckKeyPairs(map[string]KeyPair{"tls": c.TLS, "signing": c.Signing, "encryption": c.Encryption})...)
	errs = append(errs, rolekit.CheckMetadata(c.Metadata)...)
	for _, m := range c.Policy.Mechanisms {
		if _, ok := wsf.ParseMechanism(m); !ok {
			add("policy.mechanisms: %q is not a mechanism Renkei implements", m)
		}
	}
	for name, s := range map[string]string{"policy.tokenLifetime": c.Policy.TokenLifetime, "policy.reception.maxAge": c.Policy.Reception.MaxAge} {
		if _, err := ParseDuration(s); err != nil {
			add("%s: %v", name, err)
		}
	}
	for peer, p := range c.Peers {
		if _, ok := profiles[p]; !ok {
			add("peers[%q]: profile %q is not zxid, lasso or strict", peer, p)
		}
	}
	return errors.Join(errs...)
}

var profiles = map[string]wsf.Profile{"strict": wsf.Strict, "zxid": wsf.ZXID, "lasso": wsf.Lasso}

// ParseDuration reads a duration; "" is zero (the default).
func ParseDuration(s string) (time.Duration, error) { return rolekit.ParseDuration(s) }
