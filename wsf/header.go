package wsf

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Header holds the WS-Addressing and ID-WSF header blocks of a message
// (IDWSF2 §2.2). wsse:Security is built and read by wsf/secmech.
type Header struct {
	Framework          Framework
	Sender             *Sender
	MessageID          string
	RelatesTo          string
	Action             string
	To                 string
	ReplyTo            *EPR // sent with the Anonymous address when set
	FaultTo            *EPR
	TargetIdentity     *TargetIdentity
	UserInteraction    *UserInteraction
	Consent            *Consent
	UsageDirectives    []UsageDirective
	EndpointUpdate     *EndpointUpdate
	Timeout            time.Duration // sb:Timeout maxProcessingTime, whole seconds; 0 = absent
	ProcessingContext  string
	CredentialsContext *CredentialsContext
	ApplicationEPRs    []*EPR
	// ReferenceParameters are the children of the target EPR's
	// wsa:ReferenceParameters, sent as header blocks with
	// wsa:IsReferenceParameter="true" (WS-Addressing 1.0 SOAP §2.3).
	ReferenceParameters []*etree.Element
}

// Framework is the sbf:Framework header (IDWSF2 §2.2); Profile is the
// optional sbfprofile:profile attribute.
type Framework struct {
	Version string
	Profile string
}

// Sender is the sb:Sender header: the sender's entity ID and, optionally,
// the affiliation it acts for.
type Sender struct {
	ProviderID    string
	AffiliationID string
}

// TargetIdentity is the sb:TargetIdentity header: the token naming the
// principal whose resource is addressed, kept as a standalone element.
type TargetIdentity struct {
	Token *etree.Element
}

// Interact values of sb:UserInteraction, in the schema's spelling; they
// are compared case-insensitively on receipt (IDWSF2 §11 item 6).
const (
	InteractIfNeeded     = "interactIfNeeded"
	DoNotInteract        = "doNotInteract"
	DoNotInteractForData = "doNotInteractForData"
)

// UserInteraction is the sb:UserInteraction header (IDWSF2 §2.2).
type UserInteraction struct {
	Interact            string // "" means InteractIfNeeded
	Language            []string
	Redirect            bool
	MaxInteractTime     time.Duration // whole seconds; 0 = absent
	InteractionServices []*EPR
}

// EffectiveInteract returns the interact value in the schema's spelling,
// InteractIfNeeded when absent.
func (u *UserInteraction) EffectiveInteract() string {
	if u == nil || u.Interact == "" {
		return InteractIfNeeded
	}
	for _, v := range []string{InteractIfNeeded, DoNotInteract, DoNotInteractForData} {
		if strings.EqualFold(v, u.Interact) {
			return v
		}
	}
	return u.Interact
}

// Consent is the sb:Consent header.
type Consent struct {
	URI       string
	Timestamp time.Time
}

// UsageDirective is an sb:UsageDirective header: policy elements about
// the element whose ID is Ref.
type UsageDirective struct {
	Ref      string
	Policies []*etree.Element
}

// EndpointUpdate is the sb:EndpointUpdate header: the new EPR to use from
// now on, and how it updates the old one.
type EndpointUpdate struct {
	EPR
	UpdateType string
}

// CredentialsContext is the sb:CredentialsContext header: the credentials
// a WSP wants (usually sent with InappropriateCredentials).
type CredentialsContext struct {
	RequestedAuthnContext *etree.Element
	Mechanisms            []string
}

// The wsu:Id values Renkei gives the blocks it writes.
const (
	IDFramework       = "FWK"
	IDSender          = "SND"
	IDMessageID       = "MID"
	IDRelatesTo       = "REL"
	IDAction          = "ACT"
	IDTo              = "TO"
	IDReplyTo         = "REP"
	IDFaultTo         = "FLT"
	IDTargetIdentity  = "TID"
	IDUserInteraction = "UI"
	IDConsent         = "CNS"
	IDEndpointUpdate  = "EPU"
	IDTimeout         = "TMO"
	IDProcessingCtx   = "PCX"
	IDCredentialsCtx  = "CRC"
	IDTimestamp       = "TS"
	IDTokenReference  = "STR"
	IDBody            = "BDY"
	IDBinaryToken     = "BST"
)

// appendBlocks writes every header block into S:Header, each with its
// wsu:Id, S:mustUnderstand="1" and S:actor next (IDWSF2 §2.2).
func (h *Header) appendBlocks(hdr *etree.Element) {
	fw := block(hdr, "sbf:Framework", IDFramework)
	fw.CreateAttr("version", orDefault(h.Framework.Version, FrameworkVersion))
	if h.Framework.Profile != "" {
		fw.CreateAttr("xmlns:sbfprofile", NSSBProf)
		fw.CreateAttr("sbfprofile:profile", h.Framework.Profile)
	}
	if h.Sender != nil {
		s := block(hdr, "sb:Sender", IDSender)
		s.CreateAttr("providerID", h.Sender.ProviderID)
		wire.SetAttr(s, "affiliationID", h.Sender.AffiliationID)
	}
	textBlock(hdr, "wsa:MessageID", IDMessageID, h.MessageID)
	textBlock(hdr, "wsa:RelatesTo", IDRelatesTo, h.RelatesTo)
	textBlock(hdr, "wsa:To", IDTo, h.To)
	textBlock(hdr, "wsa:Action", IDAction, h.Action)
	eprBlock(hdr, "wsa:ReplyTo", IDReplyTo, h.ReplyTo)
	eprBlock(hdr, "wsa:FaultTo", IDFaultTo, h.FaultTo)
	h.appendSBBlocks(hdr)
	for _, p := range h.ReferenceParameters {
		c := xmlsec.DetachCopy(p)
		c.CreateAttr("xmlns:wsa", NSWSA)
		c.CreateAttr("wsa:IsReferenceParameter", "true")
		hdr.AddChild(c)
	}
}

func (h *Header) appendSBBlocks(hdr *etree.Element) {
	if h.TargetIdentity != nil {
		t := block(hdr, "sb:TargetIdentity", IDTargetIdentity)
		if h.TargetIdentity.Token != nil {
			t.AddChild(xmlsec.DetachCopy(h.TargetIdentity.Token))
		}
	}
	if h.UserInteraction != nil {
		h.UserInteraction.appendTo(block(hdr, "sb:UserInteraction", IDUserInteraction))
	}
	if h.Consent != nil {
		c := block(hdr, "sb:Consent", IDConsent)
		c.CreateAttr("uri", h.Consent.URI)
		wire.SetTimeAttr(c, "timestamp", h.Consent.Timestamp)
	}
	for i, u := range h.UsageDirectives {
		d := block(hdr, "sb:UsageDirective", "UD"+strconv.Itoa(i+1))
		d.CreateAttr("ref", u.Ref)
		for _, p := range u.Policies {
			d.AddChild(xmlsec.DetachCopy(p))
		}
	}
	h.appendLateBlocks(hdr)
}

func (h *Header) appendLateBlocks(hdr *etree.Element) {
	if h.EndpointUpdate != nil {
		e := block(hdr, "sb:EndpointUpdate", IDEndpointUpdate)
		h.EndpointUpdate.EPR.fill(e)
		wire.SetAttr(e, "updateType", h.EndpointUpdate.UpdateType)
	}
	if h.Timeout > 0 {
		t := block(hdr, "sb:Timeout", IDTimeout)
		t.CreateAttr("maxProcessingTime", strconv.FormatInt(ceilSeconds(h.Timeout), 10))
	}
	textBlock(hdr, "sb:ProcessingContext", IDProcessingCtx, h.ProcessingContext)
	if h.CredentialsContext != nil {
		c := block(hdr, "sb:CredentialsContext", IDCredentialsCtx)
		if h.CredentialsContext.RequestedAuthnContext != nil {
			c.AddChild(xmlsec.DetachCopy(h.CredentialsContext.RequestedAuthnContext))
		}
		for _, m := range h.CredentialsContext.Mechanisms {
			wire.TextElement(c, "sb:SecurityMechID", m)
		}
	}
	for i, e := range h.ApplicationEPRs {
		e.fill(block(hdr, "sb:ApplicationEPR", "AEP"+strconv.Itoa(i+1)))
	}
}

func (u *UserInteraction) appendTo(el *etree.Element) {
	el.CreateAttr("interact", u.EffectiveInteract())
	if len(u.Language) > 0 {
		el.CreateAttr("language", strings.Join(u.Language, " "))
	}
	if u.Redirect {
		el.CreateAttr("redirect", "1")
	}
	if u.MaxInteractTime > 0 {
		el.CreateAttr("maxInteractTime", strconv.FormatInt(ceilSeconds(u.MaxInteractTime), 10))
	}
	for _, s := range u.InteractionServices {
		s.fill(el.CreateElement("sb:InteractionService"))
	}
}

// ceilSeconds rounds a duration up to whole seconds, at least one.
func ceilSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		return 1
	}
	return s
}

// block appends a header block with its wsu:Id, mustUnderstand and actor.
func block(hdr *etree.Element, tag, id string) *etree.Element {
	el := hdr.CreateElement(tag)
	el.CreateAttr("wsu:Id", id)
	el.CreateAttr("S:mustUnderstand", "1")
	el.CreateAttr("S:actor", ActorNext)
	return el
}

func textBlock(hdr *etree.Element, tag, id, text string) {
	if text != "" {
		block(hdr, tag, id).SetText(text)
	}
}

func eprBlock(hdr *etree.Element, tag, id string, e *EPR) {
	if e == nil {
		return
	}
	el := block(hdr, tag, id)
	if e.Address == "" {
		e = &EPR{Address: Anonymous}
	}
	e.fill(el)
}

// IsAnonymous reports whether addr is the WS-Addressing anonymous address
// in either spelling met in the wild (IDWSF2 §11 item 3).
func IsAnonymous(addr string) bool {
	addr = strings.TrimSpace(addr)
	return addr == Anonymous || addr == AnonymousErrata
}

// NewMessageID returns a fresh "urn:uuid:" MessageID (RFC 9562 version 4)
// read from rnd; nil means crypto/rand.
func NewMessageID(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// ActionFault is the wsa:Action of a fault (WS-Addressing 1.0 SOAP
// Binding §6).
const ActionFault = "http://www.w3.org/2005/08/addressing/soap/fault"
