package idpserver

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// loader reads the files a configuration names and collects every
// failure, so that the operator sees them all at once.
type loader struct{ errs []error }

func (l *loader) fail(name string, err error) {
	l.errs = append(l.errs, fmt.Errorf("%s: %w", name, err))
}

func (l *loader) cert(name, path string) *x509.Certificate {
	c, err := keyfile.ReadCert(path)
	if err != nil {
		l.fail(name, err)
	}
	return c
}

func (l *loader) key(name, path string) crypto.Signer {
	k, err := keyfile.ReadKey(path)
	if err != nil {
		l.fail(name, err)
	}
	return k
}

// decrypter requires the encryption key to decrypt (RSA: XML Encryption's
// key transport) and to be the key of the certificate the metadata
// publishes, or SPs would encrypt for a key the IdP cannot use.
func (l *loader) decrypter(name string, key crypto.Signer, cert *x509.Certificate) {
	if key == nil || cert == nil {
		return // already reported
	}
	if _, ok := key.(crypto.Decrypter); !ok {
		l.fail(name+".key", fmt.Errorf("a %T cannot decrypt; XML Encryption needs an RSA key", key))
		return
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		l.fail(name+".cert", errors.New("is not the certificate of encryption.key"))
	}
}

func (l *loader) pair(name string, kp KeyPair) tls.Certificate {
	c, err := tls.LoadX509KeyPair(kp.Cert, kp.Key)
	if err != nil {
		l.fail(name, err)
	}
	return c
}

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
}

// loadKeys reads every file c names; every failure is reported at once.
func loadKeys(c *File) (*keys, error) {
	l := &loader{}
	k := &keys{tls: l.pair("tls", c.TLS), cardTLS: l.pair("cardTLS", c.CardTLS),
		signing: l.key("signing.key", c.Signing.Key), signingCerts: []*x509.Certificate{l.cert("signing.cert", c.Signing.Cert)},
		cardCA: l.cert("cardCA", c.CardCA)}
	if c.RolloverCert != "" {
		k.signingCerts = append(k.signingCerts, l.cert("rolloverCert", c.RolloverCert))
	}
	if c.Encryption.Key != "" {
		k.encKey, k.encCert = l.key("encryption.key", c.Encryption.Key), l.cert("encryption.cert", c.Encryption.Cert)
		l.decrypter("encryption", k.encKey, k.encCert)
	}
	if c.SoftCA != "" {
		k.softCA = l.cert("softCA", c.SoftCA)
	}
	var err error
	if k.crls, err = newCRLFiles(c.CardCRL, k.cardCA, c.SoftCRL, k.softCA); err != nil {
		l.errs = append(l.errs, err)
	}
	for i, m := range c.Metadata {
		src := md.Source{Location: m.Location, Unsigned: m.Unsigned}
		if m.OperatorCert != "" {
			src.Trust = xmlsec.NewTrustSet([]*x509.Certificate{l.cert(fmt.Sprintf("metadata[%d].operatorCert", i), m.OperatorCert)})
		}
		k.metadataSources = append(k.metadataSources, src)
	}
	return k, errors.Join(l.errs...)
}
