package sp

import (
	"crypto/x509"
	"slices"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Metadata returns the SP's md:EntityDescriptor (SAML Metadata §2.4.4),
// for the operator's aggregate: the signing certificate, the encryption
// certificate with the md:EncryptionMethod algorithms the Decrypter
// accepts (AES-GCM and RSA-OAEP by default), the SingleLogoutService for
// HTTP-Redirect and, when configured, SOAP, the persistent NameID format,
// AuthnRequestsSigned and WantAssertionsSigned, the
// AssertionConsumerServices (HTTP-POST, the default, and PAOS for ECP when
// configured), and an
// AttributeConsumingService asking for the ID-WSF discovery bootstrap
// (md.DiscoveryEPRAttribute), so that the IdP adds it, encrypted.
func (s *SP) Metadata() *md.EntityDescriptor {
	c := s.cfg
	return s.descriptor(c)
}

// Descriptor is the metadata an SP of cfg would have (SP.Metadata),
// without the checks of New: an operator, or a test federation, lists the
// SP in the aggregate before the SP can start, as it refuses to start
// unless the aggregate lists it. Only the entityID, the endpoints, the
// certificates, the Decrypter's algorithms and Names are read.
func Descriptor(cfg Config) *md.EntityDescriptor {
	s := &SP{cfg: cfg}
	if cfg.Decrypter != nil {
		s.decrypter = *cfg.Decrypter
	}
	return s.descriptor(cfg)
}

func (s *SP) descriptor(c Config) *md.EntityDescriptor {
	yes := true
	d := &md.SPSSODescriptor{
		SSO: md.SSO{
			Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}, Keys: []md.KeyDescriptor{
				{Use: md.UseSigning, Certificates: []*x509.Certificate{c.Certificate}},
				{Use: md.UseEncryption, Certificates: []*x509.Certificate{c.EncryptionCertificate}, EncryptionMethods: s.encryptionMethods()},
			}},
			NameIDFormats: []string{saml.NameIDPersistent},
		},
		AuthnRequestsSigned:  true,
		WantAssertionsSigned: true,
		AttributeConsuming: []md.AttributeConsumingService{{IsDefault: &yes, ServiceNames: s.names(),
			Requested: []md.RequestedAttribute{{Attribute: md.Attribute{Name: md.DiscoveryEPRAttribute, NameFormat: saml.AttrNameFormatURI}}}}},
	}
	if c.SLOURL != "" {
		d.SingleLogout = append(d.SingleLogout, md.Endpoint{Binding: samlp.BindingHTTPRedirect, Location: c.SLOURL})
	}
	if c.SOAPSLOURL != "" {
		d.SingleLogout = append(d.SingleLogout, md.Endpoint{Binding: samlp.BindingSOAP, Location: c.SOAPSLOURL})
	}
	for _, acs := range []struct{ binding, url string }{{samlp.BindingHTTPPOST, c.ACSURL}, {samlp.BindingPAOS, c.ECPACSURL}} {
		if acs.url == "" {
			continue
		}
		ep := md.IndexedEndpoint{Endpoint: md.Endpoint{Binding: acs.binding, Location: acs.url}, Index: uint16(len(d.AssertionConsumer))}
		if len(d.AssertionConsumer) == 0 {
			ep.IsDefault = &yes
		}
		d.AssertionConsumer = append(d.AssertionConsumer, ep)
	}
	return &md.EntityDescriptor{EntityID: c.EntityID, SPSSO: []*md.SPSSODescriptor{d}}
}

// encryptionMethods lists what the Decrypter accepts, block ciphers first:
// an IdP's xmlenc.Choose then picks among them. ZXID's misspelt GCM URI is
// accepted from ZXID only and never advertised.
func (s *SP) encryptionMethods() []string {
	data := s.decrypter.DataAlgorithms
	if data == nil {
		data = xmlenc.DefaultDataAlgorithms()
	}
	kt := s.decrypter.KeyTransports
	if kt == nil {
		kt = xmlenc.DefaultKeyTransports()
	}
	out := slices.Concat(data, kt)
	return slices.DeleteFunc(out, func(m string) bool { return m == xmlenc.ZXIDAES256GCM })
}

func (s *SP) names() []md.Localized {
	if len(s.cfg.Names) > 0 {
		return slices.Clone(s.cfg.Names)
	}
	return []md.Localized{{Lang: "en", Value: s.cfg.EntityID}}
}
