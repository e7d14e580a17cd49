package wire

import (
	"crypto/x509"
	"sync"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Certificate reads a ds:X509Certificate: base64 text (xmlsec.DecodeBase64,
// which allows the line breaks signers insert) holding one DER certificate.
// The certificate returned may be shared with other callers that read the
// same DER bytes (parsed, see certs): it must not be changed.
func Certificate(el *etree.Element) (*x509.Certificate, error) {
	s, err := Text(el)
	if err != nil {
		return nil, err
	}
	der, err := xmlsec.DecodeBase64(s)
	if err != nil {
		return nil, err
	}
	if c := certs.get(der); c != nil {
		return c, nil
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, xmlsec.Wrap(xmlsec.KindMalformed, err, "ds:X509Certificate")
	}
	certs.put(der, cert)
	return cert, nil
}

// certs keeps the certificates parsed last, by their exact DER bytes: a
// holder-of-key token carries its WSC's certificate in every call of the
// session, and parsing it again was a tenth of the token's checks above
// their signatures. Parsing is a function of the bytes, so the cached
// value is what parsing them again would give. Only certificates that
// parsed are kept; the set is bounded (maxCerts) and starts again when
// full.
var certs = certCache{m: map[string]*x509.Certificate{}}

const maxCerts = 1024

type certCache struct {
	mu sync.Mutex
	m  map[string]*x509.Certificate
}

func (c *certCache) get(der []byte) *x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[string(der)]
}

func (c *certCache) put(der []byte, cert *x509.Certificate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCerts {
		clear(c.m)
	}
	c.m[string(der)] = cert
}
