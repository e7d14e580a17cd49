package ra

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// IssueCard certifies pub, a key generated on or for card cardNumber, with
// the card-issuer CA: subject CN "Renkei card NUMBER" and serialNumber
// NUMBER, digitalSignature for TLS client authentication.
func (a *Authority) IssueCard(cardNumber string, pub crypto.PublicKey) (*x509.Certificate, error) {
	return a.IssueCardFor(cardNumber, pub, Holder{})
}

// Holder is what a card certificate may say of its holder beside the card
// number, as national identity and health-insurance cards do: the name as
// the subject's name attribute (X.520 2.5.4.41) and the date of birth in
// the subjectDirectoryAttributes extension (RFC 3739 §3.2.2, dateOfBirth
// at 12:00 GMT). The zero Holder adds nothing.
type Holder struct {
	Name      string
	BirthDate time.Time
}

var (
	oidName                       = asn1.ObjectIdentifier{2, 5, 4, 41}
	oidSubjectDirectoryAttributes = asn1.ObjectIdentifier{2, 5, 29, 9}
	oidDateOfBirth                = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 9, 1}
)

// attribute is the X.501 Attribute of subjectDirectoryAttributes.
type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

// apply writes h into the certificate template.
func (h Holder) apply(tmpl *x509.Certificate) error {
	if h.Name != "" {
		tmpl.Subject.ExtraNames = append(tmpl.Subject.ExtraNames, pkix.AttributeTypeAndValue{Type: oidName, Value: h.Name})
	}
	if h.BirthDate.IsZero() {
		return nil
	}
	y, m, d := h.BirthDate.Date()
	t, err := asn1.MarshalWithParams(time.Date(y, m, d, 12, 0, 0, 0, time.UTC), "generalized")
	if err != nil {
		return err
	}
	v, err := asn1.Marshal([]attribute{{Type: oidDateOfBirth, Values: []asn1.RawValue{{FullBytes: t}}}})
	if err != nil {
		return err
	}
	tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidSubjectDirectoryAttributes, Value: v})
	return nil
}

// IssueCardFor is IssueCard with what the certificate says of the holder.
func (a *Authority) IssueCardFor(cardNumber string, pub crypto.PublicKey, h Holder) (*x509.Certificate, error) {
	if cardNumber == "" {
		return nil, errors.New("ra: empty card number")
	}
	validity := a.cfg.CardValidity
	if validity == 0 {
		validity = 5 * 365 * 24 * time.Hour
	}
	now := a.cfg.now()
	tmpl := &x509.Certificate{
		SerialNumber: a.serial(),
		Subject: pkix.Name{CommonName: "Renkei card " + cardNumber, SerialNumber: cardNumber,
			Organization: []string{"Renkei"}},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(validity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if a.st.OCSPURL != "" {
		tmpl.OCSPServer = []string{a.st.OCSPURL}
	}
	if err := h.apply(tmpl); err != nil {
		return nil, err
	}
	cert, err := a.sign(tmpl, pub, a.card)
	if err != nil {
		return nil, err
	}
	a.st.Cards = append(a.st.Cards, CardRecord{CardNumber: cardNumber, Serial: cert.SerialNumber.String(), NotAfter: cert.NotAfter})
	return cert, a.save()
}

func (a *Authority) sign(tmpl *x509.Certificate, pub crypto.PublicKey, issuer ca) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(a.cfg.rand(), tmpl, issuer.cert, pub, issuer.key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// Revoke revokes every unrevoked certificate of cardNumber (RFC 5280 §5.3.1
// reason code, e.g. 1 keyCompromise, 4 superseded) and rewrites the CRL.
func (a *Authority) Revoke(cardNumber string, reason int) error {
	found := false
	for i := range a.st.Cards {
		c := &a.st.Cards[i]
		if c.CardNumber == cardNumber && c.RevokedAt.IsZero() {
			c.RevokedAt, c.Reason, found = a.cfg.now(), reason, true
		}
	}
	if !found {
		return fmt.Errorf("%w: %s has no unrevoked certificate", ErrUnknownCard, cardNumber)
	}
	if err := a.save(); err != nil {
		return err
	}
	_, err := a.WriteCRL()
	return err
}

// Reissue revokes the card's current certificates as superseded and
// certifies pub (the replacement card's key) for the same card number.
func (a *Authority) Reissue(cardNumber string, pub crypto.PublicKey) (*x509.Certificate, error) {
	if err := a.Revoke(cardNumber, 4); err != nil {
		return nil, err
	}
	return a.IssueCard(cardNumber, pub)
}

// WriteCRL signs the card-issuer CA's CRL (valid 7 days) and writes it.
func (a *Authority) WriteCRL() (*x509.RevocationList, error) {
	now := a.cfg.now()
	tmpl := &x509.RevocationList{Number: big.NewInt(a.st.CRLNumber), ThisUpdate: now, NextUpdate: now.AddDate(0, 0, 7)}
	for _, c := range a.st.Cards {
		if c.RevokedAt.IsZero() {
			continue
		}
		n, _ := new(big.Int).SetString(c.Serial, 10)
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: n, RevocationTime: c.RevokedAt, ReasonCode: c.Reason})
	}
	a.st.CRLNumber++
	der, err := x509.CreateRevocationList(a.cfg.rand(), tmpl, a.card.cert, a.card.key)
	if err != nil {
		return nil, err
	}
	if err := a.writePEM(CardCRL, "X509 CRL", der); err != nil {
		return nil, err
	}
	return x509.ParseRevocationList(der)
}

// IssueServer certifies a new P-256 key for role's TLS server, for
// dnsNames, with the service CA; it writes ROLE.crt and ROLE.key.
func (a *Authority) IssueServer(role string, dnsNames []string) (*x509.Certificate, crypto.Signer, error) {
	return a.IssueRole(role, "p256", dnsNames)
}

// IssueRole certifies a new key of type kt ("p256" or "rsa2048", see
// NewKey) for a role with the service CA: its TLS server and client key,
// and its XML signing and encryption key (an RSA key: XML Encryption's
// key transport here is RSA-OAEP). hosts are the DNS names and IP
// addresses the certificate names. It writes ROLE.crt and ROLE.key.
func (a *Authority) IssueRole(role, kt string, hosts []string) (*x509.Certificate, crypto.Signer, error) {
	key, err := NewKey(kt, a.cfg.rand())
	if err != nil {
		return nil, nil, err
	}
	now := a.cfg.now()
	tmpl := &x509.Certificate{
		SerialNumber: a.serial(), Subject: pkix.Name{CommonName: role, Organization: []string{"Renkei"}},
		NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(2, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if kt == "rsa2048" {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	cert, err := a.sign(tmpl, key.Public(), a.service)
	if err != nil {
		return nil, nil, err
	}
	if err := a.writePEM(role+".crt", "CERTIFICATE", cert.Raw); err != nil {
		return nil, nil, err
	}
	if err := a.writeKey(role+".key", key); err != nil {
		return nil, nil, err
	}
	return cert, key, a.save()
}

// IssueSoft makes the soft demo client certificate: a key and certificate
// from the service CA (not the card issuer, so it never counts as a card
// login), packed as PKCS#12 protected by password.
func (a *Authority) IssueSoft(name, password string) ([]byte, error) {
	key, err := NewKey("p256", a.cfg.rand())
	if err != nil {
		return nil, err
	}
	now := a.cfg.now()
	tmpl := &x509.Certificate{
		SerialNumber: a.serial(), Subject: pkix.Name{CommonName: name, Organization: []string{"Renkei demo"}},
		NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	cert, err := a.sign(tmpl, key.Public(), a.service)
	if err != nil {
		return nil, err
	}
	if err := a.save(); err != nil {
		return nil, err
	}
	return pkcs12.Modern2023.WithRand(a.cfg.rand()).Encode(key, cert, []*x509.Certificate{a.service.cert}, password)
}
