package saml

import (
	"crypto"
	"crypto/x509"
	"time"

	"github.com/beevik/etree"
)

// Assertion is a saml:Assertion (SAML Core §2.3.3). Only the parts Renkei
// issues and relies on are modelled; Advice and other statement types are
// not read.
type Assertion struct {
	ID                  string
	IssueInstant        time.Time
	Issuer              Issuer
	Subject             *Subject
	Conditions          *Conditions
	AuthnStatements     []AuthnStatement
	AttributeStatements []AttributeStatement
}

// Issuer is a saml:Issuer (SAML Core §2.2.5): an entity ID unless Format
// says otherwise.
type Issuer struct {
	Value           string
	Format          string
	NameQualifier   string
	SPNameQualifier string
}

// NameID is a saml:NameID (SAML Core §2.2.3).
type NameID struct {
	Value           string
	Format          string
	NameQualifier   string
	SPNameQualifier string
	SPProvidedID    string
}

// EncryptedID is a saml:EncryptedID (SAML Core §2.2.4) kept in its
// encrypted form: the element itself, holding xenc:EncryptedData and any
// xenc:EncryptedKey. Only the intended recipient can decrypt it.
type EncryptedID struct {
	Element *etree.Element
}

// Subject is a saml:Subject (SAML Core §2.4.1) identified by a NameID or an
// EncryptedID (at most one of them).
type Subject struct {
	NameID        *NameID
	EncryptedID   *EncryptedID
	Confirmations []SubjectConfirmation
}

// SubjectConfirmation is a saml:SubjectConfirmation (SAML Core §2.4.1.1).
type SubjectConfirmation struct {
	Method string
	NameID *NameID
	Data   *SubjectConfirmationData
}

// SubjectConfirmationData is a saml:SubjectConfirmationData (SAML Core
// §2.4.1.2). KeyInfos is set for the KeyInfoConfirmationDataType of a
// holder-of-key confirmation (§2.4.1.3).
type SubjectConfirmationData struct {
	NotBefore    time.Time
	NotOnOrAfter time.Time
	Recipient    string
	InResponseTo string
	Address      string
	KeyInfos     []KeyInfo
}

// KeyInfo is a ds:KeyInfo reduced to what confirms a key: the certificates
// of its ds:X509Data. On decoding, other KeyInfo content is not read.
type KeyInfo struct {
	Certificates []*x509.Certificate
}

// Keys returns the public keys of the KeyInfo.
func (k KeyInfo) Keys() []crypto.PublicKey {
	out := make([]crypto.PublicKey, 0, len(k.Certificates))
	for _, c := range k.Certificates {
		out = append(out, c.PublicKey)
	}
	return out
}

// Conditions is a saml:Conditions (SAML Core §2.5.1).
type Conditions struct {
	NotBefore            time.Time
	NotOnOrAfter         time.Time
	AudienceRestrictions []AudienceRestriction
	OneTimeUse           bool
}

// AudienceRestriction is a saml:AudienceRestriction (SAML Core §2.5.1.4):
// it is satisfied when one of its Audiences names the relying party.
type AudienceRestriction struct {
	Audiences []string
}

// AuthnStatement is a saml:AuthnStatement (SAML Core §2.7.2).
type AuthnStatement struct {
	AuthnInstant        time.Time
	SessionIndex        string
	SessionNotOnOrAfter time.Time
	ClassRef            string
}

// AttributeStatement is a saml:AttributeStatement (SAML Core §2.7.3).
type AttributeStatement struct {
	Attributes []Attribute
}

// Attribute is a saml:Attribute (SAML Core §2.7.3.1).
type Attribute struct {
	Name         string
	NameFormat   string
	FriendlyName string
	Values       []AttributeValue
}

// AttributeValue is a saml:AttributeValue: text, or element content such as
// the wsa:EndpointReference of an ID-WSF bootstrap, with its xsi:type when
// one is given.
type AttributeValue struct {
	Text     string
	Elements []*etree.Element
	XSIType  string
}

// Attribute returns the first attribute named name in any attribute
// statement; name is matched alone, whatever the NameFormat (IDWSF2 §11
// item 8).
func (a *Assertion) Attribute(name string) (Attribute, bool) {
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if at.Name == name {
				return at, true
			}
		}
	}
	return Attribute{}, false
}
