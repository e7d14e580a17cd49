// Package terminalserver assembles the reception terminal
// (wsc/terminal) from its configuration file: the institution's keys
// and SAML SP, the ID-WSF client, the card reader through pcscd, and the
// staff page on a loopback HTTPS listener. cmd/renkei-terminal and the
// tests build the terminal through Build alone.
package terminalserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/renkei-idwsf/renkei/internal/rolekit"
)

// File is the JSON file renkei-terminal reads.
type File struct {
	// EntityID is the institution's: the terminal is its reception desk,
	// an SP role of the entity whose WSP serves the institution's data,
	// so that an enrolment links the patient number to that WSP.
	EntityID string `json:"entityID"`
	// BaseURL is the https origin of the staff page (loopback).
	BaseURL string `json:"baseURL"`
	// Listen is host:port; it defaults to loopback, and must be loopback.
	Listen string `json:"listen"`
	// Admin, when set, is the loopback host:port of the admin listener
	// (plain HTTP): /metrics, /healthz, /readyz.
	Admin string `json:"admin,omitempty"`
	// ECPConsumer is the PAOS AssertionConsumerService the metadata lists
	// for the entity's desk; "" means BaseURL/ecp.
	ECPConsumer string `json:"ecpConsumer,omitempty"`

	// TLS serves the staff page; Signing signs the AuthnRequests, the
	// logout and enrolment requests and the ID-WSF requests, and is the
	// TLS client key towards the DS, the WSPs and the IdP's SOAP
	// endpoints; Encryption decrypts the assertions. Signing and
	// Encryption as the aggregate lists them for EntityID.
	TLS        KeyPair `json:"tls"`
	Signing    KeyPair `json:"signing"`
	Encryption KeyPair `json:"encryption"`
	// TrustedRoots is a PEM file of the CAs of the IdP's, the DS's and
	// the WSPs' TLS certificates; "" means the system's roots.
	TrustedRoots string `json:"trustedRoots,omitempty"`

	Metadata []MetadataSource `json:"metadata"`
	// Store keeps the requests under way and the assertion IDs seen.
	Store string `json:"store"`
	// IdP and DS are the entityIDs of the IdP and the Discovery Service.
	IdP string `json:"idp"`
	DS  string `json:"ds"`
	// Reader is the PC/SC reader's name; "" is the first reader.
	Reader string `json:"reader,omitempty"`
	// TokenLife bounds a card login before a fresh handshake ("120s");
	// Timeout each call ("5s"). Empty means the defaults.
	TokenLife string `json:"tokenLife,omitempty"`
	Timeout   string `json:"timeout,omitempty"`
}

// KeyPair names a PEM certificate and its PKCS#8 PEM key.
type KeyPair = rolekit.KeyPair

// MetadataSource is the operator's signed aggregate or a placed file.
type MetadataSource = rolekit.MetadataSource

// Defaults of the file.
const (
	DefaultListen = "127.0.0.1:8449"
	DefaultStore  = "sqlite:renkei-terminal.db"
	// PathECP is the default PAOS consumer under BaseURL.
	PathECP = "/ecp"
)

// Read reads the file, unknown fields refused, with defaults, validated.
func Read(path string) (*File, error) {
	var c File
	if err := rolekit.Read(path, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Defaults fills the fields left empty.
func (c *File) Defaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Store == "" {
		c.Store = DefaultStore
	}
	if c.ECPConsumer == "" && c.BaseURL != "" {
		c.ECPConsumer = strings.TrimSuffix(c.BaseURL, "/") + PathECP
	}
}

// Validate reports every problem of the file at once.
func (c *File) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if u, err := url.Parse(c.BaseURL); err != nil || u.Scheme != "https" || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		add("baseURL %q is not an https origin", c.BaseURL)
	}
	for name, v := range map[string]string{"entityID": c.EntityID, "ecpConsumer": c.ECPConsumer} {
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" {
			add("%s %q is not an https URL", name, v)
		}
	}
	if host, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen %q: %v", c.Listen, err)
	} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		add("listen %q: the staff page shows patients' data and is served on loopback only", c.Listen)
	}
	if err := rolekit.CheckAdmin(c.Admin); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, rolekit.CheckKeyPairs(map[string]KeyPair{"tls": c.TLS, "signing": c.Signing, "encryption": c.Encryption})...)
	errs = append(errs, rolekit.CheckMetadata(c.Metadata)...)
	if c.IdP == "" || c.DS == "" {
		add("idp and ds (entityIDs) are required")
	}
	for name, d := range map[string]string{"tokenLife": c.TokenLife, "timeout": c.Timeout} {
		if v, err := rolekit.ParseDuration(d); err != nil || v < 0 {
			add("%s %q: not a positive duration (%v)", name, d, err)
		}
	}
	return errors.Join(errs...)
}
