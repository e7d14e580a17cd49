package secmech

import (
	"context"
	"crypto"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Invocation is who a verified request speaks for and by which mechanism.
type Invocation struct {
	Mechanism wsf.Mechanism
	// Token is the invocation token; nil under ClientTLS:X509, where the
	// sender itself is the invoker.
	Token *Token
	// Target is the sb:TargetIdentity token, when one was sent.
	Target *Token
}

// VerifyToken applies the token rules of IDWSF2 §3.4 to a message that
// passed VerifyMessage: it validates the token (issuer signature and
// trust, audience, validity, subject), finds the mechanism the message
// satisfies from the token's confirmation and the transport, refuses a
// mechanism the receiver does not accept or the sender's profile does not
// allow (InappropriateCredentials), and validates sb:TargetIdentity
// (TargetIdentityNotValid).
func (c *Checker) VerifyToken(ctx context.Context, in *Inbound, p *Protected, now time.Time) (*Invocation, error) {
	if !in.TLS {
		return nil, wsf.Errorf(wsf.InappropriateCredentials, "every implemented mechanism needs TLS")
	}
	inv := &Invocation{}
	var err error
	if p.Token == nil {
		inv.Mechanism, err = c.x509(in, p)
	} else {
		inv.Mechanism, inv.Token, err = c.withToken(ctx, in, p, now)
	}
	if err != nil {
		return nil, err
	}
	if !accepts(in.Mechanisms, inv.Mechanism) {
		return nil, wsf.Errorf(wsf.InappropriateCredentials, "mechanism %s not accepted here", inv.Mechanism)
	}
	if p.Timestamp == nil && inv.Mechanism != wsf.TLSBearer {
		// VerifyMessage let a message without Timestamp through for the
		// unsigned Bearer opt-in alone (IDWSF2 §11 item 19).
		return nil, wsf.Errorf(wsf.StaleMsg, "no wsu:Timestamp under %s", inv.Mechanism)
	}
	inv.Target, err = c.target(ctx, p, now)
	return inv, err
}

// x509 checks ClientTLS:X509: the sender signed with its metadata key
// (VerifyMessage verified against those keys only) over a connection whose
// client key is also one of the sender's.
func (c *Checker) x509(in *Inbound, p *Protected) (wsf.Mechanism, error) {
	if !p.Signed {
		return "", xmlsec.Errorf(xmlsec.KindNoSignature, "no token and no signature")
	}
	if err := clientKeyOfSender(in); err != nil {
		return "", err
	}
	return wsf.ClientTLSX509, nil
}

func clientKeyOfSender(in *Inbound) error {
	if in.ClientCert == nil {
		return wsf.Errorf(wsf.InappropriateCredentials, "no TLS client certificate")
	}
	if !in.Sender.HasKey(in.ClientCert.PublicKey) {
		return xmlsec.Errorf(xmlsec.KindUntrustedKey, "TLS client key is not a metadata key of %s", in.Sender.EntityID)
	}
	return nil
}

// withToken validates the token and derives the mechanism from how it is
// confirmed (IDWSF2 §3.4 item 7).
func (c *Checker) withToken(ctx context.Context, in *Inbound, p *Protected, now time.Time) (wsf.Mechanism, *Token, error) {
	bearerOK := in.Sender.Profile.AllowBearer && accepts(in.Mechanisms, wsf.TLSBearer)
	tok, err := c.Tokens.Check(ctx, p.Token, now, bearerOK)
	if err != nil {
		return "", nil, err
	}
	m, err := c.confirm(in, p, tok, now)
	if err != nil {
		return "", nil, err
	}
	if p.tokenUnreferenced && (m != wsf.TLSSAMLV2 && m != wsf.ClientTLSSAMLV2 || !keyIn(p.SigningKey, tok.HolderOfKeys(now, c.Tokens.Skew))) {
		// UnreferencedToken holds only where the signature is by the key
		// the token confirms (wsf.Profile).
		return "", nil, xmlsec.Errorf(xmlsec.KindReference, "token not covered by the signature, and not confirming the signing key")
	}
	if m != wsf.TLSBearer && wire.Is(p.Token, wsf.NSSAML, "EncryptedAssertion") {
		return "", nil, wsf.Errorf(wsf.InappropriateCredentials, "EncryptedAssertion only under Bearer")
	}
	return m, tok, nil
}

// confirm decides the mechanism: holder-of-key proven by the message
// signature (ClientTLS:SAMLV2, with the TLS client key equal to the
// signing key; TLS:SAMLV2 without client TLS), holder-of-key proven by the
// TLS client key (ClientTLS:peerSAMLV2), or bearer (TLS:Bearer, only for a
// peer whose profile allows it).
func (c *Checker) confirm(in *Inbound, p *Protected, tok *Token, now time.Time) (wsf.Mechanism, error) {
	hok := tok.HolderOfKeys(now, c.Tokens.Skew)
	switch {
	case p.Signed && keyIn(p.SigningKey, hok):
		return signedHolderOfKey(in, p.SigningKey)
	case in.ClientCert != nil && keyIn(in.ClientCert.PublicKey, hok):
		return wsf.ClientTLSPeerSAMLV2, clientKeyOfSender(in)
	case len(hok) > 0:
		return "", saml.Errorf(saml.KindConfirmation, "holder-of-key token confirms neither the signing nor the TLS client key")
	case tok.IsBearer(now, c.Tokens.Skew, in.Sender.Profile.BearerWithoutConfirmation):
		return bearer(in, p)
	}
	return "", saml.Errorf(saml.KindConfirmation, "no usable subject confirmation")
}

func signedHolderOfKey(in *Inbound, signing crypto.PublicKey) (wsf.Mechanism, error) {
	if in.ClientCert == nil {
		return wsf.TLSSAMLV2, nil
	}
	if !keyIn(in.ClientCert.PublicKey, []crypto.PublicKey{signing}) {
		return "", saml.Errorf(saml.KindConfirmation, "TLS client key differs from the holder-of-key key")
	}
	return wsf.ClientTLSSAMLV2, nil
}

// bearer accepts TLS:Bearer only from a peer whose profile enables it;
// unsigned only under the profile's UnsignedBearer opt-in, whatever
// client certificate came with it; and a client certificate, when one is
// shown, only when it is the sender's metadata key.
func bearer(in *Inbound, p *Protected) (wsf.Mechanism, error) {
	switch {
	case !in.Sender.Profile.AllowBearer:
		return "", wsf.Errorf(wsf.InappropriateCredentials, "Bearer not enabled for %s", in.Sender.EntityID)
	case !p.Signed && !unsignedBearerOptIn(in):
		return "", wsf.Errorf(wsf.InappropriateCredentials, "unsigned Bearer message from %s, whose profile does not opt in to it", in.Sender.EntityID)
	case in.ClientCert != nil && !in.ClientKeyIsSenders():
		return "", wsf.Errorf(wsf.InappropriateCredentials, "TLS client key is not a metadata key of %s", in.Sender.EntityID)
	}
	return wsf.TLSBearer, nil
}

// target validates sb:TargetIdentity's token like an invocation token,
// without confirmation; any failure is TargetIdentityNotValid.
func (c *Checker) target(ctx context.Context, p *Protected, now time.Time) (*Token, error) {
	ti := p.Header.TargetIdentity
	if ti == nil {
		return nil, nil
	}
	if ti.Token == nil {
		return nil, wsf.Errorf(wsf.TargetIdentityNotValid, "empty sb:TargetIdentity")
	}
	tok, err := c.Tokens.Check(ctx, ti.Token, now, true)
	if err != nil {
		return nil, wsf.Wrap(wsf.TargetIdentityNotValid, err, "")
	}
	return tok, nil
}
