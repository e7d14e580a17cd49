package conformance

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// WSFTarget is a WSP or Discovery Service under test: its entity ID and
// metadata signing keys, the endpoint it serves, and one operation it
// answers (Action with a request body Payload builds) for the suite to send.
type WSFTarget struct {
	EntityID string
	Keys     []*x509.Certificate
	Address  string
	Action   string
	// Payload returns a request body; variants 0 and 1 must differ.
	Payload func(variant int) *etree.Element
}

// WSC is the suite as a web service consumer: its entity ID and metadata
// key (also its TLS client key), and the token issuer it plays. The target
// must list the WSC in its metadata and IssuerID, with IssuerCert, as a
// token issuer (a Discovery Service): the suite mints its own tokens so
// that it can also mint the broken ones.
type WSC struct {
	EntityID   string
	Key        crypto.Signer
	Cert       *x509.Certificate
	IssuerID   string
	IssuerKey  crypto.Signer
	IssuerCert *x509.Certificate
	// Subject is the principal the tokens name; nil means a fresh
	// conformance NameID each time (a WSP needs to know no principal).
	Subject *saml.NameID
	// Encryption, when set, is the target's encryption key: the tokens
	// are then minted as a Discovery Service mints them for a WSP
	// (secmech.Minter, IDWSF2 §3.6), their subject a saml:EncryptedID only
	// the target can read.
	Encryption *xmlenc.Recipient
}

// tokenSpec changes the token the suite mints.
type tokenSpec struct {
	audience     string // "" means the target
	notBefore    time.Time
	notOnOrAfter time.Time
	signer       crypto.Signer // nil means the WSC's issuer key
	signerCert   *x509.Certificate
	subject      *saml.NameID      // nil means the WSC's Subject
	holder       *x509.Certificate // the confirmation key; nil means the WSC's certificate
}

// token mints a holder-of-key token for the WSC's key (IDWSF2 §3.6).
func (e *Env) token(s tokenSpec) (*etree.Element, error) {
	now := e.now()
	if s.audience == "" {
		s.audience = e.WSF.EntityID
	}
	if s.notBefore.IsZero() {
		s.notBefore, s.notOnOrAfter = now.Add(-time.Minute), now.Add(time.Hour)
	}
	if s.signer == nil {
		s.signer, s.signerCert = e.WSC.IssuerKey, e.WSC.IssuerCert
	}
	if s.subject == nil {
		s.subject = e.WSC.Subject
	}
	if s.subject == nil {
		s.subject = &saml.NameID{Value: "conformance-" + e.newID()[1:9], Format: FormatPersistent, NameQualifier: e.WSC.IssuerID, SPNameQualifier: s.audience}
	}
	if s.holder == nil {
		s.holder = e.WSC.Cert
	}
	if e.WSC.Encryption != nil {
		return e.mint(s)
	}
	a := &saml.Assertion{ID: e.newID(), IssueInstant: now.Add(-time.Minute), Issuer: saml.Issuer{Value: e.WSC.IssuerID},
		Subject: &saml.Subject{NameID: s.subject,
			Confirmations: []saml.SubjectConfirmation{{Method: saml.CMHolderOfKey,
				Data: &saml.SubjectConfirmationData{KeyInfos: []saml.KeyInfo{{Certificates: []*x509.Certificate{s.holder}}}}}}},
		Conditions: &saml.Conditions{NotBefore: s.notBefore, NotOnOrAfter: s.notOnOrAfter,
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{s.audience}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: now.Add(-time.Minute), ClassRef: saml.ACSmartcardPKI}}}
	return saml.SignAssertion(a, &dsig.Signer{Key: s.signer, Certificates: []*x509.Certificate{s.signerCert}})
}

// mint mints the token s describes with secmech.Minter, the minter of
// Renkei's DS: the subject's SPNameQualifier is the audience, and it is
// encrypted for the WSC's Encryption key (addressed to the audience, so
// that a token for another provider fails on its audience alone).
func (e *Env) mint(s tokenSpec) (*etree.Element, error) {
	n := *s.subject
	n.SPNameQualifier = s.audience
	to := *e.WSC.Encryption
	to.EntityID = s.audience
	m := &secmech.Minter{Issuer: e.WSC.IssuerID, Signer: &dsig.Signer{Key: s.signer, Certificates: []*x509.Certificate{s.signerCert}}, Rand: e.Rand}
	t, err := m.Mint(secmech.TokenRequest{Audience: s.audience, Target: to, NameID: &n, Confirmation: secmech.ConfirmHolderOfKey,
		Invoker: s.holder, Lifetime: s.notOnOrAfter.Sub(s.notBefore), AuthnInstant: s.notBefore, AuthnClassRef: saml.ACSmartcardPKI}, s.notBefore)
	if err != nil {
		return nil, err
	}
	return t.Element, nil
}

// wsfMsg describes one request; the zero value is a conforming one.
type wsfMsg struct {
	header  func(h *wsf.Header)
	env     func(env *wsf.Envelope) // changes the envelope before it is secured
	after   func(b []byte) ([]byte, error)
	token   *tokenSpec
	created time.Time
	raw     []byte // send these bytes as they are
	variant int    // passed to WSFTarget.Payload
}

// wsfAnswer is what came back.
type wsfAnswer struct {
	Status    int
	Body      []byte
	Fault     *wsf.Fault
	MessageID string // of the request
	Request   []byte
}

// buildWSF builds and secures a request under ClientTLS:SAMLV2.
func (e *Env) buildWSF(m wsfMsg) ([]byte, string, error) {
	mid, err := wsf.NewMessageID(e.Rand)
	if err != nil {
		return nil, "", err
	}
	h := &wsf.Header{Framework: wsf.Framework{Version: wsf.FrameworkVersion}, Sender: &wsf.Sender{ProviderID: e.WSC.EntityID},
		MessageID: mid, To: e.WSF.Address, Action: e.WSF.Action, ReplyTo: &wsf.EPR{Address: wsf.Anonymous}}
	if m.header != nil {
		m.header(h)
	}
	env := wsf.NewEnvelope(h, e.WSF.Payload(m.variant))
	if m.env != nil {
		m.env(env)
	}
	ts := tokenSpec{}
	if m.token != nil {
		ts = *m.token
	}
	tok, err := e.token(ts)
	if err != nil {
		return nil, "", err
	}
	created := m.created
	if created.IsZero() {
		created = e.now().Add(-time.Second)
	}
	b, err := secmech.Secure(env, &secmech.Credentials{Mechanism: wsf.ClientTLSSAMLV2, Token: tok, Key: e.WSC.Key, Certificate: e.WSC.Cert, Rand: e.Rand}, created)
	if err != nil {
		return nil, "", err
	}
	if m.after != nil {
		b, err = m.after(b)
	}
	return b, h.MessageID, err
}

// MaxSOAPAnswer bounds a response body the suite reads.
const MaxSOAPAnswer = 4 << 20

// sendWSF posts a request over TLS with the WSC's client certificate.
func (e *Env) sendWSF(ctx context.Context, m wsfMsg) (*wsfAnswer, error) {
	body, mid := m.raw, ""
	if body == nil {
		var err error
		if body, mid, err = e.buildWSF(m); err != nil {
			return nil, err
		}
	}
	return e.postSOAP(ctx, body, mid)
}

func (e *Env) postSOAP(ctx context.Context, body []byte, mid string) (*wsfAnswer, error) {
	hc, err := e.wsfHTTP()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.WSF.Address, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", wsf.ContentType)
	req.Header.Set("SOAPAction", `"`+e.WSF.Action+`"`)
	logged := string(body)
	if len(body) > MaxCaptured {
		logged = fmt.Sprintf("(%d bytes)", len(body))
	}
	e.Record(Message{Direction: "sent", Label: "ID-WSF request " + e.WSF.Action, URL: e.WSF.Address, Body: logged})
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, MaxSOAPAnswer))
	if err != nil {
		return nil, err
	}
	e.Record(Message{Direction: "received", Label: "ID-WSF response", URL: e.WSF.Address, Status: resp.StatusCode, Body: string(rb)})
	a := &wsfAnswer{Status: resp.StatusCode, Body: rb, MessageID: mid, Request: body}
	if env, err := wsf.ParseEnvelope(rb, xmlsec.Limits{MaxBytes: MaxSOAPAnswer}); err == nil {
		a.Fault, _ = env.Fault()
	}
	return a, nil
}

func (e *Env) wsfHTTP() (*http.Client, error) {
	tr, err := e.transport()
	if err != nil {
		return nil, err
	}
	tr.TLSClientConfig.Certificates = []tls.Certificate{{Certificate: [][]byte{e.WSC.Cert.Raw}, PrivateKey: e.WSC.Key, Leaf: e.WSC.Cert}}
	return &http.Client{Transport: tr, Timeout: time.Minute}, nil
}

// verifyWSF verifies a success answer as a WSC does (wsf/client): the
// target's signature by its metadata key, coverage, Timestamp, RelatesTo.
func (e *Env) verifyWSF(ctx context.Context, a *wsfAnswer) (*client.Result, error) {
	s, err := xsd.Default()
	if err != nil {
		return nil, err
	}
	hc, err := e.wsfHTTP()
	if err != nil {
		return nil, err
	}
	c, err := client.New(client.Config{EntityID: e.WSC.EntityID, Key: e.WSC.Key, Certificate: e.WSC.Cert,
		Directory: wsf.StaticDirectory{e.WSF.EntityID: wsf.NewPeer(e.WSF.EntityID, e.WSF.Keys...)},
		HTTP:      hc, Schema: s, Now: e.Now, Rand: e.Rand})
	if err != nil {
		return nil, err
	}
	epr := &wsf.EPR{Address: e.WSF.Address, Metadata: &wsf.EPRMetadata{ProviderID: e.WSF.EntityID, Framework: wsf.FrameworkVersion,
		SecurityContexts: []wsf.SecurityContext{{Mechanisms: []string{string(wsf.ClientTLSSAMLV2)}}}}}
	return c.VerifyResponse(ctx, a.Body, a.MessageID, epr)
}

// WSFTargetFromMetadata returns the WSP or DS of the metadata t, reached
// at address for action: its keys are the signing keys of every role its
// EntityDescriptor has. payload is a request body the target serves; its
// variant 1 is the same body with one text value changed (alterText), which
// the replay case needs to differ from variant 0.
func WSFTargetFromMetadata(t *Target, address, action string, payload []byte) (*WSFTarget, error) {
	doc, err := xmlsec.Parse(payload, xmlsec.Limits{})
	if err != nil {
		return nil, fmt.Errorf("conformance: payload: %w", err)
	}
	root := doc.Root()
	if err := alterText(root.Copy()); err != nil {
		return nil, fmt.Errorf("conformance: payload: %w", err)
	}
	keys := signingKeys(t)
	if len(keys) == 0 {
		return nil, fmt.Errorf("conformance: metadata %s lists no signing key", t.Source)
	}
	return &WSFTarget{EntityID: t.Entity.EntityID, Keys: keys, Address: address, Action: action,
		Payload: func(variant int) *etree.Element {
			el := root.Copy()
			if variant != 0 {
				alterText(el)
			}
			return el
		}}, nil
}

// LoadWSC reads the suite's WSC identity and token-issuer identity from PEM
// bundles (each a private key and its certificate).
func LoadWSC(entityID string, wscPEM []byte, issuerID string, issuerPEM []byte) (*WSC, error) {
	k, c, err := parseKeyCert(wscPEM)
	if err != nil {
		return nil, fmt.Errorf("conformance: WSC key: %w", err)
	}
	ik, ic, err := parseKeyCert(issuerPEM)
	if err != nil {
		return nil, fmt.Errorf("conformance: issuer key: %w", err)
	}
	return &WSC{EntityID: entityID, Key: k, Cert: c, IssuerID: issuerID, IssuerKey: ik, IssuerCert: ic}, nil
}
