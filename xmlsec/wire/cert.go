package wire

import (
	"crypto/x509"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Certificate reads a ds:X509Certificate: base64 text (xmlsec.DecodeBase64,
// which allows the line breaks signers insert) holding one DER certificate.
func Certificate(el *etree.Element) (*x509.Certificate, error) {
	s, err := Text(el)
	if err != nil {
		return nil, err
	}
	der, err := xmlsec.DecodeBase64(s)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, xmlsec.Wrap(xmlsec.KindMalformed, err, "ds:X509Certificate")
	}
	return cert, nil
}
