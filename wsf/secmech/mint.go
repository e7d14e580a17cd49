package secmech

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/kinderr"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Confirmation is how the presenter of a minted token proves it may use
// it (IDWSF2 §3.6, §3.4 item 7).
type Confirmation int

// The confirmations a Minter issues. The zero value is none: a request
// must choose.
const (
	// ConfirmHolderOfKey binds the token to the invoker's certificate, for
	// the SAMLV2 and peerSAMLV2 mechanisms.
	ConfirmHolderOfKey Confirmation = iota + 1
	// ConfirmBearer lets any holder present the token, for the Bearer
	// mechanisms only.
	ConfirmBearer
)

// TokenRequest is what one Liberty SAML 2.0 token says (IDWSF2 §3.6).
type TokenRequest struct {
	// Audience is the target provider's entityID, the token's one
	// AudienceRestriction (IDWSF2 §3.4 item 5).
	Audience string
	// Target is the target's encryption key and methods from its metadata.
	// The subject is always encrypted for it; a target without a key gets
	// no token (ErrNoToken).
	Target xmlenc.Recipient
	// NameID is the principal as the target knows it: the pairwise
	// persistent NameID whose SPNameQualifier is Audience, with the
	// target's SPProvidedID once it registered one (IDWSF2 §3.4 item 9).
	NameID *saml.NameID
	// Confirmation is holder-of-key or bearer.
	Confirmation Confirmation
	// Invoker is the WSC's metadata (and TLS client) certificate that a
	// holder-of-key token confirms; bearer tokens ignore it.
	Invoker *x509.Certificate
	// Lifetime bounds the token from now (NotBefore now, NotOnOrAfter
	// now+Lifetime); SessionEnd, when set, bounds it too.
	Lifetime   time.Duration
	SessionEnd time.Time
	// AuthnInstant and AuthnClassRef are the SSO's authentication, carried
	// into an AuthnStatement so that the target knows how the principal
	// logged in; a zero AuthnInstant means no AuthnStatement.
	AuthnInstant  time.Time
	AuthnClassRef string
	// SessionIndex, when set, names the IdP session at the target (SAML
	// Core §2.7.2): the target participates in it, and a LogoutRequest
	// with this SessionIndex ends the token. It needs an AuthnStatement.
	SessionIndex string
	// ServiceTypes, when set, are the services the token was issued for,
	// carried as the attribute AttrServiceType: the DS's consent is per
	// service (an association is with one SvcMD), and a provider offering
	// several services checks that the token was issued for the one
	// called.
	ServiceTypes []string
	// EncryptAssertion returns the token as a saml:EncryptedAssertion for
	// Target, which the WSC passes on without reading. Only a bearer token
	// may be encrypted (ARCHITECTURE "Tokens from the DS"): a holder-of-key
	// token is named by its ID in the WSC's signature (IDWSF2 §3.5), which
	// the WSC cannot read in an encrypted one.
	EncryptAssertion bool
}

// Minted is a token ready for a sec:Token.
type Minted struct {
	// Element is the signed saml:Assertion, or the saml:EncryptedAssertion
	// holding it.
	Element *etree.Element
	// ID is the assertion's ID, which a SecurityTokenReference names.
	ID           string
	NotOnOrAfter time.Time
}

// Minter mints the Liberty SAML 2.0 tokens of IDWSF2 §3.6 that
// TokenChecker verifies: the IdP's Discovery Service token of the
// bootstrap, and the Discovery Service's token for each WSP.
type Minter struct {
	// Issuer is the entityID of the IdP or Discovery Service, which its
	// metadata lists as a token issuer.
	Issuer string
	// Signer signs the enveloped signature with the issuer's metadata
	// signing key.
	Signer *dsig.Signer
	// Rand is the randomness of assertion IDs and encryption; nil means
	// crypto/rand.
	Rand io.Reader
	// Schema, when set, validates each signed token before it is
	// encrypted or returned (xmlsec/xsd's *Schema implements it): a token
	// the schema refuses is ErrMintFailed, never handed out.
	Schema interface {
		ValidateElement(el *etree.Element) error
	}
	// Meter, when set, counts each token minted as Kind (wsf.TokenBootstrap,
	// wsf.TokenDS) and its signature (metrics only).
	Meter wsf.Meter
	Kind  string
}

// Mint returns the token req describes, issued at now (IDWSF2 §3.6):
// Version 2.0, a fresh ID, Issuer, the enveloped signature, a Subject
// whose saml:EncryptedID only the target can read and one
// SubjectConfirmation, Conditions with the lifetime and the target as the
// audience, and the AuthnStatement when req carries one. Failures are
// *MintError: ErrNoToken, ErrEncryptedNotBearer, ErrTokenRequest,
// ErrMintFailed.
func (m *Minter) Mint(req TokenRequest, now time.Time) (*Minted, error) {
	end := req.end(now)
	if err := m.check(req, end, now); err != nil {
		return nil, err
	}
	id, err := m.newID()
	if err != nil {
		return nil, err
	}
	sub, err := m.subject(req, end)
	if err != nil {
		return nil, err
	}
	a := &saml.Assertion{ID: id, IssueInstant: now, Issuer: saml.Issuer{Value: m.Issuer}, Subject: sub,
		Conditions: &saml.Conditions{NotBefore: now, NotOnOrAfter: end,
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{req.Audience}}}},
		AuthnStatements: req.authn(), AttributeStatements: req.attributes()}
	el, err := m.seal(a, req)
	if err != nil {
		return nil, err
	}
	wsf.CountMinted(m.Meter, m.Kind)
	return &Minted{Element: el, ID: id, NotOnOrAfter: end}, nil
}

// AttrServiceType names the attribute of a token that lists the service
// types it was issued for (TokenRequest.ServiceTypes; a Renkei name: the
// Liberty token profile binds a token to a provider, not to one of its
// services).
const AttrServiceType = "urn:renkei:token:serviceType"

func (r *TokenRequest) attributes() []saml.AttributeStatement {
	if len(r.ServiceTypes) == 0 {
		return nil
	}
	at := saml.Attribute{Name: AttrServiceType, NameFormat: saml.AttrNameFormatURI}
	for _, t := range r.ServiceTypes {
		at.Values = append(at.Values, saml.AttributeValue{Text: t})
	}
	return []saml.AttributeStatement{{Attributes: []saml.Attribute{at}}}
}

// ServiceTypes returns the service types a verified token was issued for
// (AttrServiceType), or nil when it names none: a token from an issuer
// that does not bind tokens to services.
func (t *Token) ServiceTypes() []string {
	at, ok := t.Assertion.Attribute(AttrServiceType)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(at.Values))
	for _, v := range at.Values {
		out = append(out, v.Text)
	}
	return out
}

// end is the token's NotOnOrAfter: now+Lifetime, or the session's end
// when that comes first.
func (r *TokenRequest) end(now time.Time) time.Time {
	end := now.Add(r.Lifetime)
	if !r.SessionEnd.IsZero() && r.SessionEnd.Before(end) {
		end = r.SessionEnd
	}
	return end
}

func (r *TokenRequest) authn() []saml.AuthnStatement {
	if r.AuthnInstant.IsZero() {
		return nil
	}
	return []saml.AuthnStatement{{AuthnInstant: r.AuthnInstant, SessionIndex: r.SessionIndex, ClassRef: r.AuthnClassRef}}
}

// subject is the EncryptedID for the target and the confirmation.
func (m *Minter) subject(req TokenRequest, end time.Time) (*saml.Subject, error) {
	enc, err := saml.EncryptNameID(req.NameID, m.encrypter(), req.Target)
	if err != nil {
		return nil, encryptError(err, "the NameID for "+req.Audience)
	}
	data := &saml.SubjectConfirmationData{NotOnOrAfter: end}
	method := saml.CMBearer
	if req.Confirmation == ConfirmHolderOfKey {
		method = saml.CMHolderOfKey
		data.KeyInfos = []saml.KeyInfo{{Certificates: []*x509.Certificate{req.Invoker}}}
	}
	return &saml.Subject{EncryptedID: enc,
		Confirmations: []saml.SubjectConfirmation{{Method: method, Data: data}}}, nil
}

// seal signs the assertion and, when asked, encrypts it for the target.
func (m *Minter) seal(a *saml.Assertion, req TokenRequest) (*etree.Element, error) {
	el, err := saml.SignAssertion(a, m.Signer)
	wsf.CountSignature(m.Meter, wsf.SigSign, err)
	if err != nil {
		return nil, mintWrap(KindMintFailed, err, "sign")
	}
	if m.Schema != nil {
		if err := m.Schema.ValidateElement(el); err != nil {
			return nil, mintWrap(KindMintFailed, err, "token is not schema-valid")
		}
	}
	if !req.EncryptAssertion {
		return el, nil
	}
	el, err = m.encrypter().Encrypt(el, xmlenc.EncryptedAssertion, req.Target)
	if err != nil {
		return nil, encryptError(err, "the assertion for "+req.Audience)
	}
	return el, nil
}

// encryptError classifies a failure to encrypt for the target: a key or
// methods nothing can be encrypted for (xmlsec.ErrAlgorithm: not RSA, too
// short, no method in common) leave the target without a token like no
// key at all; anything else, such as failing randomness, is the minter's.
func encryptError(err error, what string) error {
	if errors.Is(err, xmlsec.ErrAlgorithm) {
		return mintWrap(KindNoToken, err, "encrypt "+what)
	}
	return mintWrap(KindMintFailed, err, "encrypt "+what)
}

func (m *Minter) encrypter() *xmlenc.Encrypter { return &xmlenc.Encrypter{Rand: m.Rand} }

// newID returns the token's ID (saml.NewID) from the minter's Rand.
func (m *Minter) newID() (string, error) {
	id, err := saml.NewID(m.Rand)
	if err != nil {
		return "", mintWrap(KindMintFailed, err, "randomness")
	}
	return id, nil
}

// CheckTarget returns ErrNoToken unless to holds an encryption key: a
// provider without one gets no token (ARCHITECTURE "Tokens from the DS").
// Mint checks it too; an issuer calls it first to refuse before it
// allocates a NameID for the target.
func CheckTarget(to xmlenc.Recipient) error {
	if to.Cert == nil && to.Key == nil {
		return mintErrorf(KindNoToken, "%q has no encryption key", to.EntityID)
	}
	return nil
}

// check refuses a request that cannot make a token IDWSF2 §3.4 accepts.
func (m *Minter) check(req TokenRequest, end, now time.Time) error {
	if err := CheckTarget(req.Target); err != nil {
		return err
	}
	if req.EncryptAssertion && req.Confirmation != ConfirmBearer {
		return mintErrorf(KindEncryptedNotBearer, "token for %q", req.Audience)
	}
	switch {
	case m.Issuer == "" || m.Signer == nil:
		return mintErrorf(KindTokenRequest, "minter without issuer or signer")
	case req.Audience == "":
		return mintErrorf(KindTokenRequest, "no audience")
	case req.Target.EntityID != "" && req.Target.EntityID != req.Audience:
		// The subject is encrypted for the one provider the token is for.
		return mintErrorf(KindTokenRequest, "subject encrypted for %q in a token for %q", req.Target.EntityID, req.Audience)
	case req.Lifetime <= 0 || !end.After(now):
		return mintErrorf(KindTokenRequest, "token for %q would end at %s, now %s",
			req.Audience, end.Format(time.RFC3339), now.Format(time.RFC3339))
	case !req.AuthnInstant.IsZero() && req.AuthnClassRef == "":
		return mintErrorf(KindTokenRequest, "AuthnStatement without a class")
	case req.SessionIndex != "" && req.AuthnInstant.IsZero():
		return mintErrorf(KindTokenRequest, "SessionIndex without an AuthnStatement")
	}
	return errFirst(checkNameID(req.NameID, req.Audience), checkConfirmation(req))
}

// checkNameID requires the pairwise persistent NameID of the audience
// (IDWSF2 §3.4 item 9): another provider's NameID would name the
// principal wrongly, or link it across providers.
func checkNameID(n *saml.NameID, audience string) error {
	switch {
	case n == nil || n.Value == "":
		return mintErrorf(KindTokenRequest, "no NameID")
	case n.Format != saml.NameIDPersistent:
		return mintErrorf(KindTokenRequest, "NameID format %q is not persistent", n.Format)
	case n.SPNameQualifier != audience:
		return mintErrorf(KindTokenRequest, "NameID of %q in a token for %q", n.SPNameQualifier, audience)
	}
	return nil
}

func checkConfirmation(req TokenRequest) error {
	switch req.Confirmation {
	case ConfirmBearer:
		return nil
	case ConfirmHolderOfKey:
		if req.Invoker == nil {
			return mintErrorf(KindTokenRequest, "holder-of-key token without the invoker's certificate")
		}
		return nil
	}
	return mintErrorf(KindTokenRequest, "confirmation %d", req.Confirmation)
}

func errFirst(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// MintKind classifies why no token was minted, so that the IdP and the
// Discovery Service each map it to their own status.
type MintKind int

// The kinds of minting failure.
const (
	KindNoToken            MintKind = iota + 1 // the target has no encryption key a token can be encrypted for
	KindEncryptedNotBearer                     // EncryptedAssertion asked for a token that is not bearer
	KindTokenRequest                           // the request cannot make a valid token
	KindMintFailed                             // signing, encryption or randomness failed
)

var mintKindNames = map[MintKind]string{
	KindNoToken:            "no token for a provider without an encryption key",
	KindEncryptedNotBearer: "only a bearer token may be an EncryptedAssertion",
	KindTokenRequest:       "token request not valid",
	KindMintFailed:         "token could not be minted",
}

// String returns the public, stable text of the kind.
func (k MintKind) String() string {
	if s, ok := mintKindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("mint kind %d", int(k))
}

// Package names the package in error texts.
func (MintKind) Package() string { return "secmech" }

// MintError is Mint's typed error (internal/kinderr): Kind is public,
// Detail and Err the private cause.
type MintError = kinderr.Error[MintKind]

// Sentinels for errors.Is, one per MintKind.
var (
	ErrNoToken            = &MintError{Kind: KindNoToken}
	ErrEncryptedNotBearer = &MintError{Kind: KindEncryptedNotBearer}
	ErrTokenRequest       = &MintError{Kind: KindTokenRequest}
	ErrMintFailed         = &MintError{Kind: KindMintFailed}
)

func mintErrorf(k MintKind, format string, args ...any) error {
	return kinderr.New(k, format, args...)
}

func mintWrap(k MintKind, err error, detail string) error { return kinderr.Wrap(k, err, detail) }
