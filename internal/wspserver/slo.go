package wspserver

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// newSLO builds the SingleLogoutService: File.IdP's LogoutRequests,
// checked with its signing keys as the metadata lists them at the time,
// answered with the WSP's signing key, over the WSP's own store.
func (s *Server) newSLO(schema *xsd.Schema) (*wsp.SLO, error) {
	c, k := s.File, s.keys
	return wsp.NewSLO(wsp.SLOConfig{EntityID: c.EntityID, IdP: c.IdP, URL: s.sloURL, IdPKeys: s.idpKeys,
		Signer: &dsig.Signer{Key: k.Signing, Certificates: []*x509.Certificate{k.SigningCert}},
		Store:  s.Store, Schema: schema, Now: s.opts.Now})
}

// idpKeys returns the signing keys of the IdP's IDPSSODescriptor.
func (s *Server) idpKeys(_ context.Context, entityID string, now time.Time) (*xmlsec.TrustSet, error) {
	e, err := s.Metadata.Entity(entityID, now)
	if err != nil {
		return nil, err
	}
	d, err := e.IDP()
	if err != nil {
		return nil, err
	}
	return d.TrustSet(), nil
}

// checkSLOMetadata requires the metadata to list the IdP and, in the
// institution's SP role, a SOAP SingleLogoutService this WSP serves: the
// IdP sends its LogoutRequests where the metadata says. That is SLOURL,
// or, for a WSP of several nodes over one store (File.Endpoints), the
// SingleLogoutService beside any of the endpoints; its location is the
// Destination the engine accepts.
func (s *Server) checkSLOMetadata() []error {
	now := s.now()
	var errs []error
	if _, err := s.idpKeys(context.Background(), s.File.IdP, now); err != nil {
		errs = append(errs, fmt.Errorf("metadata does not list the IdP %s with an IDPSSODescriptor: %w", s.File.IdP, err))
	}
	e, err := s.Metadata.Entity(s.File.EntityID, now)
	if err != nil {
		return append(errs, fmt.Errorf("metadata does not list the WSP %s: %w", s.File.EntityID, err))
	}
	sp, err := e.SP()
	if err != nil {
		return append(errs, fmt.Errorf("metadata lists no SP role of %s for its SingleLogoutService: %w", s.File.EntityID, err))
	}
	ep, err := sp.SingleLogoutService(samlp.BindingSOAP)
	if err != nil || !slices.Contains(s.sloURLs(), ep.Location) {
		return append(errs, fmt.Errorf("metadata does not list %s as the SOAP SingleLogoutService of %s (%v)", s.SLOURL(), s.File.EntityID, err))
	}
	s.sloURL = ep.Location
	return errs
}

// sloURLs are the SingleLogoutService locations this WSP serves: its own,
// and the one beside each of File.Endpoints.
func (s *Server) sloURLs() []string {
	out := []string{s.SLOURL()}
	for _, e := range s.File.Endpoints {
		out = append(out, strings.TrimSuffix(e, PathSOAP)+PathSLO)
	}
	return out
}

// DeskRole is the SP role of an institution's entity beside its WSP role
// (SAML Metadata §2.4.4): the reception desk's terminal is an ECP SP whose
// AssertionConsumerService takes the PAOS binding at deskACS and that asks
// for the discovery bootstrap (md.DiscoveryEPRAttribute: the terminal's DS
// token), and the SingleLogoutService at sloURL (the WSP's SLOURL) takes
// the SOAP binding; signing and encryption are the institution's keys. An
// SPSSODescriptor needs an AssertionConsumerService (schema), hence the
// desk's.
func DeskRole(signing, encryption *x509.Certificate, deskACS, sloURL string) *md.SPSSODescriptor {
	yes := true
	keys := []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{signing}},
		{Use: md.UseEncryption, Certificates: []*x509.Certificate{encryption}, EncryptionMethods: []string{xmlenc.RSAOAEP}}}
	return &md.SPSSODescriptor{SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}, Keys: keys},
		SingleLogout: []md.Endpoint{{Binding: samlp.BindingSOAP, Location: sloURL}}, NameIDFormats: []string{saml.NameIDPersistent}},
		AuthnRequestsSigned: true, WantAssertionsSigned: true,
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: samlp.BindingPAOS, Location: deskACS}, IsDefault: &yes}},
		AttributeConsuming: []md.AttributeConsumingService{{IsDefault: &yes,
			ServiceNames: []md.Localized{{Lang: "en", Value: "Reception desk"}, {Lang: "ja", Value: "受付"}},
			Requested:    []md.RequestedAttribute{{Attribute: md.Attribute{Name: md.DiscoveryEPRAttribute, NameFormat: saml.AttrNameFormatURI}}}}}}
}

// DefaultDeskACS is the desk terminal's PAOS AssertionConsumerService
// when an institution names none: its WSP's base URL + "/desk/ecp".
func DefaultDeskACS(baseURL string) string { return strings.TrimSuffix(baseURL, "/") + "/desk/ecp" }
