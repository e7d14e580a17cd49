package idp

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsf"
)

// TestConfigValidate: every problem is reported at once.
func TestConfigValidate(t *testing.T) {
	err := (&Config{AssertionLifetime: -1, Discovery: &Discovery{Mechanisms: []wsf.Mechanism{"urn:example:none"}}}).Validate()
	if err == nil {
		t.Fatal("empty config accepted")
	}
	for _, want := range []string{"EntityID", "SigningKey", "stores", "CardTrust", "AssertionLifetime", "Discovery needs", "not implemented"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

// TestConfigKeys: the first signing certificate must be the signing key's,
// at most two are listed, and the card verifier needs its roots.
func TestConfigKeys(t *testing.T) {
	f := newFixture(t)
	k := federationKeys(t)
	cfg := f.config()
	cfg.EncryptionKey = k.DS.Key.(*rsa.PrivateKey)
	must(t, cfg.Validate())
	cfg.SigningCerts = []*x509.Certificate{k.IdPNext.Cert, k.IdP.Cert}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "not the certificate of SigningKey") {
		t.Fatalf("swapped certificates: %v", err)
	}
	cfg = f.config()
	cfg.SigningCerts = append(cfg.SigningCerts, k.Other.Cert)
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "at most two") {
		t.Fatalf("three certificates: %v", err)
	}
	cfg = f.config()
	cfg.CardTrust = &trust.Verifier{}
	if _, err := New(cfg); err == nil {
		t.Fatal("New accepted a card verifier without roots")
	}
}

// TestErrorTable: every code has an entry; untyped errors stay private;
// the send-nothing class is only for an unknown SP or ACS, and for what
// never reached the engine as a request (a used handle, an oversized body).
func TestErrorTable(t *testing.T) {
	for c := CodeInternal; c <= CodeBusy; c++ {
		if _, ok := entries[c]; !ok {
			t.Errorf("code %d has no table entry", c)
		}
	}
	st := StatusFor(errors.New("database password is hunter2"))
	if st.Top != samlp.StatusResponder || st.Second != "" || strings.Contains(st.Message, "hunter2") || st.Page.HTTP() != http.StatusInternalServerError {
		t.Fatalf("untyped error status %+v", st)
	}
	for c, e := range entries {
		pageOnly := c == CodeUnknownSP || c == CodeACSNotInMetadata || c == CodeACSNotHTTPS || c == CodeUnknownRequest || c == CodeTooLarge || c == CodeInflateBomb ||
			c == CodeMediaType || c == CodeTooManyRequests || c == CodeBusy
		if e.nothing != pageOnly {
			t.Errorf("code %d send-nothing = %v", c, e.nothing)
		}
	}
	wrapped := Wrap(CodeNoPassive, errors.New("cause"), "detail")
	if st := StatusFor(wrapped); st.Top != samlp.StatusResponder || st.Second != samlp.StatusNoPassive || strings.Contains(st.Message, "detail") {
		t.Fatalf("NoPassive status %+v", st)
	}
	if !errors.Is(wrapped, ErrNoPassive) || errors.Is(wrapped, ErrNoAuthnContext) {
		t.Fatal("errors.Is does not match by code")
	}
	if st := StatusFor(ErrVersionMismatch); st.Top != samlp.StatusVersionMismatch {
		t.Fatalf("version mismatch status %+v", st)
	}
}
