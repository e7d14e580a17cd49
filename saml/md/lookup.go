package md

import (
	"crypto/rsa"
	"crypto/x509"
	"slices"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// IDP returns the entity's first md:IDPSSODescriptor that supports SAML
// 2.0 (protocolSupportEnumeration, SAML Metadata §2.4.1), or ErrNotFound.
func (e *EntityDescriptor) IDP() (*IDPSSODescriptor, error) {
	for _, d := range e.IDPSSO {
		if d.Supports(ProtocolSAML2) {
			return d, nil
		}
	}
	return nil, Errorf(KindNotFound, "%s has no SAML 2.0 IDPSSODescriptor", e.EntityID)
}

// SP returns the entity's first md:SPSSODescriptor that supports SAML 2.0,
// or ErrNotFound.
func (e *EntityDescriptor) SP() (*SPSSODescriptor, error) {
	for _, d := range e.SPSSO {
		if d.Supports(ProtocolSAML2) {
			return d, nil
		}
	}
	return nil, Errorf(KindNotFound, "%s has no SAML 2.0 SPSSODescriptor", e.EntityID)
}

// OtherRole returns the entity's first other role descriptor whose
// xsi:type is {typeNS}typeLocal, or ErrNotFound.
func (e *EntityDescriptor) OtherRole(typeNS, typeLocal string) (*RoleDescriptor, error) {
	for _, d := range e.Roles {
		if d.TypeNS == typeNS && d.TypeLocal == typeLocal {
			return d, nil
		}
	}
	return nil, Errorf(KindNotFound, "%s has no role of type {%s}%s", e.EntityID, typeNS, typeLocal)
}

// Supports reports whether the role lists protocol in its
// protocolSupportEnumeration.
func (r *Role) Supports(protocol string) bool {
	return slices.Contains(r.ProtocolSupport, protocol)
}

// SigningCertificates returns the certificates of every KeyDescriptor with
// use="signing" or no use (SAML Metadata §2.4.1.1), in document order: all
// of them are trusted, so that a key rollover needs no flag day.
func (r *Role) SigningCertificates() []*x509.Certificate {
	var out []*x509.Certificate
	for _, k := range r.Keys {
		if k.Use == "" || k.Use == UseSigning {
			out = append(out, k.Certificates...)
		}
	}
	return out
}

// TrustSet returns the role's signing certificates as a trust set for a
// dsig.Verifier or wss verifier (SAML2.md §9.1: KeyInfo in a message is
// not trusted, the key comes from metadata).
func (r *Role) TrustSet() *xmlsec.TrustSet {
	return xmlsec.NewTrustSet(r.SigningCertificates())
}

// EncryptionRecipient returns what xmlenc needs to encrypt for this role
// (entityID is the role's entity): the first RSA certificate of a
// KeyDescriptor with use="encryption", else of one with no use (SAML2.md
// §10), with that KeyDescriptor's md:EncryptionMethod list. During a
// rollover the metadata lists the key to use first. No such key is
// ErrNoKey: the caller must not send anything that needs encryption.
func (r *Role) EncryptionRecipient(entityID string) (xmlenc.Recipient, error) {
	for _, use := range []string{UseEncryption, ""} {
		for _, k := range r.Keys {
			if k.Use != use {
				continue
			}
			for _, c := range k.Certificates {
				if _, ok := c.PublicKey.(*rsa.PublicKey); ok {
					return xmlenc.Recipient{EntityID: entityID, Cert: c, Methods: slices.Clone(k.EncryptionMethods)}, nil
				}
			}
		}
	}
	return xmlenc.Recipient{}, Errorf(KindNoKey, "%s lists no RSA encryption key", entityID)
}

// SingleLogoutService returns the first md:SingleLogoutService with the
// given binding, or ErrNoEndpoint.
func (s *SSO) SingleLogoutService(binding string) (*Endpoint, error) {
	return byBinding(s.SingleLogout, binding, "SingleLogoutService")
}

// ManageNameIDService returns the first md:ManageNameIDService with the
// given binding, or ErrNoEndpoint.
func (s *SSO) ManageNameIDService(binding string) (*Endpoint, error) {
	return byBinding(s.ManageNameID, binding, "ManageNameIDService")
}

// ArtifactResolutionService returns the md:ArtifactResolutionService with
// the given index, or ErrNoEndpoint.
func (s *SSO) ArtifactResolutionService(index uint16) (*IndexedEndpoint, error) {
	return byIndex(s.ArtifactResolution, index, "ArtifactResolutionService")
}

// SingleSignOnService returns the first md:SingleSignOnService with the
// given binding, or ErrNoEndpoint.
func (d *IDPSSODescriptor) SingleSignOnService(binding string) (*Endpoint, error) {
	return byBinding(d.SingleSignOn, binding, "SingleSignOnService")
}

func byBinding(eps []Endpoint, binding, what string) (*Endpoint, error) {
	for i := range eps {
		if eps[i].Binding == binding {
			return &eps[i], nil
		}
	}
	return nil, Errorf(KindNoEndpoint, "no %s for binding %s", what, binding)
}

func byIndex(eps []IndexedEndpoint, index uint16, what string) (*IndexedEndpoint, error) {
	for i := range eps {
		if eps[i].Index == index {
			return &eps[i], nil
		}
	}
	return nil, Errorf(KindNoEndpoint, "no %s with index %d", what, index)
}

// AssertionConsumerServiceByLocation returns the md:AssertionConsumerService
// whose Location is exactly location (no normalisation: SAML2.md §15 item 1,
// never send to an unlisted URL) and, when binding is not empty, whose
// Binding is binding. None is ErrNoEndpoint.
func (d *SPSSODescriptor) AssertionConsumerServiceByLocation(location, binding string) (*IndexedEndpoint, error) {
	for i := range d.AssertionConsumer {
		e := &d.AssertionConsumer[i]
		if e.Location == location && (binding == "" || e.Binding == binding) {
			return e, nil
		}
	}
	return nil, Errorf(KindNoEndpoint, "no AssertionConsumerService at %q for binding %q", location, binding)
}

// AssertionConsumerServiceByIndex returns the md:AssertionConsumerService
// with the given index (AuthnRequest AssertionConsumerServiceIndex), or
// ErrNoEndpoint.
func (d *SPSSODescriptor) AssertionConsumerServiceByIndex(index uint16) (*IndexedEndpoint, error) {
	return byIndex(d.AssertionConsumer, index, "AssertionConsumerService")
}

// DefaultAssertionConsumerService returns the SP's default
// md:AssertionConsumerService by the rule of SAML Metadata §2.2.3 (see
// DefaultEndpoint).
func (d *SPSSODescriptor) DefaultAssertionConsumerService() (*IndexedEndpoint, error) {
	return DefaultEndpoint(d.AssertionConsumer)
}

// DefaultEndpoint applies SAML Metadata §2.2.3: the default of a sequence
// of indexed endpoints is the first with isDefault true; failing that, the
// first without an isDefault attribute; failing that, the first. The order
// is the document's, not that of the index values. An empty sequence is
// ErrNoEndpoint.
func DefaultEndpoint(eps []IndexedEndpoint) (*IndexedEndpoint, error) {
	if len(eps) == 0 {
		return nil, Errorf(KindNoEndpoint, "no indexed endpoint")
	}
	for i := range eps {
		if eps[i].IsDefault != nil && *eps[i].IsDefault {
			return &eps[i], nil
		}
	}
	for i := range eps {
		if eps[i].IsDefault == nil {
			return &eps[i], nil
		}
	}
	return &eps[0], nil
}

// WantsDiscoveryBootstrap reports whether the SP asks for the ID-WSF
// discovery bootstrap. In Renkei this is defined as: one of the SP's
// md:AttributeConsumingService elements holds an md:RequestedAttribute
// whose Name is urn:liberty:disco:2006-08:DiscoveryEPR (any NameFormat,
// required or not). This is how ARCHITECTURE.md's "SPs whose metadata asks
// for urn:liberty:disco:2006-08:DiscoveryEPR" is read; the IdP sends the
// bootstrap attribute, encrypted, only to such SPs.
func (d *SPSSODescriptor) WantsDiscoveryBootstrap() bool {
	for _, s := range d.AttributeConsuming {
		for _, a := range s.Requested {
			if a.Name == DiscoveryEPRAttribute {
				return true
			}
		}
	}
	return false
}
