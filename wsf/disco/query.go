package disco

import (
	"encoding/xml"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Query is a disco:Query (IDWSF2 §4.1): the services a WSC asks for on
// behalf of the principal its token names. No RequestedService asks for
// every service of the principal.
type Query struct {
	RequestedServices []RequestedService
	Attrs             []xml.Attr // foreign attributes (xs:anyAttribute ##other)
}

// RequestedService is a disco:RequestedService (IDWSF2 §4.1). Each list is
// a set of alternatives; an empty list does not restrict the results.
type RequestedService struct {
	ReqID           string      // echoed by the DS, optional
	ResultsType     ResultsType // "" is absent; see ResultsType.Effective
	ServiceTypes    []string
	ProviderIDs     []string
	Options         []Options
	SecurityMechIDs []string // in the WSC's order of preference
	Frameworks      []Framework
	Actions         []string
	Extensions      []*etree.Element // xs:any ##other, standalone copies
}

// Options is a disco:Options: the option URIs it lists. An empty Options
// asks for (or advertises) any options (IDWSF2 §4.1).
type Options []string

// Framework is a disco:Framework or sbf:Framework (sbf:FrameworkType): a
// framework version and what the type's xs:any and xs:anyAttribute admit.
type Framework struct {
	Version    string
	Attrs      []xml.Attr
	Extensions []*etree.Element
}

// Action returns the wsa:Action of a Query.
func (q *Query) Action() string { return Action("Query") }

// Element renders the query as a disco:Query.
func (q *Query) Element() *etree.Element {
	el := root("Query", false)
	writeAttrs(el, q.Attrs)
	for _, rs := range q.RequestedServices {
		rs.appendTo(el)
	}
	return el
}

func (rs *RequestedService) appendTo(parent *etree.Element) {
	el := parent.CreateElement("disco:RequestedService")
	if rs.ReqID != "" {
		el.CreateAttr("reqID", rs.ReqID)
	}
	if rs.ResultsType != "" {
		el.CreateAttr("resultsType", string(rs.ResultsType))
	}
	texts(el, "disco:ServiceType", rs.ServiceTypes)
	texts(el, "disco:ProviderID", rs.ProviderIDs)
	for _, o := range rs.Options {
		o.appendTo(el)
	}
	texts(el, "disco:SecurityMechID", rs.SecurityMechIDs)
	for _, fw := range rs.Frameworks {
		fw.appendTo(el, "disco:Framework")
	}
	texts(el, "disco:Action", rs.Actions)
	copies(el, rs.Extensions)
}

func (o Options) appendTo(parent *etree.Element) {
	texts(parent.CreateElement("disco:Options"), "disco:Option", o)
}

func (fw *Framework) appendTo(parent *etree.Element, tag string) {
	el := parent.CreateElement(tag)
	el.CreateAttr("version", fw.Version)
	writeAttrs(el, fw.Attrs)
	copies(el, fw.Extensions)
}

// DecodeQuery reads a disco:Query.
func DecodeQuery(el *etree.Element) (*Query, error) {
	return decoder{}.query(el)
}

func (decoder) query(el *etree.Element) (*Query, error) {
	if !isDisco(el, "Query") {
		return nil, notA(el, "Query")
	}
	q := &Query{}
	var err error
	if q.Attrs, err = attrs(el, true); err != nil {
		return nil, err
	}
	s, err := newSeq(el)
	if err != nil {
		return nil, err
	}
	rss, err := s.take(NS, "RequestedService", 0, unbounded)
	if err != nil {
		return nil, err
	}
	if q.RequestedServices, err = mapEls(rss, decodeRequestedService); err != nil {
		return nil, err
	}
	return q, s.done()
}

func decodeRequestedService(el *etree.Element) (RequestedService, error) {
	var rs RequestedService
	if _, err := attrs(el, false, "reqID", "resultsType"); err != nil {
		return rs, err
	}
	rs.ReqID, _ = wire.Attr(el, "reqID")
	rt, _ := wire.Attr(el, "resultsType")
	if rs.ResultsType = ResultsType(rt); !rs.ResultsType.valid() {
		return rs, xmlsec.Errorf(xmlsec.KindMalformed, "disco:RequestedService: resultsType %q is not best, all or only-one", rt)
	}
	s, err := newSeq(el)
	if err != nil {
		return rs, err
	}
	if err := rs.readChildren(s); err != nil {
		return rs, err
	}
	rs.Extensions = s.others(NS)
	return rs, s.done()
}

func (rs *RequestedService) readChildren(s *seq) error {
	var err error
	if rs.ServiceTypes, err = s.uris(NS, "ServiceType", 0); err != nil {
		return err
	}
	if rs.ProviderIDs, err = s.uris(NS, "ProviderID", 0); err != nil {
		return err
	}
	if rs.Options, err = takeOptions(s); err != nil {
		return err
	}
	if rs.SecurityMechIDs, err = s.uris(NS, "SecurityMechID", 0); err != nil {
		return err
	}
	if rs.Frameworks, err = takeFrameworks(s, NS, 0); err != nil {
		return err
	}
	rs.Actions, err = s.uris(NS, "Action", 0)
	return err
}

func takeOptions(s *seq) ([]Options, error) {
	els, err := s.take(NS, "Options", 0, unbounded)
	if err != nil {
		return nil, err
	}
	return mapEls(els, decodeOptions)
}

func decodeOptions(el *etree.Element) (Options, error) {
	if _, err := attrs(el, false); err != nil {
		return nil, err
	}
	s, err := newSeq(el)
	if err != nil {
		return nil, err
	}
	o, err := s.uris(NS, "Option", 0)
	if err != nil {
		return nil, err
	}
	return Options(o), s.done()
}

// takeFrameworks reads the next run of {ns}Framework: disco:Framework in
// a RequestedService, sbf:Framework in an EndpointContext (IDWSF2 §4.1,
// §4.3).
func takeFrameworks(s *seq, ns string, min int) ([]Framework, error) {
	els, err := s.take(ns, "Framework", min, unbounded)
	if err != nil {
		return nil, err
	}
	return mapEls(els, decodeFramework)
}

func decodeFramework(el *etree.Element) (Framework, error) {
	var fw Framework
	var err error
	if fw.Attrs, err = attrs(el, true, "version"); err != nil {
		return fw, err
	}
	if fw.Version, err = wire.RequiredAttr(el, "version"); err != nil {
		return fw, err
	}
	s, err := newSeq(el)
	if err != nil {
		return fw, err
	}
	// sbf:FrameworkType's xs:any is namespace="##any": every child is kept.
	for _, c := range s.kids {
		fw.Extensions = append(fw.Extensions, xmlsec.DetachCopy(c))
	}
	return fw, nil
}

// QueryResponse is a disco:QueryResponse (IDWSF2 §4.2): the status, then
// one EPR per service found.
type QueryResponse struct {
	Status wsf.Status
	EPRs   []*wsf.EPR
	Attrs  []xml.Attr // foreign attributes (xs:anyAttribute ##other)
}

// Action returns the wsa:Action of a QueryResponse.
func (r *QueryResponse) Action() string { return Action("QueryResponse") }

// Element renders the response as a disco:QueryResponse; each EPR is
// written by wsf.EPR.Element.
func (r *QueryResponse) Element() *etree.Element {
	el := root("QueryResponse", false)
	writeAttrs(el, r.Attrs)
	statusElement(el, r.Status)
	for _, e := range r.EPRs {
		el.AddChild(e.Element())
	}
	return el
}

// DecodeQueryResponse reads a disco:QueryResponse; each EPR is read by
// wsf.DecodeEPR.
func DecodeQueryResponse(el *etree.Element) (*QueryResponse, error) {
	return decoder{}.queryResponse(el)
}

func (d decoder) queryResponse(el *etree.Element) (*QueryResponse, error) {
	if !isDisco(el, "QueryResponse") {
		return nil, notA(el, "QueryResponse")
	}
	r := &QueryResponse{}
	s, err := d.response(el, &r.Status, &r.Attrs)
	if err != nil {
		return nil, err
	}
	eprs, err := s.take(wsf.NSWSA, "EndpointReference", 0, unbounded)
	if err != nil {
		return nil, err
	}
	if r.EPRs, err = mapEls(eprs, wsf.DecodeEPR); err != nil {
		return nil, err
	}
	return r, s.done()
}

// response checks a response element's attributes and reads its leading
// lu:Status, returning the reader of the children that follow.
func (d decoder) response(el *etree.Element, st *wsf.Status, as *[]xml.Attr) (*seq, error) {
	var err error
	if *as, err = attrs(el, true); err != nil {
		return nil, err
	}
	s, err := newSeq(el)
	if err != nil {
		return nil, err
	}
	*st, err = d.status(s)
	return s, err
}
