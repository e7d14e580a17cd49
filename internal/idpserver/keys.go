package idpserver

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"

	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/saml/md"
)

// keys are the parsed files of a configuration.
type keys struct {
	tls, cardTLS    tls.Certificate
	signing         crypto.Signer
	signingCerts    []*x509.Certificate
	encKey          crypto.Signer
	encCert         *x509.Certificate
	cardCA, softCA  *x509.Certificate
	crls            *crlFiles
	metadataSources []md.Source
	roots           *x509.CertPool // nil: the system's
	tickets         [][32]byte     // nil: Go's keys of this process
}

// loadKeys reads every file c names; every failure is reported at once.
func loadKeys(c *File) (*keys, error) {
	l := &keyfile.Loader{}
	k := &keys{tls: l.Pair("tls", c.TLS.Cert, c.TLS.Key), cardTLS: l.Pair("cardTLS", c.CardTLS.Cert, c.CardTLS.Key),
		signing: l.Key("signing.key", c.Signing.Key), signingCerts: []*x509.Certificate{l.Cert("signing.cert", c.Signing.Cert)}}
	if c.CardCA != "" {
		k.cardCA = l.Cert("cardCA", c.CardCA)
	}
	if c.RolloverCert != "" {
		k.signingCerts = append(k.signingCerts, l.Cert("rolloverCert", c.RolloverCert))
	}
	if c.Encryption.Key != "" {
		k.encKey, k.encCert = l.Key("encryption.key", c.Encryption.Key), l.Cert("encryption.cert", c.Encryption.Cert)
		l.Decrypter("encryption", k.encKey, k.encCert)
	}
	if c.SoftCA != "" {
		k.softCA = l.Cert("softCA", c.SoftCA)
	}
	var err error
	if k.crls, err = newCRLFiles(c.CardCRL, k.cardCA, c.SoftCRL, k.softCA); err != nil {
		l.Add(err)
	}
	if c.TLSTicketKeys != "" {
		if k.tickets, err = readTicketKeys(c.TLSTicketKeys); err != nil {
			l.Add(fmt.Errorf("tlsTicketKeys %s: %w", c.TLSTicketKeys, err))
		}
	}
	k.metadataSources = rolekit.Sources(l, c.Metadata)
	k.roots = rolekit.Roots(l, c.TrustedRoots)
	return k, l.Err()
}
