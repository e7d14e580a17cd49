package metadir

import (
	"slices"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// NS is the namespace of Renkei's metadata extension.
const NS = "urn:renkei:metadata:1.0"

// TypeWebService is the xsi:type local name of the ID-WSF web service
// role.
const TypeWebService = "WebServiceDescriptorType"

// ProtocolIDWSF is the protocolSupportEnumeration of the role: the ID-WSF
// 2.0 SOAP binding's namespace.
const ProtocolIDWSF = "urn:liberty:sb:2006-08"

// WebService is the ID-WSF web service role of an entity: the service
// types it offers, its SOAP endpoint locations and its keys.
type WebService struct {
	ServiceTypes []string
	// Endpoints are SOAP endpoint locations, in document order.
	Endpoints []string
	// Keys are the role's md:KeyDescriptor elements: the signing key
	// (also the TLS client key) and the encryption key tokens are
	// encrypted for.
	Keys []md.KeyDescriptor
}

// Role returns the role as an md.RoleDescriptor for an EntityDescriptor:
// md:RoleDescriptor xsi:type="rmd:WebServiceDescriptorType".
func (w *WebService) Role() *md.RoleDescriptor {
	r := &md.RoleDescriptor{Role: md.Role{ProtocolSupport: []string{ProtocolIDWSF}, Keys: slices.Clone(w.Keys)},
		TypeNS: NS, TypeLocal: TypeWebService}
	for _, t := range w.ServiceTypes {
		r.Content = append(r.Content, newElement("ServiceType"))
		r.Content[len(r.Content)-1].SetText(t)
	}
	for _, loc := range w.Endpoints {
		el := newElement("Endpoint")
		el.CreateAttr("Binding", md.BindingSOAP)
		el.CreateAttr("Location", loc)
		r.Content = append(r.Content, el)
		r.Endpoints = append(r.Endpoints, md.NamedEndpoint{NS: NS, Local: "Endpoint",
			Endpoint: md.Endpoint{Binding: md.BindingSOAP, Location: loc}})
	}
	return r
}

func newElement(local string) *etree.Element {
	el := etree.NewElement("rmd:" + local)
	el.CreateAttr("xmlns:rmd", NS)
	return el
}

// IsWebService reports whether r is the ID-WSF web service role.
func IsWebService(r *md.RoleDescriptor) bool {
	return r.TypeNS == NS && r.TypeLocal == TypeWebService
}

// DecodeWebService reads the web service role r (IsWebService): its
// service types, its SOAP endpoints (those of another binding are left
// out) and its keys. A service type that is not a URI is an error.
func DecodeWebService(r *md.RoleDescriptor) (*WebService, error) {
	if !IsWebService(r) {
		return nil, md.Errorf(md.KindNotFound, "role {%s}%s is not {%s}%s", r.TypeNS, r.TypeLocal, NS, TypeWebService)
	}
	w := &WebService{Keys: r.Keys}
	for _, c := range r.Content {
		if wire.Is(c, NS, "ServiceType") {
			u, err := wire.URI(c)
			if err != nil {
				return nil, err
			}
			w.ServiceTypes = append(w.ServiceTypes, u)
		}
	}
	for _, e := range r.Endpoints {
		if e.NS == NS && e.Local == "Endpoint" && e.Binding == md.BindingSOAP {
			w.Endpoints = append(w.Endpoints, e.Location)
		}
	}
	return w, nil
}

// Offers reports whether the role lists serviceType.
func (w *WebService) Offers(serviceType string) bool {
	return slices.Contains(w.ServiceTypes, serviceType)
}
