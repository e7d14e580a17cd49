package wsf

import (
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Block is one SOAP header block as received.
type Block struct {
	Element *etree.Element
	Known   bool // a block this binding understands
}

// understood lists the header blocks this binding processes, by namespace
// and local name: sbf:Framework, the sb and wsa blocks of IDWSF2 §2.2 and
// wsse:Security. Anything else with mustUnderstand="1" is a fault.
var understood = map[string]map[string]bool{
	NSSBF: {"Framework": true},
	NSSB: {"Sender": true, "TargetIdentity": true, "UserInteraction": true, "Consent": true,
		"UsageDirective": true, "EndpointUpdate": true, "Timeout": true, "ProcessingContext": true,
		"CredentialsContext": true, "ApplicationEPR": true},
	NSWSA:  {"MessageID": true, "RelatesTo": true, "Action": true, "To": true, "ReplyTo": true, "FaultTo": true},
	NSWSSE: {"Security": true},
}

// IsUnderstood reports whether el is a header block this binding
// processes.
func IsUnderstood(el *etree.Element) bool {
	return understood[el.NamespaceURI()][el.Tag]
}

// CheckMustUnderstand applies SOAP 1.1 §4.2.3 to every block of S:Header:
// a block addressed to this node (no S:actor, or S:actor next) whose
// S:mustUnderstand is true and that is not understood is
// ErrMustUnderstand (IDWSF2 §2.3 step 1). A mustUnderstand value that is
// not an xs:boolean is ErrInvalidMustUnderstand, an empty actor
// ErrInvalidActor. It returns the blocks addressed to this node.
func CheckMustUnderstand(hdr *etree.Element) ([]Block, error) {
	var out []Block
	for _, el := range hdr.ChildElements() {
		forUs, mu, err := blockTarget(el)
		if err != nil {
			return nil, err
		}
		if !forUs {
			continue
		}
		known := IsUnderstood(el)
		if mu && !known {
			return nil, &Error{Code: CodeMustUnderstand, Detail: "not understood: " + wire.Name(el)}
		}
		out = append(out, Block{Element: el, Known: known})
	}
	return out, nil
}

// blockTarget reads a block's S:actor and S:mustUnderstand.
func blockTarget(el *etree.Element) (forUs, mustUnderstand bool, err error) {
	actor, hasActor := wire.AttrNS(el, NSSOAP, "actor")
	if hasActor && strings.TrimSpace(actor) == "" {
		return false, false, Errorf(InvalidActor, "empty S:actor on %s", wire.Name(el))
	}
	if hasActor && strings.TrimSpace(actor) != ActorNext {
		return false, false, nil
	}
	v, ok := wire.AttrNS(el, NSSOAP, "mustUnderstand")
	if !ok {
		return true, false, nil
	}
	mu, perr := wire.ParseBool(v)
	if perr != nil {
		return false, false, Wrap(InvalidMustUnderstand, perr, wire.Name(el))
	}
	return true, mu, nil
}

// DecodeHeader reads the understood blocks into a Header. Repeated blocks
// that may occur once are ErrMsgNotUnderstood, as is a malformed block.
// wsse:Security is left to wsf/secmech; unknown blocks are skipped.
func DecodeHeader(blocks []Block) (*Header, error) {
	h := &Header{}
	seen := map[string]bool{}
	for _, b := range blocks {
		if !b.Known {
			continue
		}
		key := b.Element.NamespaceURI() + " " + b.Element.Tag
		if seen[key] && !repeatable[key] {
			return nil, Errorf(IDStarMsgNotUnderstood, "header %s repeated", wire.Name(b.Element))
		}
		seen[key] = true
		if err := h.decodeBlock(b.Element); err != nil {
			return nil, Wrap(IDStarMsgNotUnderstood, err, wire.Name(b.Element))
		}
	}
	return h, nil
}

var repeatable = map[string]bool{
	NSSB + " UsageDirective": true,
	NSSB + " ApplicationEPR": true,
	NSWSSE + " Security":     true, // several only with distinct actors; secmech picks ours
}

func (h *Header) decodeBlock(el *etree.Element) error {
	ns := el.NamespaceURI()
	switch {
	case ns == NSSBF:
		return h.decodeFramework(el)
	case ns == NSWSA:
		return h.decodeWSA(el)
	case ns == NSSB:
		return h.decodeSB(el)
	}
	return nil
}

func (h *Header) decodeFramework(el *etree.Element) error {
	v, err := wire.RequiredAttr(el, "version")
	if err != nil {
		return err
	}
	h.Framework.Version = strings.TrimSpace(v)
	h.Framework.Profile, _ = wire.AttrNS(el, NSSBProf, "profile")
	return nil
}

func (h *Header) decodeWSA(el *etree.Element) error {
	var err error
	switch el.Tag {
	case "MessageID":
		h.MessageID, err = wire.URI(el)
	case "RelatesTo":
		h.RelatesTo, err = decodeRelatesTo(el)
	case "Action":
		h.Action, err = wire.URI(el)
	case "To":
		h.To, err = wire.URI(el)
	case "ReplyTo":
		h.ReplyTo, err = DecodeEPR(el)
	case "FaultTo":
		h.FaultTo, err = DecodeEPR(el)
	}
	return err
}

// relationshipReply is the default RelationshipType of wsa:RelatesTo.
const relationshipReply = "http://www.w3.org/2005/08/addressing/reply"

func decodeRelatesTo(el *etree.Element) (string, error) {
	if t, ok := wire.Attr(el, "RelationshipType"); ok && strings.TrimSpace(t) != relationshipReply {
		return "", xmlsec.Errorf(xmlsec.KindMalformed, "wsa:RelatesTo RelationshipType %q", t)
	}
	return wire.URI(el)
}

func (h *Header) decodeSB(el *etree.Element) error {
	switch el.Tag {
	case "Sender":
		return h.decodeSender(el)
	case "TargetIdentity":
		return h.decodeTargetIdentity(el)
	case "UserInteraction":
		u, err := decodeUserInteraction(el)
		h.UserInteraction = u
		return err
	case "Consent":
		return h.decodeConsent(el)
	case "UsageDirective":
		return h.decodeUsageDirective(el)
	}
	return h.decodeLateSB(el)
}

func (h *Header) decodeLateSB(el *etree.Element) error {
	var err error
	switch el.Tag {
	case "EndpointUpdate":
		h.EndpointUpdate, err = decodeEndpointUpdate(el)
	case "Timeout":
		h.Timeout, err = secondsAttr(el, "maxProcessingTime", true)
	case "ProcessingContext":
		h.ProcessingContext, err = wire.URI(el)
	case "CredentialsContext":
		h.CredentialsContext, err = decodeCredentialsContext(el)
	case "ApplicationEPR":
		var e *EPR
		e, err = DecodeEPR(el)
		h.ApplicationEPRs = append(h.ApplicationEPRs, e)
	}
	return err
}

func (h *Header) decodeSender(el *etree.Element) error {
	p, err := wire.RequiredAttr(el, "providerID")
	if err != nil {
		return err
	}
	h.Sender = &Sender{ProviderID: strings.TrimSpace(p)}
	h.Sender.AffiliationID, _ = wire.Attr(el, "affiliationID")
	return nil
}

func (h *Header) decodeTargetIdentity(el *etree.Element) error {
	kids := el.ChildElements()
	if len(kids) > 1 {
		return xmlsec.Errorf(xmlsec.KindMalformed, "sb:TargetIdentity holds %d tokens", len(kids))
	}
	h.TargetIdentity = &TargetIdentity{}
	if len(kids) == 1 {
		h.TargetIdentity.Token = kids[0]
	}
	return nil
}

func decodeUserInteraction(el *etree.Element) (*UserInteraction, error) {
	u := &UserInteraction{}
	u.Interact, _ = wire.Attr(el, "interact")
	u.Interact = u.EffectiveInteract()
	if l, ok := wire.Attr(el, "language"); ok {
		u.Language = strings.Fields(l)
	}
	if r, ok := wire.Attr(el, "redirect"); ok {
		var err error
		if u.Redirect, err = wire.ParseBool(r); err != nil {
			return nil, err
		}
	}
	var err error
	if u.MaxInteractTime, err = secondsAttr(el, "maxInteractTime", false); err != nil {
		return nil, err
	}
	for _, s := range wire.Children(el, NSSB, "InteractionService") {
		e, err := DecodeEPR(s)
		if err != nil {
			return nil, err
		}
		u.InteractionServices = append(u.InteractionServices, e)
	}
	return u, nil
}

func (h *Header) decodeConsent(el *etree.Element) error {
	uri, err := wire.RequiredAttr(el, "uri")
	if err != nil {
		return err
	}
	c := &Consent{URI: strings.TrimSpace(uri)}
	if c.Timestamp, err = wire.TimeAttr(el, "timestamp"); err != nil {
		return err
	}
	h.Consent = c
	return nil
}

// decodeUsageDirective reads an sb:UsageDirective; a missing ref is left
// empty here and judged by the receiver's profile (IDWSF2 §11 item 15).
func (h *Header) decodeUsageDirective(el *etree.Element) error {
	u := UsageDirective{}
	u.Ref, _ = wire.Attr(el, "ref")
	u.Policies = el.ChildElements()
	h.UsageDirectives = append(h.UsageDirectives, u)
	return nil
}

func decodeEndpointUpdate(el *etree.Element) (*EndpointUpdate, error) {
	e, err := DecodeEPR(el)
	if err != nil {
		return nil, err
	}
	u := &EndpointUpdate{EPR: *e}
	u.UpdateType, _ = wire.Attr(el, "updateType")
	return u, nil
}

func decodeCredentialsContext(el *etree.Element) (*CredentialsContext, error) {
	c := &CredentialsContext{}
	var err error
	if c.RequestedAuthnContext, err = wire.Optional(el, NSSAMLP, "RequestedAuthnContext"); err != nil {
		return nil, err
	}
	if c.Mechanisms, err = uriList(el, NSSB, "SecurityMechID"); err != nil {
		return nil, err
	}
	return c, nil
}

// maxSeconds bounds the integer header attributes (a day).
const maxSeconds = 86400

// secondsAttr reads a non-negative xs:integer number of seconds.
func secondsAttr(el *etree.Element, name string, required bool) (time.Duration, error) {
	v, ok := wire.Attr(el, name)
	if !ok {
		if required {
			return 0, xmlsec.Errorf(xmlsec.KindMalformed, "%s lacks %s", wire.Name(el), name)
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || n > maxSeconds {
		return 0, xmlsec.Errorf(xmlsec.KindMalformed, "%s %s=%q is not a number of seconds up to %d", wire.Name(el), name, v, maxSeconds)
	}
	return time.Duration(n) * time.Second, nil
}
