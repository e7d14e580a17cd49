package server

import (
	"context"
	"crypto/x509"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
)

// Service handles the verified messages of one wsa:Action. It returns the
// reply payload, or an error: a *wsf.Error becomes its fault through the
// table of wsf.FaultFor, anything else an S:Server fault.
type Service interface {
	Serve(ctx context.Context, m *Message) (*Reply, error)
}

// ServiceFunc adapts a function to Service.
type ServiceFunc func(ctx context.Context, m *Message) (*Reply, error)

// Serve calls f.
func (f ServiceFunc) Serve(ctx context.Context, m *Message) (*Reply, error) { return f(ctx, m) }

// Message is a request that passed the whole pipeline: everything in it
// was covered by the signature (or, for peerSAMLV2, came over the
// client-authenticated channel) and the token rules held. The one
// exception is an unsigned Bearer message a peer profile opts in to
// (IDWSF2 §11 item 19): its Sender is only what sb:Sender names, and
// SenderProven is false. A service that authorizes by Sender must require
// SenderProven.
type Message struct {
	Sender *wsf.Peer
	// SenderProven reports that the sender's metadata key signed the
	// message or is the TLS client key.
	SenderProven bool
	Header       *wsf.Header
	Payload      *etree.Element
	Invocation   *secmech.Invocation
	// InvokerCert is the sender's metadata certificate whose key signed
	// the message or, without a signature, is the TLS client key: the key
	// a token minted for this sender binds to (holder-of-key). Nil when
	// the sender proved neither.
	InvokerCert *x509.Certificate
	// Received is the clock reading the pipeline used.
	Received time.Time
}

// Simulate reports whether the sender asked for a dry run
// (ProcessingContext Simulate): the service must change nothing.
func (m *Message) Simulate() bool {
	return m.Header.ProcessingContext == wsf.ProcessingContextSimulate
}

// NeedInteraction returns the error a service answers when it needs the
// user (IDWSF2 §2.6): a RedirectRequest to redirectURL when the sender
// allows redirection (the fault gets transactionID = its own MessageID,
// which the re-sent request relates to); InteractionRequired (or
// InteractionRequiredForData when forData) without one otherwise.
func (m *Message) NeedInteraction(redirectURL string, forData bool) error {
	u := m.Header.UserInteraction
	code := wsf.InteractionRequired
	if forData {
		code = wsf.InteractionRequiredForData
	}
	interact := u.EffectiveInteract()
	forbidden := interact == wsf.DoNotInteract || (forData && interact == wsf.DoNotInteractForData)
	if u == nil || !u.Redirect || forbidden || redirectURL == "" {
		return wsf.Errorf(code, "interaction needed, not permitted by sb:UserInteraction")
	}
	return &wsf.Error{Code: code, RedirectURL: redirectURL}
}

func withParam(u, k, v string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + k + "=" + queryEscape(v)
}

// Reply is what a service answers: the Body payload and the header blocks
// it adds (for example sb:UsageDirective or sb:EndpointUpdate). Action
// defaults to the request's Action with "Response" appended.
type Reply struct {
	Payload *etree.Element
	Action  string
	Header  wsf.Header
}
