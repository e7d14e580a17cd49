package discovery

import (
	"crypto/x509"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
)

// Invoker is what the receiver verified about a request: who sent it, by
// which mechanism, and on whose behalf (IDWSF2 §3.4). Services builds it
// from a wsf/server Message; tests and the conformance suite's fault
// builds build it directly.
type Invoker struct {
	// Provider is the sb:Sender's entityID; Proven that its metadata key
	// signed the message or is the TLS client key. Only a proven sender
	// is given anything.
	Provider string
	Proven   bool
	// Profile is the sender's peer profile (TLS:Bearer only when it
	// allows it).
	Profile wsf.Profile
	// Cert is the sender's metadata certificate it proved: the key a
	// holder-of-key token minted for it binds to.
	Cert      *x509.Certificate
	Mechanism wsf.Mechanism
	// Subject is the principal as the DS token names it (its NameID at
	// this DS); nil under ClientTLS:X509, where the provider acts as
	// itself. TokenIssuer is that token's issuer and TokenEnd its
	// NotOnOrAfter.
	Subject     *saml.NameID
	TokenIssuer string
	TokenEnd    time.Time
	// AuthnInstant and AuthnClass are the card login the token reports
	// (its AuthnStatement); zero when it has none.
	AuthnInstant time.Time
	AuthnClass   string
	// SessionIndex is the DS's SessionIndex in the IdP session the token
	// belongs to (its AuthnStatement); "" when it names none.
	SessionIndex string
	// Purpose is the purpose URI of sb:UsageDirective (wsf.Purpose).
	Purpose string
	// Consent is the sb:Consent URI, "" when absent.
	Consent string
	// Interaction is sb:UserInteraction; nil when absent.
	Interaction *wsf.UserInteraction
	// MessageID is the request's wsa:MessageID; Simulate a dry run.
	MessageID string
	Simulate  bool
}

// ActsAsItself reports whether the provider invokes as itself
// (ClientTLS:X509), as the SvcMD operations require.
func (inv *Invoker) ActsAsItself() bool {
	return inv.Proven && inv.Mechanism == wsf.ClientTLSX509 && inv.Subject == nil
}
