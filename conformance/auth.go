package conformance

import (
	"bytes"
	"compress/flate"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// Authenticator logs the suite's browser in at the target: a TLS client
// certificate (a card IdP), a login form (a password IdP), or nothing (an
// IdP whose test configuration logs a fixed user in).
type Authenticator interface {
	// ConfigureTLS sets the client certificate on the browser's TLS config.
	ConfigureTLS(c *tls.Config)
	// Fill fills f in place and reports true when f is a login form this
	// authenticator knows how to submit.
	Fill(f *Form) bool
}

// NoLogin is the Authenticator for a target that needs no interaction.
type NoLogin struct{}

// ConfigureTLS does nothing.
func (NoLogin) ConfigureTLS(*tls.Config) {}

// Fill fills no form.
func (NoLogin) Fill(*Form) bool { return false }

// CertLogin presents a TLS client certificate, as a card login does.
type CertLogin struct {
	Certificate tls.Certificate
}

// ConfigureTLS adds the client certificate.
func (c CertLogin) ConfigureTLS(t *tls.Config) {
	t.Certificates = append(t.Certificates, c.Certificate)
}

// Fill fills no form: the certificate is the login.
func (CertLogin) Fill(*Form) bool { return false }

// LoadPKCS12 reads a PKCS#12 file (a soft card) into a CertLogin.
func LoadPKCS12(file, password string) (CertLogin, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return CertLogin{}, fmt.Errorf("conformance: client certificate: %w", err)
	}
	key, cert, chain, err := pkcs12.DecodeChain(b, password)
	if err != nil {
		return CertLogin{}, fmt.Errorf("conformance: client certificate %s: %w", file, err)
	}
	tc := tls.Certificate{PrivateKey: key, Leaf: cert, Certificate: [][]byte{cert.Raw}}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return CertLogin{Certificate: tc}, nil
}

// LoadKeyPair reads a PEM certificate and key into a CertLogin.
func LoadKeyPair(certFile, keyFile string) (CertLogin, error) {
	tc, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return CertLogin{}, fmt.Errorf("conformance: client certificate: %w", err)
	}
	return CertLogin{Certificate: tc}, nil
}

// FormLogin fills a login form: the user name and the password on one
// page, or over two pages (a page asking for the user name alone, then
// one asking for the password). UserField and PassField name the inputs;
// "" means the form's password input and, for the user name, the text
// input whose name looks most like one (userHints, in that order; the
// first in document order among equals), else the first text input: the
// same choice on every run.
type FormLogin struct {
	Username, Password   string
	UserField, PassField string
}

// ConfigureTLS does nothing.
func (FormLogin) ConfigureTLS(*tls.Config) {}

// Fill fills the user name and password of a form with a password input,
// or the user name alone of a form without one whose user field is named
// or recognisable (the first page of a two-page login).
func (l FormLogin) Fill(f *Form) bool {
	pass := l.passField(f)
	user := l.userField(f, pass != "")
	switch {
	case pass != "" && user != "":
		f.Fields.Set(user, l.Username)
		f.Fields.Set(pass, l.Password)
		return true
	case pass != "" && len(textInputs(f)) == 0:
		f.Fields.Set(pass, l.Password) // the second page of a two-page login
		return true
	case pass == "" && user != "":
		f.Fields.Set(user, l.Username)
		return true
	}
	return false
}

func (l FormLogin) passField(f *Form) string {
	if l.PassField != "" {
		if f.Types[l.PassField] == "password" {
			return l.PassField
		}
		return ""
	}
	for _, name := range f.Order {
		if f.Types[name] == "password" {
			return name
		}
	}
	return ""
}

// userField picks the user name input; without a password input beside
// it only a named or recognisable one counts, so that no other form
// (a search box, a consent page) is taken for a login.
func (l FormLogin) userField(f *Form, withPassword bool) string {
	ins := textInputs(f)
	if l.UserField != "" {
		if slices.Contains(ins, l.UserField) {
			return l.UserField
		}
		return ""
	}
	for _, hint := range userHints {
		for _, name := range ins {
			if strings.Contains(strings.ToLower(name), hint) {
				return name
			}
		}
	}
	if withPassword && len(ins) > 0 {
		return ins[0]
	}
	return ""
}

// userHints are what login pages name the user name input, the surest
// first: the first hint that an input's name contains picks it.
var userHints = []string{"user", "login", "mail", "uid", "account", "principal", "ident", "name"}

// textInputs returns the form's text inputs in document order.
func textInputs(f *Form) []string {
	var out []string
	for _, name := range f.Order {
		switch f.Types[name] {
		case "text", "", "email":
			out = append(out, name)
		}
	}
	return out
}

// hasPassword reports whether a form asks for a password.
func hasPassword(f *Form) bool {
	for _, typ := range f.Types {
		if typ == "password" {
			return true
		}
	}
	return false
}

// decodeQueryForLog returns a URL with its SAML parameter decoded, for the
// message log; the URL itself when there is none.
func decodeQueryForLog(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	for _, name := range []string{"SAMLRequest", "SAMLResponse"} {
		if v := q.Get(name); v != "" {
			return u + "\n\n" + inflateForLog(v)
		}
	}
	return u
}

func inflateForLog(v string) string {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "(not base64: " + err.Error() + ")"
	}
	b, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), MaxCaptured+1))
	if err != nil {
		return "(not DEFLATE: " + err.Error() + ")"
	}
	return string(b)
}

func decodeFormForLog(f *Form) string {
	for _, name := range []string{"SAMLResponse", "SAMLRequest"} {
		if v := f.Fields.Get(name); v != "" {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return "(not base64: " + err.Error() + ")"
			}
			return string(b)
		}
	}
	return f.Fields.Encode()
}
