package disco

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Message is one Discovery Service request or response: the SOAP Body
// payload of IDWSF2 §4.
type Message interface {
	// Element renders the message as its disco element, standalone.
	Element() *etree.Element
	// Action returns the message's wsa:Action (IDWSF2 §4).
	Action() string
}

var (
	_ Message = (*Query)(nil)
	_ Message = (*QueryResponse)(nil)
	_ Message = (*SvcMDRegister)(nil)
	_ Message = (*SvcMDRegisterResponse)(nil)
	_ Message = (*SvcMDQuery)(nil)
	_ Message = (*SvcMDQueryResponse)(nil)
	_ Message = (*SvcMDReplace)(nil)
	_ Message = (*SvcMDReplaceResponse)(nil)
	_ Message = (*SvcMDDelete)(nil)
	_ Message = (*SvcMDDeleteResponse)(nil)
	_ Message = (*SvcMDAssociationAdd)(nil)
	_ Message = (*SvcMDAssociationAddResponse)(nil)
	_ Message = (*SvcMDAssociationDelete)(nil)
	_ Message = (*SvcMDAssociationDeleteResponse)(nil)
	_ Message = (*SvcMDAssociationQuery)(nil)
	_ Message = (*SvcMDAssociationQueryResponse)(nil)
)

// Action returns the wsa:Action of an SvcMDRegister.
func (*SvcMDRegister) Action() string { return Action("SvcMDRegister") }

// Action returns the wsa:Action of an SvcMDRegisterResponse.
func (*SvcMDRegisterResponse) Action() string { return Action("SvcMDRegisterResponse") }

// Action returns the wsa:Action of an SvcMDQuery.
func (*SvcMDQuery) Action() string { return Action("SvcMDQuery") }

// Action returns the wsa:Action of an SvcMDQueryResponse.
func (*SvcMDQueryResponse) Action() string { return Action("SvcMDQueryResponse") }

// Action returns the wsa:Action of an SvcMDReplace.
func (*SvcMDReplace) Action() string { return Action("SvcMDReplace") }

// Action returns the wsa:Action of an SvcMDReplaceResponse.
func (*SvcMDReplaceResponse) Action() string { return Action("SvcMDReplaceResponse") }

// Action returns the wsa:Action of an SvcMDDelete.
func (*SvcMDDelete) Action() string { return Action("SvcMDDelete") }

// Action returns the wsa:Action of an SvcMDDeleteResponse.
func (*SvcMDDeleteResponse) Action() string { return Action("SvcMDDeleteResponse") }

// Action returns the wsa:Action of an SvcMDAssociationAdd.
func (*SvcMDAssociationAdd) Action() string { return Action("SvcMDAssociationAdd") }

// Action returns the wsa:Action of an SvcMDAssociationAddResponse.
func (*SvcMDAssociationAddResponse) Action() string { return Action("SvcMDAssociationAddResponse") }

// Action returns the wsa:Action of an SvcMDAssociationDelete.
func (*SvcMDAssociationDelete) Action() string { return Action("SvcMDAssociationDelete") }

// Action returns the wsa:Action of an SvcMDAssociationDeleteResponse.
func (*SvcMDAssociationDeleteResponse) Action() string {
	return Action("SvcMDAssociationDeleteResponse")
}

// Action returns the wsa:Action of an SvcMDAssociationQuery.
func (*SvcMDAssociationQuery) Action() string { return Action("SvcMDAssociationQuery") }

// Action returns the wsa:Action of an SvcMDAssociationQueryResponse.
func (*SvcMDAssociationQueryResponse) Action() string {
	return Action("SvcMDAssociationQueryResponse")
}

// Decode reads any Discovery message, chosen by the name of el, relaxing
// only what the peer's quirk profile allows (wsf.Strict relaxes nothing;
// wsf.Lasso reads its misplaced Status, IDWSF2 §11 item 19). A caller
// that expects one message type asserts the result's type.
func Decode(el *etree.Element, p wsf.Profile) (Message, error) {
	if el == nil || el.NamespaceURI() != NS {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "not a Discovery message")
	}
	f, ok := decoders[el.Tag]
	if !ok {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a Discovery message", wire.Name(el))
	}
	m, err := f(decoder{profile: p}, el)
	if err != nil {
		return nil, err // not m: a typed nil pointer in a non-nil Message
	}
	return m, nil
}

// decoders maps the local name of each Discovery message to its decoder.
var decoders = map[string]func(decoder, *etree.Element) (Message, error){
	"Query":                  func(d decoder, el *etree.Element) (Message, error) { return d.query(el) },
	"QueryResponse":          func(d decoder, el *etree.Element) (Message, error) { return d.queryResponse(el) },
	"SvcMDRegister":          func(_ decoder, el *etree.Element) (Message, error) { return DecodeSvcMDRegister(el) },
	"SvcMDReplace":           func(_ decoder, el *etree.Element) (Message, error) { return DecodeSvcMDReplace(el) },
	"SvcMDQuery":             func(_ decoder, el *etree.Element) (Message, error) { return DecodeSvcMDQuery(el) },
	"SvcMDDelete":            func(_ decoder, el *etree.Element) (Message, error) { return DecodeSvcMDDelete(el) },
	"SvcMDAssociationAdd":    func(_ decoder, el *etree.Element) (Message, error) { return DecodeSvcMDAssociationAdd(el) },
	"SvcMDAssociationDelete": func(_ decoder, el *etree.Element) (Message, error) { return DecodeSvcMDAssociationDelete(el) },
	"SvcMDAssociationQuery":  func(_ decoder, el *etree.Element) (Message, error) { return DecodeSvcMDAssociationQuery(el) },
	"SvcMDRegisterResponse": func(d decoder, el *etree.Element) (Message, error) {
		return d.svcMDRegisterResponse(el)
	},
	"SvcMDQueryResponse": func(d decoder, el *etree.Element) (Message, error) { return d.svcMDQueryResponse(el) },
	"SvcMDAssociationQueryResponse": func(d decoder, el *etree.Element) (Message, error) {
		return d.svcMDAssociationQueryResponse(el)
	},
	"SvcMDReplaceResponse":           func(d decoder, el *etree.Element) (Message, error) { return d.svcMDReplaceResponse(el) },
	"SvcMDDeleteResponse":            func(d decoder, el *etree.Element) (Message, error) { return d.svcMDDeleteResponse(el) },
	"SvcMDAssociationAddResponse":    func(d decoder, el *etree.Element) (Message, error) { return d.svcMDAssociationAddResponse(el) },
	"SvcMDAssociationDeleteResponse": func(d decoder, el *etree.Element) (Message, error) { return d.svcMDAssociationDeleteResponse(el) },
}

// StatusOf returns the lu:Status of a Discovery response, and false for a
// request, which has none.
func StatusOf(m Message) (wsf.Status, bool) {
	switch r := m.(type) {
	case *QueryResponse:
		return r.Status, true
	case *SvcMDRegisterResponse:
		return r.Status, true
	case *SvcMDQueryResponse:
		return r.Status, true
	case *SvcMDReplaceResponse:
		return r.Status, true
	case *SvcMDDeleteResponse:
		return r.Status, true
	case *SvcMDAssociationAddResponse:
		return r.Status, true
	case *SvcMDAssociationDeleteResponse:
		return r.Status, true
	case *SvcMDAssociationQueryResponse:
		return r.Status, true
	}
	return wsf.Status{}, false
}
