package binding

import (
	"net/http"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// PAOS and ECP identifiers (Liberty PAOS 2003-08; SAML Profiles §4.2).
const (
	NSPAOS = "urn:liberty:paos:2003-08"
	NSECP  = "urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"
	// ServiceECP is the paos:Request service of the ECP profile.
	ServiceECP = "urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"
	// ContentTypePAOS is the media type of PAOS messages (SAML Bindings §3.3.3).
	ContentTypePAOS = "application/vnd.paos+xml"
	// PAOSHeader is the PAOS HTTP header value an ECP sends (SAML Profiles
	// §4.2.3.1).
	PAOSHeader = `ver="` + NSPAOS + `";"` + ServiceECP + `"`
)

// PAOSRequest is the paos:Request header block an SP sends an ECP (SAML
// Profiles §4.2.4.2). It is always mustUnderstand, for the next actor.
type PAOSRequest struct {
	ResponseConsumerURL string
	Service             string // ServiceECP when empty on encoding
	MessageID           string
}

// ECPRequest is the ecp:Request header block (SAML Profiles §4.2.4.2).
type ECPRequest struct {
	ProviderName string
	IsPassive    bool
	Issuer       saml.Issuer
	IDPList      *samlp.IDPList
}

// ECPResponse is the ecp:Response header block an IdP sends with its
// Response (SAML Profiles §4.2.4.4).
type ECPResponse struct {
	AssertionConsumerServiceURL string
}

// ECPHeaders are the PAOS and ECP header blocks of one envelope; absent
// blocks are nil.
type ECPHeaders struct {
	PAOSRequest *PAOSRequest
	Request     *ECPRequest
	Response    *ECPResponse
	RelayState  *string
}

// headerBlock starts a block with S:mustUnderstand="1" and the next actor,
// which every PAOS and ECP block carries (SAML Profiles §4.2.4).
func headerBlock(tag, prefix, ns string) *etree.Element {
	el := etree.NewElement(prefix + ":" + tag)
	el.CreateAttr("xmlns:"+prefix, ns)
	el.CreateAttr("xmlns:S", NSSOAP)
	el.CreateAttr("S:mustUnderstand", "1")
	el.CreateAttr("S:actor", ActorNext)
	return el
}

// Element renders the paos:Request block.
func (p *PAOSRequest) Element() *etree.Element {
	el := headerBlock("Request", "paos", NSPAOS)
	el.CreateAttr("responseConsumerURL", p.ResponseConsumerURL)
	svc := p.Service
	if svc == "" {
		svc = ServiceECP
	}
	el.CreateAttr("service", svc)
	wire.SetAttr(el, "messageID", p.MessageID)
	return el
}

// Element renders the ecp:Request block.
func (r *ECPRequest) Element() *etree.Element {
	el := headerBlock("Request", "ecp", NSECP)
	el.CreateAttr("xmlns:saml", saml.NS)
	wire.SetAttr(el, "ProviderName", r.ProviderName)
	if r.IsPassive {
		el.CreateAttr("IsPassive", "true")
	}
	iss := wire.TextElement(el, "saml:Issuer", r.Issuer.Value)
	wire.SetAttr(iss, "NameQualifier", r.Issuer.NameQualifier)
	wire.SetAttr(iss, "SPNameQualifier", r.Issuer.SPNameQualifier)
	wire.SetAttr(iss, "Format", r.Issuer.Format)
	if r.IDPList != nil {
		el.AddChild(r.IDPList.Element())
	}
	return el
}

// Element renders the ecp:Response block.
func (r *ECPResponse) Element() *etree.Element {
	el := headerBlock("Response", "ecp", NSECP)
	el.CreateAttr("AssertionConsumerServiceURL", r.AssertionConsumerServiceURL)
	return el
}

// RelayStateElement renders an ecp:RelayState block.
func RelayStateElement(rs string) *etree.Element {
	el := headerBlock("RelayState", "ecp", NSECP)
	el.SetText(rs)
	return el
}

// Elements renders the blocks present, in the order paos:Request,
// ecp:Request, ecp:Response, ecp:RelayState.
func (h *ECPHeaders) Elements() []*etree.Element {
	var out []*etree.Element
	if h.PAOSRequest != nil {
		out = append(out, h.PAOSRequest.Element())
	}
	if h.Request != nil {
		out = append(out, h.Request.Element())
	}
	if h.Response != nil {
		out = append(out, h.Response.Element())
	}
	if h.RelayState != nil {
		out = append(out, RelayStateElement(*h.RelayState))
	}
	return out
}

// ECPQuirks relax ReadECPHeaders for one peer's known deviations; the zero
// value is strict.
type ECPQuirks struct {
	// UnqualifiedActor accepts the next actor in an attribute "actor"
	// without the SOAP namespace, as Lasso 2.8 writes it on paos:Request,
	// ecp:Request and ecp:RelayState (the ECP schema wants S:actor).
	UnqualifiedActor bool
}

// ReadECPHeaders reads the PAOS and ECP blocks of env, refusing one that
// occurs twice, lacks mustUnderstand="1" or the next actor (SAML Profiles
// §4.2.4.2: both are required), or misses a required part. Other blocks are
// left to the caller.
func ReadECPHeaders(env *Envelope, q ECPQuirks) (*ECPHeaders, error) {
	h := &ECPHeaders{}
	for _, b := range env.Header {
		if b.NamespaceURI() != NSPAOS && b.NamespaceURI() != NSECP {
			continue
		}
		if err := checkBlockAttrs(b, q); err != nil {
			return nil, err
		}
		if err := h.read(b); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func checkBlockAttrs(b *etree.Element, q ECPQuirks) error {
	must, err := mustUnderstand(b)
	if err != nil {
		return err
	}
	a, ok := wire.AttrNS(b, NSSOAP, "actor")
	if !ok && q.UnqualifiedActor {
		a, _ = wire.Attr(b, "actor")
	}
	if !must || a != ActorNext {
		return errorf(KindSOAP, "%s needs S:mustUnderstand=\"1\" and the next actor", wire.Name(b))
	}
	return nil
}

func (h *ECPHeaders) read(b *etree.Element) error {
	var err error
	switch {
	case wire.Is(b, NSPAOS, "Request") && h.PAOSRequest == nil:
		h.PAOSRequest, err = decodePAOSRequest(b)
	case wire.Is(b, NSECP, "Request") && h.Request == nil:
		h.Request, err = decodeECPRequest(b)
	case wire.Is(b, NSECP, "Response") && h.Response == nil:
		var u string
		u, err = wire.RequiredAttr(b, "AssertionConsumerServiceURL")
		h.Response = &ECPResponse{AssertionConsumerServiceURL: u}
	case wire.Is(b, NSECP, "RelayState") && h.RelayState == nil:
		var rs string
		if rs, err = wire.Text(b); err == nil {
			err = checkRelayState(rs)
		}
		h.RelayState = &rs
	case wire.Is(b, NSPAOS, "Response"):
		// The ECP's PAOS response block (refToMessageID) carries nothing the
		// SAML profile needs.
	default:
		return errorf(KindSOAP, "header %s repeated or unknown", wire.Name(b))
	}
	return err
}

func decodePAOSRequest(b *etree.Element) (*PAOSRequest, error) {
	p := &PAOSRequest{}
	var err error
	if p.ResponseConsumerURL, err = wire.RequiredAttr(b, "responseConsumerURL"); err != nil {
		return nil, err
	}
	if p.Service, err = wire.RequiredAttr(b, "service"); err != nil {
		return nil, err
	}
	p.MessageID, _ = wire.Attr(b, "messageID")
	return p, nil
}

func decodeECPRequest(b *etree.Element) (*ECPRequest, error) {
	r := &ECPRequest{}
	r.ProviderName, _ = wire.Attr(b, "ProviderName")
	if v, ok := wire.Attr(b, "IsPassive"); ok {
		var err error
		if r.IsPassive, err = wire.ParseBool(v); err != nil {
			return nil, err
		}
	}
	cs := b.ChildElements()
	if len(cs) == 0 || len(cs) > 2 || !wire.Is(cs[0], saml.NS, "Issuer") {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "ecp:Request holds saml:Issuer, then an optional samlp:IDPList")
	}
	v, err := wire.URI(cs[0])
	if err != nil {
		return nil, err
	}
	r.Issuer = saml.Issuer{Value: v}
	r.Issuer.Format, _ = wire.Attr(cs[0], "Format")
	r.Issuer.NameQualifier, _ = wire.Attr(cs[0], "NameQualifier")
	r.Issuer.SPNameQualifier, _ = wire.Attr(cs[0], "SPNameQualifier")
	if len(cs) == 2 {
		r.IDPList, err = samlp.DecodeIDPList(cs[1])
	}
	return r, err
}

// CheckECPResponse enforces SAML Profiles §4.2.4.5: the ECP compares the
// IdP's ecp:Response AssertionConsumerServiceURL with the SP's
// paos:Request responseConsumerURL and must not deliver the response when
// they differ. The ECP then reports the mismatch to the SP with a SOAP
// fault.
func CheckECPResponse(fromSP *PAOSRequest, fromIdP *ECPResponse) error {
	if fromSP == nil || fromIdP == nil || fromSP.ResponseConsumerURL != fromIdP.AssertionConsumerServiceURL {
		return errorf(KindSOAP, "ecp:Response AssertionConsumerServiceURL differs from paos:Request responseConsumerURL")
	}
	return nil
}

// AcceptsPAOS reports whether an HTTP request comes from an ECP (SAML
// Profiles §4.2.3.1): its Accept header lists application/vnd.paos+xml and
// its PAOS header names PAOS version urn:liberty:paos:2003-08 and the ECP
// service. An SP then answers with a PAOS request instead of a redirect.
func AcceptsPAOS(h http.Header) bool {
	return acceptsMediaType(h.Values("Accept"), ContentTypePAOS) && paosOffersECP(h.Get("PAOS"))
}

// acceptsMediaType looks for want among the items of Accept headers split
// on "," and ";": the ECP profile's own example separates the media types
// with ";" ("text/html; application/vnd.paos+xml"), and ECP clients send
// it so.
func acceptsMediaType(accept []string, want string) bool {
	for _, line := range accept {
		for _, item := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ';' }) {
			if strings.EqualFold(strings.TrimSpace(item), want) {
				return true
			}
		}
	}
	return false
}

// paosOffersECP reads a PAOS header: ver="..." then quoted services and
// options, separated by ";".
func paosOffersECP(v string) bool {
	var ver, ecp bool
	for item := range strings.SplitSeq(v, ";") {
		item = strings.TrimSpace(item)
		switch item {
		case `ver="` + NSPAOS + `"`:
			ver = true
		case `"` + ServiceECP + `"`:
			ecp = true
		}
	}
	return ver && ecp
}
