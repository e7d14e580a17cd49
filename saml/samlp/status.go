package samlp

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Top-level status codes (SAML Core §3.2.2.2).
const (
	StatusSuccess         = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester       = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder       = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusVersionMismatch = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch"
)

// Second-level status codes (SAML Core §3.2.2.2).
const (
	StatusAuthnFailed              = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
	StatusInvalidAttrNameOrValue   = "urn:oasis:names:tc:SAML:2.0:status:InvalidAttrNameOrValue"
	StatusInvalidNameIDPolicy      = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
	StatusNoAuthnContext           = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
	StatusNoAvailableIDP           = "urn:oasis:names:tc:SAML:2.0:status:NoAvailableIDP"
	StatusNoPassive                = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
	StatusNoSupportedIDP           = "urn:oasis:names:tc:SAML:2.0:status:NoSupportedIDP"
	StatusPartialLogout            = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout"
	StatusProxyCountExceeded       = "urn:oasis:names:tc:SAML:2.0:status:ProxyCountExceeded"
	StatusRequestDenied            = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
	StatusRequestUnsupported       = "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported"
	StatusRequestVersionDeprecated = "urn:oasis:names:tc:SAML:2.0:status:RequestVersionDeprecated"
	StatusRequestVersionTooHigh    = "urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooHigh"
	StatusRequestVersionTooLow     = "urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooLow"
	StatusResourceNotRecognized    = "urn:oasis:names:tc:SAML:2.0:status:ResourceNotRecognized"
	StatusTooManyResponses         = "urn:oasis:names:tc:SAML:2.0:status:TooManyResponses"
	StatusUnknownAttrProfile       = "urn:oasis:names:tc:SAML:2.0:status:UnknownAttrProfile"
	StatusUnknownPrincipal         = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"
	StatusUnsupportedBinding       = "urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding"
)

var topLevel = map[string]bool{StatusSuccess: true, StatusRequester: true, StatusResponder: true, StatusVersionMismatch: true}

// StatusCode is a samlp:StatusCode: a Value and an optional nested, more
// specific code (SAML Core §3.2.2.2).
type StatusCode struct {
	Value string
	Code  *StatusCode
}

// Status is a samlp:Status (SAML Core §3.2.2.1). Detail holds the children of
// samlp:StatusDetail as elements.
type Status struct {
	Code    StatusCode
	Message string
	Detail  []*etree.Element
}

// NewStatus returns a Status with top-level code top and, when second is not
// empty, that second-level code nested in it.
func NewStatus(top, second string) Status {
	s := Status{Code: StatusCode{Value: top}}
	if second != "" {
		s.Code.Code = &StatusCode{Value: second}
	}
	return s
}

// Success reports whether the top-level code is Success.
func (s Status) Success() bool { return s.Code.Value == StatusSuccess }

// Second returns the second-level code, "" when there is none.
func (s Status) Second() string {
	if s.Code.Code == nil {
		return ""
	}
	return s.Code.Code.Value
}

func (s *Status) appendTo(parent *etree.Element) {
	el := parent.CreateElement("samlp:Status")
	s.Code.appendTo(el)
	if s.Message != "" {
		wire.TextElement(el, "samlp:StatusMessage", s.Message)
	}
	if len(s.Detail) > 0 {
		d := el.CreateElement("samlp:StatusDetail")
		for _, c := range s.Detail {
			d.AddChild(xmlsec.DetachCopy(c))
		}
	}
}

func (c *StatusCode) appendTo(parent *etree.Element) {
	el := parent.CreateElement("samlp:StatusCode")
	el.CreateAttr("Value", c.Value)
	if c.Code != nil {
		c.Code.appendTo(el)
	}
}

// decodeStatus reads a samlp:Status. The top-level code must be one of the
// four of SAML Core §3.2.2.2 ("The top-level status code ... MUST be one of").
func decodeStatus(el *etree.Element) (Status, error) {
	var s Status
	c, err := wire.Required(el, NS, "StatusCode")
	if err != nil {
		return s, err
	}
	if s.Code, err = decodeStatusCode(c); err != nil {
		return s, err
	}
	if !topLevel[s.Code.Value] {
		return s, Errorf(KindStatus, "top-level StatusCode %q", s.Code.Value)
	}
	if m, err := wire.Optional(el, NS, "StatusMessage"); err != nil {
		return s, err
	} else if m != nil {
		if s.Message, err = wire.Text(m); err != nil {
			return s, err
		}
	}
	d, err := wire.Optional(el, NS, "StatusDetail")
	if d != nil {
		for _, ch := range d.ChildElements() {
			s.Detail = append(s.Detail, xmlsec.DetachCopy(ch))
		}
	}
	return s, err
}

// decodeStatusCode reads a StatusCode and its nested codes; the depth is
// bounded by the parser's depth limit.
func decodeStatusCode(el *etree.Element) (StatusCode, error) {
	v, err := wire.RequiredAttr(el, "Value")
	if err != nil {
		return StatusCode{}, err
	}
	sc := StatusCode{Value: v}
	sub, err := wire.Optional(el, NS, "StatusCode")
	if err != nil || sub == nil {
		return sc, err
	}
	nested, err := decodeStatusCode(sub)
	sc.Code = &nested
	return sc, err
}

// versionError is the error for a Version other than 2.0; a responder
// answers it with VersionMismatch (SAML Core §3.2.2.2).
func versionError(v string) error {
	return saml.Errorf(saml.KindVersion, "Version %q", v)
}
