package idp

import (
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// signer is the one constructor of the IdP's signers: every XML signature
// the IdP makes (assertions, responses, requests, metadata) comes from it,
// and redirectSigner takes its key and randomness from it. It signs with
// the first signing key, whose certificate goes into KeyInfo, and the
// configured Rand, with the default algorithms for the key (rsa-sha256,
// ecdsa-sha256 or -sha384; sha256 digests).
func (p *IdP) signer() *dsig.Signer {
	s := &dsig.Signer{Key: p.cfg.SigningKey, Certificates: p.cfg.SigningCerts[:1], Rand: p.cfg.Rand}
	if faultOn(FaultSignSHA1) {
		s.SignatureMethod, s.DigestMethod = xmlsec.RSASHA1, xmlsec.DigestSHA1
		s.Policy.AllowSHA1 = true
	}
	return s
}

// signer is the IdP's signer, for the SSO engine's messages.
func (s *SSO) signer() *dsig.Signer { return s.p.signer() }

// redirectSigner signs the query of the HTTP-Redirect binding (SAML
// Bindings §3.4.4.1) with signer's key and randomness, and the default
// SigAlg for the key.
func (p *IdP) redirectSigner() *binding.RedirectSigner {
	s := p.signer()
	return &binding.RedirectSigner{Key: s.Key, Rand: s.Rand}
}
