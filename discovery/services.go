package discovery

import (
	"context"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/server"
)

// Mount registers the Discovery operations of IDWSF2 §4 on a wsf/server
// configuration, by wsa:Action: the receiver verifies each message and
// its token, and the engine gets the Invoker it proved.
func (d *DS) Mount(c *server.Config) {
	c.Handle(disco.Action("Query"), op("Query", disco.DecodeQuery, d.Query))
	c.Handle(disco.Action("SvcMDRegister"), op("SvcMDRegister", disco.DecodeSvcMDRegister, d.Register))
	c.Handle(disco.Action("SvcMDQuery"), op("SvcMDQuery", disco.DecodeSvcMDQuery, d.SvcMDQuery))
	c.Handle(disco.Action("SvcMDReplace"), op("SvcMDReplace", disco.DecodeSvcMDReplace, d.Replace))
	c.Handle(disco.Action("SvcMDDelete"), op("SvcMDDelete", disco.DecodeSvcMDDelete, d.Delete))
	c.Handle(disco.Action("SvcMDAssociationAdd"), op("SvcMDAssociationAdd", disco.DecodeSvcMDAssociationAdd, d.AssociationAdd))
	c.Handle(disco.Action("SvcMDAssociationDelete"), op("SvcMDAssociationDelete", disco.DecodeSvcMDAssociationDelete, d.AssociationDelete))
	c.Handle(disco.Action("SvcMDAssociationQuery"), op("SvcMDAssociationQuery", disco.DecodeSvcMDAssociationQuery, d.AssociationQuery))
	c.Handle(audit.Action("Query"), server.Op(audit.NS, "Query", audit.DecodeQuery,
		func(ctx context.Context, m *server.Message, q *audit.Query) (*audit.QueryResponse, error) {
			inv, err := invokerOf(m)
			if err != nil {
				return nil, err
			}
			return d.Audit(ctx, inv, q)
		}))
	c.Simulate = true
	if d.fault(FaultAcceptReplay) {
		c.Replay, c.MemoSize = forgetfulReplay{}, -1
	}
}

func op[Req any, Resp server.Encoder](local string, decode func(*etree.Element) (Req, error),
	handle func(context.Context, *Invoker, Req) (Resp, error)) server.Service {
	return server.Op(disco.NS, local, decode, func(ctx context.Context, m *server.Message, req Req) (Resp, error) {
		inv, err := invokerOf(m)
		if err != nil {
			var zero Resp
			return zero, err
		}
		return handle(ctx, inv, req)
	})
}

// invokerOf returns what the receiver verified about m, or the error of
// a usage directive the DS cannot honour (CannotHonourUsageDirective),
// which the operations answer.
func invokerOf(m *server.Message) (*Invoker, error) {
	purpose, perr := wsf.Purpose(m.Header)
	inv := &Invoker{Provider: m.Sender.EntityID, Proven: m.SenderProven, Profile: m.Sender.Profile,
		Cert: m.InvokerCert, Purpose: purpose, Interaction: m.Header.UserInteraction,
		MessageID: m.Header.MessageID, Simulate: m.Simulate()}
	if c := m.Header.Consent; c != nil {
		inv.Consent = c.URI
	}
	if m.Invocation == nil {
		return inv, perr
	}
	inv.Mechanism = m.Invocation.Mechanism
	if t := m.Invocation.Token; t != nil {
		inv.Subject = t.Subject
		inv.TokenIssuer = t.Issuer.EntityID
		if c := t.Assertion.Conditions; c != nil {
			inv.TokenEnd = c.NotOnOrAfter
		}
		if as := t.Assertion.AuthnStatements; len(as) > 0 {
			inv.AuthnInstant, inv.AuthnClass, inv.SessionIndex = as[0].AuthnInstant, as[0].ClassRef, as[0].SessionIndex
		}
	}
	return inv, perr
}
