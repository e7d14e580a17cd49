package wspserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// File is the JSON file renkei-wsp reads: one institution's WSP. Optional
// fields are omitted when empty.
type File struct {
	EntityID string `json:"entityID"`
	// BaseURL is the listener's public URL; the SOAP endpoint of every
	// service type is BaseURL+PathSOAP (the receiver tells the services
	// apart by wsa:Action).
	BaseURL string `json:"baseURL"`
	// Listen is host:port; it defaults to loopback.
	Listen string `json:"listen"`
	// Admin, when set, is the loopback host:port of the admin listener
	// (plain HTTP): /metrics, /healthz, /readyz.
	Admin string `json:"admin,omitempty"`
	// Endpoints, when the WSP runs as several nodes, are the SOAP
	// endpoints of all of them (or the one of the load balancer in front):
	// the addresses its SvcMDs give and the wsa:To it accepts. Empty means
	// BaseURL+PathSOAP alone.
	Endpoints []string `json:"endpoints,omitempty"`

	TLS KeyPair `json:"tls"`
	// Signing signs the responses and is the WSP's key as a client of the
	// DS (its TLS client key too); Encryption is the key the DS encrypts
	// the tokens' subjects for. Both must be the keys the metadata
	// aggregate lists for the WSP.
	Signing    KeyPair `json:"signing"`
	Encryption KeyPair `json:"encryption"`
	// TrustedRoots is a PEM file of the CAs the DS's TLS certificate is
	// checked against; "" means the system's roots.
	TrustedRoots string `json:"trustedRoots,omitempty"`

	Metadata []MetadataSource `json:"metadata"`
	// Store is the WSP's own store (replay cache, access audit): a
	// store/sqlstore DSN; "" is a SQLite file in the working directory.
	Store string `json:"store"`
	// Backend is the institution's back office.
	Backend Backend `json:"backend"`
	// Services, when set, limit and tune the service types served; by
	// default every service type the mapping maps.
	Services []Service `json:"services,omitempty"`
	// AuditReaders are the portals that may read a citizen's access log.
	AuditReaders []string `json:"auditReaders,omitempty"`
	// DS is the entityID of the Discovery Service the WSP registers its
	// SvcMDs at (its endpoint from the metadata); "" registers nothing.
	DS string `json:"ds,omitempty"`
	// IdP is the entityID of the IdP whose signed SOAP LogoutRequests end
	// the sessions of the WSP's tokens, at the SingleLogoutService
	// BaseURL+PathSLO, which the institution's SP role (its reception
	// desk) must list in the metadata with the SOAP binding; "" serves no
	// single logout.
	IdP string `json:"idp,omitempty"`
	// Mechanisms accepted; empty means ClientTLS:SAMLV2 and peerSAMLV2.
	Mechanisms []string `json:"mechanisms,omitempty"`
	// Peers names the quirk profile of a peer by entityID: "zxid" or
	// "lasso" (IDWSF2 §11); every other peer is strict.
	Peers map[string]string `json:"peers,omitempty"`
	// CheckOutgoing validates every answer against the schemas before it
	// is sent (wsf/server Config.SkipOutgoingValidation), an answer the
	// schemas refuse becoming an S:Server fault. Off by default: every
	// answer is built from typed values (a back-office value that is not
	// of its field's XSD type, or holds a character XML cannot carry, is
	// refused before it reaches the message), and every shape is validated
	// in the tests, where the test kits turn this on. The check costs a
	// libxml2 parse and validation of the whole signed answer; turn it on
	// to debug a mapping.
	CheckOutgoing bool `json:"checkOutgoing,omitempty"`
	// Abstract describes the institution in its SvcMDs.
	Abstract string `json:"abstract,omitempty"`
}

// KeyPair names a PEM certificate and its PKCS#8 PEM key.
type KeyPair = rolekit.KeyPair

// MetadataSource is the operator's signed aggregate or a file the
// operator placed (rolekit.MetadataSource).
type MetadataSource = rolekit.MetadataSource

// Backend names the mapping file of the back office: Kind "sql"
// (wsp/sqlmap) or "http" (wsp/httpjson). DSN, when set, replaces the SQL
// mapping's own, its driver told by its form (a postgres:// URL is
// PostgreSQL; several WSP nodes on one database); Base the
// HTTP mapping's base URL. Timeout, when set, bounds the back-office work
// of one request and replaces the mapping's own bound of each call.
type Backend struct {
	Kind    string `json:"kind"`
	Mapping string `json:"mapping"`
	DSN     string `json:"dsn,omitempty"`
	Base    string `json:"base,omitempty"`
	Timeout string `json:"timeout,omitempty"`
}

// Service tunes one service type.
type Service struct {
	Type     string   `json:"type"`
	Purposes []string `json:"purposes,omitempty"`
	Abstract string   `json:"abstract,omitempty"`
}

// Defaults of the file.
const (
	DefaultListen = "127.0.0.1:8446"
	DefaultStore  = "sqlite:renkei-wsp.db"
)

// PathSOAP is the SOAP endpoint on the listener; PathSLO the SOAP
// SingleLogoutService.
const (
	PathSOAP = "/wsp"
	PathSLO  = "/slo"
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
	if c.EntityID == "" {
		add("entityID is empty")
	}
	if p, err := url.Parse(c.BaseURL); err != nil || p.Scheme != "https" || p.Host == "" || p.RawQuery != "" {
		add("baseURL %q is not an https URL", c.BaseURL)
	}
	for _, e := range c.Endpoints {
		if p, err := url.Parse(e); err != nil || p.Scheme != "https" || p.Host == "" {
			add("endpoints: %q is not an https URL", e)
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen %q: %v", c.Listen, err)
	}
	if err := rolekit.CheckAdmin(c.Admin); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, rolekit.CheckKeyPairs(map[string]KeyPair{"tls": c.TLS, "signing": c.Signing, "encryption": c.Encryption})...)
	errs = append(errs, rolekit.CheckMetadata(c.Metadata)...)
	switch c.Backend.Kind {
	case "sql", "http":
	default:
		add("backend.kind %q is not sql or http", c.Backend.Kind)
	}
	if c.Backend.Mapping == "" {
		add("backend.mapping (the mapping file) is empty")
	}
	if _, err := rolekit.ParseDuration(c.Backend.Timeout); err != nil {
		add("backend.timeout: %v", err)
	}
	seen := map[string]bool{}
	for _, s := range c.Services {
		if dst.Lookup(s.Type) == nil {
			add("services: %q is not a service type of the federation", s.Type)
		}
		if seen[s.Type] {
			add("services: %s listed twice", s.Type)
		}
		seen[s.Type] = true
	}
	for _, m := range c.Mechanisms {
		if _, ok := wsf.ParseMechanism(m); !ok {
			add("mechanisms: %q is not a mechanism Renkei implements", m)
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
