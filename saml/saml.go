// Package saml is Renkei's SAML 2.0 wire package: the assertion types
// (Assertion, Issuer, Subject, NameID, EncryptedID, Conditions,
// AudienceRestriction, SubjectConfirmation with holder-of-key KeyInfo,
// AuthnStatement, AttributeStatement) that the IdP issues, the Discovery
// Service mints as ID-WSF tokens and every relying party checks.
//
// Types encode to etree elements with Element. They are decoded only from
// an element whose enveloped signature has been verified (VerifyAssertion):
// nothing here reads an assertion that no trusted key has signed. Failures
// are typed: *Error with a Kind, matched with errors.Is against the
// sentinels below, or *xmlsec.Error for XML and signature failures. The
// package holds no storage and no router.
package saml

// Namespaces of SAML 2.0 (SAML Core §1.2) and the others an assertion uses.
const (
	NS         = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSProtocol = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSDSig     = "http://www.w3.org/2000/09/xmldsig#"
	NSXEnc     = "http://www.w3.org/2001/04/xmlenc#"
	NSXSI      = "http://www.w3.org/2001/XMLSchema-instance"
)

// Version is the only SAML version accepted and emitted (Core §2.3.3).
const Version = "2.0"

// NameID formats (SAML Core §8.3).
const (
	NameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDEntity      = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
	NameIDPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
)

// Subject confirmation methods (SAML Profiles §3).
const (
	CMHolderOfKey   = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
	CMSenderVouches = "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches"
	CMBearer        = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// Authentication context classes Renkei issues (SAML AuthnContext §3.4).
const (
	ACSmartcardPKI = "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"
	ACX509         = "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"
	ACTLSClient    = "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient"
)

// Attribute name formats (SAML Core §8.2).
const (
	AttrNameFormatURI         = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	AttrNameFormatBasic       = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
	AttrNameFormatUnspecified = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
)

// KeyInfoConfirmationDataType is the xsi:type a holder-of-key
// SubjectConfirmationData carries (SAML Core §2.4.1.3.1).
const KeyInfoConfirmationDataType = "KeyInfoConfirmationDataType"
