package wsf

import (
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

// Purpose returns the purpose URI of the first rk:Purpose in the header's
// usage directives, or "" when none states one.
func Purpose(h *Header) string {
	if h == nil {
		return ""
	}
	for _, u := range h.UsageDirectives {
		for _, p := range u.Policies {
			if wire.Is(p, NSPolicy, "Purpose") {
				return strings.TrimSpace(p.Text())
			}
		}
	}
	return ""
}
