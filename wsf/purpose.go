package wsf

import (
	"net/url"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// NSPolicy is Renkei's policy language for sb:UsageDirective
// (ARCHITECTURE "Audit": the purpose of an access comes from the usage
// directive): one rk:Purpose element whose text is a purpose URI. The
// digest leaves the policy language open (IDWSF2 §2.2).
const NSPolicy = "urn:renkei:policy:1.0"

// The purposes of the federation policy.
const (
	// PurposeSelf: the citizen reads their own data (My Portal).
	PurposeSelf = "urn:renkei:purpose:self"
	// PurposeEligibility: a hospital checks insurance eligibility.
	PurposeEligibility = "urn:renkei:purpose:eligibility"
	// PurposeTreatment: staff read clinical results with the card present.
	PurposeTreatment = "urn:renkei:purpose:treatment"
)

// PurposeDirective returns the sb:UsageDirective that states purpose
// about the Body.
func PurposeDirective(purpose string) UsageDirective {
	el := etree.NewElement("rk:Purpose")
	el.CreateAttr("xmlns:rk", NSPolicy)
	el.SetText(purpose)
	return UsageDirective{Ref: IDBody, Policies: []*etree.Element{el}}
}

// MaxPurposeLen bounds a purpose URI: it is an identifier of the
// federation policy, never free text, and it is kept in the audit log.
const MaxPurposeLen = 256

// Purpose returns the purpose URI of the first rk:Purpose in the header's
// usage directives, or "" when none states one. A purpose that is not an
// absolute URI of at most MaxPurposeLen bytes is an error the receiver
// answers CannotHonourUsageDirective: it would otherwise carry free text
// into the relay database's audit log.
func Purpose(h *Header) (string, error) {
	if h == nil {
		return "", nil
	}
	for _, u := range h.UsageDirectives {
		for _, p := range u.Policies {
			if !wire.Is(p, NSPolicy, "Purpose") {
				continue
			}
			v := strings.TrimSpace(p.Text())
			if len(v) > MaxPurposeLen || !absoluteURI(v) {
				return "", Errorf(CannotHonourUsageDirective, "rk:Purpose is not an absolute URI of at most %d bytes", MaxPurposeLen)
			}
			return v, nil
		}
	}
	return "", nil
}

// absoluteURI reports whether v is a URI with a scheme and no space or
// control character.
func absoluteURI(v string) bool {
	for _, r := range v {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	u, err := url.Parse(v)
	return err == nil && u.Scheme != "" && (u.Opaque != "" || u.Host != "")
}
