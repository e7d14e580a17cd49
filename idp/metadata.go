package idp

import (
	"crypto/x509"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Metadata returns the IdP's own md:EntityDescriptor at now (SAML
// Metadata §2.4.3; SAML2.md §11): every signing certificate (two during a
// rollover), the encryption certificate with the md:EncryptionMethod
// algorithms the IdP decrypts, the SingleSignOnService endpoints for
// HTTP-Redirect and HTTP-POST at SSOURL and SOAP (ECP) at ECPURL, the
// ArtifactResolutionService when the HTTP-Artifact binding is on, the
// persistent and transient NameID formats, WantAuthnRequestsSigned,
// and a validUntil and cacheDuration.
func (s *SSO) Metadata(now time.Time) *md.EntityDescriptor {
	d := &md.IDPSSODescriptor{
		SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}, Keys: s.keyDescriptors()},
			NameIDFormats: []string{saml.NameIDPersistent, saml.NameIDTransient}},
		WantAuthnRequestsSigned: s.cfg.WantAuthnRequestsSigned,
		SingleSignOn: []md.Endpoint{{Binding: samlp.BindingHTTPRedirect, Location: s.cfg.SSOURL},
			{Binding: samlp.BindingHTTPPOST, Location: s.cfg.SSOURL}, {Binding: samlp.BindingSOAP, Location: s.cfg.ECPURL}},
	}
	d.SingleLogout = s.sloEndpoints()
	if u := s.cfg.Artifact.URL; u != "" { // SAML Bindings §3.6.4: the index the artifacts carry
		yes := true
		d.ArtifactResolution = []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: samlp.BindingSOAP, Location: u},
			Index: s.cfg.Artifact.Index, IsDefault: &yes}}
	}
	if u := s.cfg.NIM.URL; u != "" { // SAML Profiles §4.5: SOAP and HTTP-Redirect
		d.ManageNameID = []md.Endpoint{{Binding: samlp.BindingSOAP, Location: u}, {Binding: samlp.BindingHTTPRedirect, Location: u}}
	}
	if u := s.cfg.NameIDMapping.URL; u != "" { // SAML Metadata §2.4.3, SAML Profiles §4.8
		d.NameIDMapping = []md.Endpoint{{Binding: samlp.BindingSOAP, Location: u}}
	}
	e := &md.EntityDescriptor{EntityID: s.p.cfg.EntityID, ID: "_" + metadataID(now),
		ValidUntil: now.Add(s.cfg.MetadataValidity), CacheDuration: s.cfg.MetadataCache, IDPSSO: []*md.IDPSSODescriptor{d}}
	if aa := s.attributeAuthority(); aa != nil {
		e.Roles = append(e.Roles, aa)
	}
	return e
}

// attributeAuthority is the md:AttributeAuthorityDescriptor of the
// AttributeService (SAML Metadata §2.4.7; SAML Profiles §6.3: SOAP), with
// the IdP's keys and the NameID formats a query may name; nil when the
// service is off.
func (s *SSO) attributeAuthority() *md.RoleDescriptor {
	u := s.cfg.AttributeServiceURL
	if u == "" {
		return nil
	}
	svc := etree.NewElement("md:AttributeService")
	svc.CreateAttr("Binding", samlp.BindingSOAP)
	svc.CreateAttr("Location", u)
	content := []*etree.Element{svc}
	for _, f := range []string{saml.NameIDPersistent, saml.NameIDTransient} {
		n := etree.NewElement("md:NameIDFormat")
		n.SetText(f)
		content = append(content, n)
	}
	return &md.RoleDescriptor{Local: "AttributeAuthorityDescriptor", Content: content,
		Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}, Keys: s.keyDescriptors()}}
}

// SignedMetadata returns Metadata signed with the IdP's signing key and
// checked against the metadata schema.
func (s *SSO) SignedMetadata(now time.Time) (*etree.Element, error) {
	el, err := md.Sign(s.Metadata(now), s.signer())
	if err != nil {
		return nil, Wrap(CodeInternal, err, "sign metadata")
	}
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return nil, Wrap(CodeInternal, err, "own metadata is not schema-valid")
	}
	return el, nil
}

func (s *SSO) keyDescriptors() []md.KeyDescriptor {
	var keys []md.KeyDescriptor
	for _, c := range s.p.cfg.SigningCerts {
		keys = append(keys, md.KeyDescriptor{Use: md.UseSigning, Certificates: []*x509.Certificate{c}})
	}
	if s.cfg.EncryptionCert != nil {
		keys = append(keys, md.KeyDescriptor{Use: md.UseEncryption, Certificates: []*x509.Certificate{s.cfg.EncryptionCert},
			EncryptionMethods: []string{xmlenc.AES256GCM, xmlenc.AES128GCM, xmlenc.RSAOAEPMGF1P}})
	}
	return keys
}

// metadataID is the document ID: the instant it was made, so that two
// nodes serving the same keys at the same second agree.
func metadataID(now time.Time) string {
	return "md-" + now.UTC().Format("20060102T150405Z")
}
