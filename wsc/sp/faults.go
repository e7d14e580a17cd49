package sp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/faults"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// Deliberate faults, for the conformance suite's broken builds only: in a
// build with the renkei_faults tag, SetFaults switches on those it names,
// and each makes the SP skip one check a conforming SP must make, so that
// the suite can show it catches that SP. In every other build fault is a
// constant false (internal/faults) and the checks cannot be switched off.
const (
	FaultSkipAudience    = "skip-audience-check"       // accept an assertion whose AudienceRestriction names another SP
	FaultAcceptUnsigned  = "accept-unsigned-assertion" // read an assertion that carries no signature as if it were signed
	FaultSkipReplayCheck = "skip-replay-check"         // accept an assertion ID seen before
	// FaultAcceptUnsignedLogout reads an IdP's LogoutRequest over
	// HTTP-Redirect that carries no query signature as if it were signed.
	FaultAcceptUnsignedLogout = "accept-unsigned-logout"
)

// Faults lists every fault name.
var Faults = []string{FaultSkipAudience, FaultAcceptUnsigned, FaultSkipReplayCheck, FaultAcceptUnsignedLogout}

// FaultsEnabled reports a deliberately broken build.
const FaultsEnabled = faults.Enabled

var faultSet = faults.New("sp", Faults...)

// fault reports whether the named fault is switched on.
func (*SP) fault(name string) bool { return faultSet.On(name) }

// faultSignUnsigned is FaultAcceptUnsigned: an assertion without a
// signature is signed here with a throwaway key, and v replaced by a
// verifier that trusts that key alone, so that what follows reads it as
// verified.
func faultSignUnsigned(el *etree.Element, v *dsig.Verifier) (*etree.Element, *dsig.Verifier) {
	for _, c := range el.ChildElements() {
		if c.Tag == "Signature" {
			return el, v
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return el, v
	}
	signed, err := (&dsig.Signer{Key: key}).Sign(el)
	if err != nil {
		return el, v
	}
	return signed, &dsig.Verifier{Trust: xmlsec.NewTrustSet(nil, key.Public())}
}

// faultAudience is FaultSkipAudience: a copy of a whose audience
// restrictions name this SP alone.
func (s *SP) faultAudience(a *saml.Assertion) *saml.Assertion {
	if a.Conditions == nil {
		return a
	}
	c, cond := *a, *a.Conditions
	cond.AudienceRestrictions = []saml.AudienceRestriction{{Audiences: []string{s.cfg.EntityID}}}
	c.Conditions = &cond
	return &c
}
