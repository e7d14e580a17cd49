package samlp

import (
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Logout reasons (SAML Core §3.7.3).
const (
	LogoutUser  = "urn:oasis:names:tc:SAML:2.0:logout:user"
	LogoutAdmin = "urn:oasis:names:tc:SAML:2.0:logout:admin"
)

// LogoutRequest is a samlp:LogoutRequest (SAML Core §3.7.1): the principal
// as a NameID or an EncryptedID (a BaseID is refused), and the sessions to
// end, none meaning all of that principal's.
type LogoutRequest struct {
	RequestHeader
	Signed         bool
	NotOnOrAfter   time.Time
	Reason         string
	NameID         *saml.NameID
	EncryptedID    *saml.EncryptedID
	SessionIndexes []string
}

// LogoutResponse is a samlp:LogoutResponse (SAML Core §3.7.2).
type LogoutResponse struct {
	StatusResponseHeader
	Signed bool
}

var (
	_ Message = (*LogoutRequest)(nil)
	_ Message = (*LogoutResponse)(nil)
)

// Element renders the request as a samlp:LogoutRequest, children in schema
// order.
func (r *LogoutRequest) Element() *etree.Element {
	el := r.RequestHeader.element("LogoutRequest")
	wire.SetTimeAttr(el, "NotOnOrAfter", r.NotOnOrAfter)
	wire.SetAttr(el, "Reason", r.Reason)
	appendIdentifier(el, r.NameID, r.EncryptedID)
	for _, s := range r.SessionIndexes {
		wire.TextElement(el, "samlp:SessionIndex", s)
	}
	return el
}

// Element renders the response as a samlp:LogoutResponse.
func (r *LogoutResponse) Element() *etree.Element {
	return r.StatusResponseHeader.element("LogoutResponse")
}

// appendIdentifier adds a saml:NameID or saml:EncryptedID child.
func appendIdentifier(el *etree.Element, n *saml.NameID, e *saml.EncryptedID) {
	switch {
	case n != nil:
		c := n.Element()
		c.RemoveAttr("xmlns:saml")
		el.AddChild(c)
	case e != nil && e.Element != nil:
		el.AddChild(xmlsec.DetachCopy(e.Element))
	}
}

var logoutRequestChildren = []qname{qIssuer, qSignature, qExtensions,
	{saml.NS, "NameID"}, {saml.NS, "EncryptedID"}, {NS, "SessionIndex"}}

// DecodeLogoutRequest reads a samlp:LogoutRequest that the caller has
// authenticated (VerifyLogoutRequest, a Redirect query signature, or an
// authenticated SOAP channel). Exactly one identifier is required.
func DecodeLogoutRequest(el *etree.Element) (*LogoutRequest, error) {
	if err := expect(el, "LogoutRequest"); err != nil {
		return nil, err
	}
	r := &LogoutRequest{Signed: hasSignature(el)}
	if err := r.RequestHeader.decode(el); err != nil {
		return nil, err
	}
	if err := checkSequenceRepeating(el, logoutRequestChildren, qname{NS, "SessionIndex"}); err != nil {
		return nil, err
	}
	var err error
	if r.NotOnOrAfter, err = wire.TimeAttr(el, "NotOnOrAfter"); err != nil {
		return nil, err
	}
	r.Reason, _ = wire.Attr(el, "Reason")
	if r.NameID, r.EncryptedID, err = decodeIdentifier(el); err != nil {
		return nil, err
	}
	for _, s := range wire.Children(el, NS, "SessionIndex") {
		v, err := wire.Text(s)
		if err != nil {
			return nil, err
		}
		r.SessionIndexes = append(r.SessionIndexes, v)
	}
	return r, nil
}

// DecodeLogoutResponse reads a samlp:LogoutResponse that the caller has
// authenticated.
func DecodeLogoutResponse(el *etree.Element) (*LogoutResponse, error) {
	if err := expect(el, "LogoutResponse"); err != nil {
		return nil, err
	}
	r := &LogoutResponse{Signed: hasSignature(el)}
	if err := checkSequence(el, responseChildren); err != nil {
		return nil, err
	}
	return r, r.StatusResponseHeader.decode(el)
}

// VerifyLogoutRequest checks the enveloped signature with v and decodes
// what was signed.
func VerifyLogoutRequest(el *etree.Element, v *dsig.Verifier) (*LogoutRequest, *etree.Element, error) {
	signed, err := verifyNamed(el, "LogoutRequest", v)
	if err != nil {
		return nil, nil, err
	}
	r, err := DecodeLogoutRequest(signed)
	if err != nil {
		return nil, nil, err
	}
	r.Signed = true
	return r, signed, nil
}

// VerifyLogoutResponse checks the enveloped signature with v and decodes
// what was signed.
func VerifyLogoutResponse(el *etree.Element, v *dsig.Verifier) (*LogoutResponse, *etree.Element, error) {
	signed, err := verifyNamed(el, "LogoutResponse", v)
	if err != nil {
		return nil, nil, err
	}
	r, err := DecodeLogoutResponse(signed)
	if err != nil {
		return nil, nil, err
	}
	r.Signed = true
	return r, signed, nil
}

// expect refuses an element that is not samlp:local.
func expect(el *etree.Element, local string) error {
	if !wire.Is(el, NS, local) {
		return xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a samlp:%s", wire.Name(el), local)
	}
	return nil
}

// verifyNamed checks that el is samlp:local and verifies its signature.
func verifyNamed(el *etree.Element, local string, v *dsig.Verifier) (*etree.Element, error) {
	if err := expect(el, local); err != nil {
		return nil, err
	}
	return v.Verify(el)
}

// decodeIdentifier reads the one saml:NameID or saml:EncryptedID of a
// request; a saml:BaseID, none or two are refused.
func decodeIdentifier(el *etree.Element) (*saml.NameID, *saml.EncryptedID, error) {
	if len(wire.Children(el, saml.NS, "BaseID")) > 0 {
		return nil, nil, xmlsec.Errorf(xmlsec.KindMalformed, "saml:BaseID is not supported")
	}
	n := wire.Children(el, saml.NS, "NameID")
	e := wire.Children(el, saml.NS, "EncryptedID")
	switch {
	case len(n)+len(e) != 1:
		return nil, nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s needs exactly one NameID or EncryptedID", wire.Name(el))
	case len(e) == 1:
		return nil, &saml.EncryptedID{Element: xmlsec.DetachCopy(e[0])}, nil
	}
	id, err := decodeNameID(n[0])
	return id, nil, err
}

// CheckWindow checks the times of an authenticated LogoutRequest as a
// session participant receiving it must (SAML Core §3.2.1, §3.7.1):
// IssueInstant no further ahead of now than skew (ErrNotYetValid) and no
// older than lifetime plus skew, and NotOnOrAfter, when present, not
// passed (ErrExpired). It returns until when the request's ID must be
// remembered against a replay: the later of NotOnOrAfter and
// IssueInstant+lifetime, plus skew.
func (r *LogoutRequest) CheckWindow(now time.Time, skew, lifetime time.Duration) (time.Time, error) {
	switch {
	case r.IssueInstant.After(now.Add(skew)):
		return time.Time{}, Errorf(KindNotYetValid, "IssueInstant %s", r.IssueInstant.Format(time.RFC3339))
	case r.IssueInstant.Before(now.Add(-skew - lifetime)):
		return time.Time{}, Errorf(KindExpired, "IssueInstant %s", r.IssueInstant.Format(time.RFC3339))
	case !r.NotOnOrAfter.IsZero() && !now.Add(-skew).Before(r.NotOnOrAfter):
		return time.Time{}, Errorf(KindExpired, "NotOnOrAfter %s has passed", r.NotOnOrAfter.Format(time.RFC3339))
	}
	end := r.IssueInstant.Add(lifetime)
	if r.NotOnOrAfter.After(end) {
		end = r.NotOnOrAfter
	}
	return end.Add(skew), nil
}
