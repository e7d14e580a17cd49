package wsf

import (
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// BootstrapEPRs returns the Discovery Service EPRs that a verified SSO
// assertion carries in its urn:liberty:disco:2006-08:DiscoveryEPR
// attribute (IDWSF2 §4.5), the attribute matched on its Name alone
// whatever its NameFormat (IDWSF2 §11 item 8). An assertion without the
// attribute has none; a value that is not one wsa:EndpointReference is
// ErrMalformed.
func BootstrapEPRs(a *saml.Assertion) ([]*EPR, error) {
	var out []*EPR
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if at.Name != DiscoveryEPRAttr {
				continue
			}
			eprs, err := attributeEPRs(at)
			if err != nil {
				return nil, err
			}
			out = append(out, eprs...)
		}
	}
	return out, nil
}

func attributeEPRs(at saml.Attribute) ([]*EPR, error) {
	out := make([]*EPR, 0, len(at.Values))
	for _, v := range at.Values {
		if len(v.Elements) != 1 || !wire.Is(v.Elements[0], NSWSA, "EndpointReference") {
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "DiscoveryEPR value is not one wsa:EndpointReference")
		}
		e, err := DecodeEPR(v.Elements[0])
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
