package disco

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// SvcMD is a disco:SvcMD (IDWSF2 §4.3): the service metadata a WSP
// registers with the DS. ID is the svcMDID the DS assigns; it is empty in
// a registration.
type SvcMD struct {
	ID              string
	Abstract        string
	ProviderID      string // the WSP's entityID
	ServiceContexts []ServiceContext
}

// ServiceContext is a disco:ServiceContext: service types, the options
// they support and the endpoints that offer them.
type ServiceContext struct {
	ServiceTypes     []string
	Options          []Options
	EndpointContexts []EndpointContext
}

// EndpointContext is a disco:EndpointContext: addresses, the sbf:Framework
// versions and security mechanisms they accept, and the actions they
// support (none listed: all).
type EndpointContext struct {
	Addresses       []string
	Frameworks      []Framework
	SecurityMechIDs []string
	Actions         []string
}

// Element renders the metadata as a standalone disco:SvcMD.
func (m *SvcMD) Element() *etree.Element {
	el := root("SvcMD", true)
	m.fill(el)
	return el
}

func (m *SvcMD) appendTo(parent *etree.Element) {
	m.fill(parent.CreateElement("disco:SvcMD"))
}

func (m *SvcMD) fill(el *etree.Element) {
	wire.SetAttr(el, "svcMDID", m.ID)
	wire.TextElement(el, "disco:Abstract", m.Abstract)
	wire.TextElement(el, "disco:ProviderID", m.ProviderID)
	for _, sc := range m.ServiceContexts {
		sc.appendTo(el)
	}
}

func (sc *ServiceContext) appendTo(parent *etree.Element) {
	el := parent.CreateElement("disco:ServiceContext")
	texts(el, "disco:ServiceType", sc.ServiceTypes)
	for _, o := range sc.Options {
		o.appendTo(el)
	}
	for _, ec := range sc.EndpointContexts {
		ec.appendTo(el)
	}
}

// appendTo writes the framework as sbf:Framework, the element
// disco:EndpointContext has in the schema (IDWSF2 §4.3, §11 item 1).
func (ec *EndpointContext) appendTo(parent *etree.Element) {
	el := parent.CreateElement("disco:EndpointContext")
	texts(el, "disco:Address", ec.Addresses)
	for _, fw := range ec.Frameworks {
		fw.appendTo(el, "sbf:Framework")
	}
	texts(el, "disco:SecurityMechID", ec.SecurityMechIDs)
	texts(el, "disco:Action", ec.Actions)
}

// DecodeSvcMD reads a disco:SvcMD. Abstract, ProviderID and at least one
// ServiceContext are required (disco:SvcMetadataType); each ServiceContext
// needs a ServiceType and an EndpointContext, each EndpointContext an
// Address, an sbf:Framework and a SecurityMechID.
func DecodeSvcMD(el *etree.Element) (*SvcMD, error) {
	if !isDisco(el, "SvcMD") {
		return nil, notA(el, "SvcMD")
	}
	if _, err := attrs(el, false, "svcMDID"); err != nil {
		return nil, err
	}
	m := &SvcMD{}
	m.ID, _ = wire.Attr(el, "svcMDID")
	s, err := newSeq(el)
	if err != nil {
		return nil, err
	}
	if err := m.readChildren(s); err != nil {
		return nil, err
	}
	return m, s.done()
}

func (m *SvcMD) readChildren(s *seq) error {
	abs, err := s.take(NS, "Abstract", 1, 1)
	if err != nil {
		return err
	}
	if m.Abstract, err = text(abs[0]); err != nil {
		return err
	}
	pid, err := s.take(NS, "ProviderID", 1, 1)
	if err != nil {
		return err
	}
	if m.ProviderID, err = uri(pid[0]); err != nil {
		return err
	}
	scs, err := s.take(NS, "ServiceContext", 1, unbounded)
	if err != nil {
		return err
	}
	m.ServiceContexts, err = mapEls(scs, decodeServiceContext)
	return err
}

func decodeServiceContext(el *etree.Element) (ServiceContext, error) {
	var sc ServiceContext
	s, err := elementOnly(el)
	if err != nil {
		return sc, err
	}
	if sc.ServiceTypes, err = s.uris(NS, "ServiceType", 1); err != nil {
		return sc, err
	}
	if sc.Options, err = takeOptions(s); err != nil {
		return sc, err
	}
	ecs, err := s.take(NS, "EndpointContext", 1, unbounded)
	if err != nil {
		return sc, err
	}
	if sc.EndpointContexts, err = mapEls(ecs, decodeEndpointContext); err != nil {
		return sc, err
	}
	return sc, s.done()
}

func decodeEndpointContext(el *etree.Element) (EndpointContext, error) {
	var ec EndpointContext
	s, err := elementOnly(el)
	if err != nil {
		return ec, err
	}
	if ec.Addresses, err = s.uris(NS, "Address", 1); err != nil {
		return ec, err
	}
	if ec.Frameworks, err = takeFrameworks(s, wsf.NSSBF, 1); err != nil {
		return ec, err
	}
	if ec.SecurityMechIDs, err = s.uris(NS, "SecurityMechID", 1); err != nil {
		return ec, err
	}
	if ec.Actions, err = s.uris(NS, "Action", 0); err != nil {
		return ec, err
	}
	return ec, s.done()
}

// elementOnly starts reading an element that has neither attributes nor
// text.
func elementOnly(el *etree.Element) (*seq, error) {
	if _, err := attrs(el, false); err != nil {
		return nil, err
	}
	return newSeq(el)
}

// Keys is a disco:Keys: md:KeyDescriptor elements, kept as standalone
// copies for a SAML metadata reader. The digest (IDWSF2 §4.3) leaves
// their purpose unverified: keys of the DS for the tokens it will mint.
type Keys struct {
	KeyDescriptors []*etree.Element
}

func (k *Keys) appendTo(parent *etree.Element) {
	copies(parent.CreateElement("disco:Keys"), k.KeyDescriptors)
}

func decodeKeys(el *etree.Element) (Keys, error) {
	var k Keys
	s, err := elementOnly(el)
	if err != nil {
		return k, err
	}
	kds, err := s.take(NSMetadata, "KeyDescriptor", 1, unbounded)
	if err != nil {
		return k, err
	}
	for _, kd := range kds {
		k.KeyDescriptors = append(k.KeyDescriptors, xmlsec.DetachCopy(kd))
	}
	return k, s.done()
}
