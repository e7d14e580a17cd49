package wsf

import (
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Timestamp is a wsu:Timestamp (WS-Security 1.0 §10): Created is required
// by ID-WSF (IDWSF2 §2.2), Expires optional.
type Timestamp struct {
	Created time.Time
	Expires time.Time
}

// Element renders the timestamp with wsu:Id "TS".
func (ts Timestamp) Element() *etree.Element {
	el := etree.NewElement("wsu:Timestamp")
	el.CreateAttr("xmlns:wsu", NSWSU)
	el.CreateAttr("wsu:Id", IDTimestamp)
	wire.TextElement(el, "wsu:Created", wire.FormatTime(ts.Created))
	if !ts.Expires.IsZero() {
		wire.TextElement(el, "wsu:Expires", wire.FormatTime(ts.Expires))
	}
	return el
}

// DecodeTimestamp reads a wsu:Timestamp; a missing Created is StaleMsg, as
// ZXID reports it (IDWSF2 §2.5).
func DecodeTimestamp(el *etree.Element) (Timestamp, error) {
	var ts Timestamp
	c, err := wire.Optional(el, NSWSU, "Created")
	if err != nil {
		return ts, err
	}
	if c == nil {
		return ts, Errorf(StaleMsg, "wsu:Timestamp without wsu:Created")
	}
	if ts.Created, err = timeText(c); err != nil {
		return ts, err
	}
	e, err := wire.Optional(el, NSWSU, "Expires")
	if err != nil || e == nil {
		return ts, err
	}
	ts.Expires, err = timeText(e)
	return ts, err
}

func timeText(el *etree.Element) (time.Time, error) {
	s, err := wire.Text(el)
	if err != nil {
		return time.Time{}, err
	}
	return wire.ParseTime(s)
}

// Check applies IDWSF2 §2.3 step 5 at now: Created no further than skew in
// the future nor older than maxAge (+ skew), and Expires, when present, not
// passed (less skew). Anything else is StaleMsg.
func (ts Timestamp) Check(now time.Time, skew, maxAge time.Duration) error {
	switch {
	case ts.Created.After(now.Add(skew)):
		return Errorf(StaleMsg, "created %s is in the future (now %s)", wire.FormatTime(ts.Created), wire.FormatTime(now))
	case now.Sub(ts.Created) > maxAge+skew:
		return Errorf(StaleMsg, "created %s is older than %s (now %s)", wire.FormatTime(ts.Created), maxAge, wire.FormatTime(now))
	case !ts.Expires.IsZero() && !now.Add(-skew).Before(ts.Expires):
		return Errorf(StaleMsg, "expired at %s (now %s)", wire.FormatTime(ts.Expires), wire.FormatTime(now))
	case !ts.Expires.IsZero() && ts.Expires.Before(ts.Created):
		return Errorf(StaleMsg, "expires before it is created")
	}
	return nil
}

// SecurityHeader is the unverified content of a wsse:Security block, each
// part located by name, never by position (IDWSF2 §11 item 13).
type SecurityHeader struct {
	Element             *etree.Element
	Timestamp           *etree.Element
	Signature           *etree.Element
	Assertions          []*etree.Element // saml:Assertion tokens
	EncryptedAssertions []*etree.Element
	BinaryTokens        []*etree.Element // wsse:BinarySecurityToken
	TokenReferences     []*etree.Element // wsse:SecurityTokenReference
}

// ReadSecurity locates the parts of a wsse:Security block. Two Timestamps
// or two Signatures are ErrMsgNotUnderstood.
func ReadSecurity(sec *etree.Element) (*SecurityHeader, error) {
	h := &SecurityHeader{Element: sec}
	var err error
	if h.Timestamp, err = wire.Optional(sec, NSWSU, "Timestamp"); err != nil {
		return nil, Wrap(IDStarMsgNotUnderstood, err, "wsse:Security")
	}
	if h.Signature, err = wire.Optional(sec, xmlsec.NSDSig, "Signature"); err != nil {
		return nil, Wrap(IDStarMsgNotUnderstood, err, "wsse:Security")
	}
	h.Assertions = wire.Children(sec, NSSAML, "Assertion")
	h.EncryptedAssertions = wire.Children(sec, NSSAML, "EncryptedAssertion")
	h.BinaryTokens = wire.Children(sec, NSWSSE, "BinarySecurityToken")
	h.TokenReferences = wire.Children(sec, NSWSSE, "SecurityTokenReference")
	return h, nil
}
