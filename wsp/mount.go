package wsp

import (
	"context"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/server"
)

// Mount registers the operations of every served service type on a
// wsf/server configuration, by wsa:Action (IDWSF2 §5: the service
// namespace, ':' and the element), and the audit service when it has
// readers. Writes are registered only for service types that offer them.
// The receiver verifies each message and its token; the engine gets the
// Invoker it proved.
func (w *WSP) Mount(c *server.Config) {
	for _, sc := range w.cfg.Services {
		s := w.services[sc.Type]
		svc, ns := s.svc, s.svc.NS
		c.Handle(svc.Action("Query"), op(svc, "Query", svc.DecodeQuery,
			func(ctx context.Context, inv *Invoker, q *dst.Query) (*etree.Element, error) {
				r, err := w.Query(ctx, inv, ns, q)
				return elem(r, err, svc.QueryResponseElement)
			}))
		if len(s.writable) == 0 {
			continue
		}
		c.Handle(svc.Action("Create"), op(svc, "Create", svc.DecodeCreate,
			func(ctx context.Context, inv *Invoker, q *dst.Create) (*etree.Element, error) {
				r, err := w.Create(ctx, inv, ns, q)
				return elem(r, err, svc.WriteResponseElement)
			}))
		c.Handle(svc.Action("Modify"), op(svc, "Modify", svc.DecodeModify,
			func(ctx context.Context, inv *Invoker, q *dst.Modify) (*etree.Element, error) {
				r, err := w.Modify(ctx, inv, ns, q)
				return elem(r, err, svc.WriteResponseElement)
			}))
		c.Handle(svc.Action("Delete"), op(svc, "Delete", svc.DecodeDelete,
			func(ctx context.Context, inv *Invoker, q *dst.Delete) (*etree.Element, error) {
				r, err := w.Delete(ctx, inv, ns, q)
				return elem(r, err, svc.DeleteResponseElement)
			}))
	}
	if len(w.cfg.AuditReaders) > 0 {
		c.Handle(audit.Action("Query"), server.Op(audit.NS, "Query", audit.DecodeQuery,
			func(ctx context.Context, m *server.Message, q *audit.Query) (*audit.QueryResponse, error) {
				return w.AuditQuery(ctx, InvokerOf(m), q)
			}))
	}
}

// element is a rendered response, as server.Op takes it.
type element struct{ el *etree.Element }

func (e element) Element() *etree.Element { return e.el }

func elem[R any](r *R, err error, render func(*R) *etree.Element) (*etree.Element, error) {
	if err != nil {
		return nil, err
	}
	return render(r), nil
}

func op[Req any](svc *dst.Service, local string, decode func(*etree.Element) (Req, error),
	handle func(context.Context, *Invoker, Req) (*etree.Element, error)) server.Service {
	return server.Op(svc.NS, local, decode, func(ctx context.Context, m *server.Message, req Req) (element, error) {
		el, err := handle(ctx, InvokerOf(m), req)
		return element{el}, err
	})
}

// InvokerOf returns what the receiver verified about m. The subject is
// the sb:TargetIdentity token's when one was sent (F12), else the
// invocation token's.
func InvokerOf(m *server.Message) *Invoker {
	inv := &Invoker{Provider: m.Sender.EntityID, Proven: m.SenderProven, MessageID: m.Header.MessageID}
	inv.Purpose, inv.PurposeErr = wsf.Purpose(m.Header)
	if inv.PurposeErr == nil {
		inv.PurposeErr = foreignPolicy(m.Header)
	}
	if m.Invocation == nil {
		return inv
	}
	inv.Mechanism = m.Invocation.Mechanism
	t := m.Invocation.Token
	if m.Invocation.Target != nil {
		t = m.Invocation.Target
	}
	if t != nil {
		inv.Subject = t.Subject
		inv.TokenIssuer = t.Issuer.EntityID
		inv.TokenID = t.Assertion.ID
		inv.TokenServices = t.ServiceTypes()
	}
	return inv
}

// foreignPolicy refuses a usage directive in a policy language other
// than Renkei's (wsf.NSPolicy): the WSP cannot tell what it asks, so it
// cannot honour it (ARCHITECTURE "Audit").
func foreignPolicy(h *wsf.Header) error {
	for _, u := range h.UsageDirectives {
		for _, p := range u.Policies {
			if p.NamespaceURI() != wsf.NSPolicy {
				return wsf.Errorf(wsf.CannotHonourUsageDirective, "usage directive in a policy language this WSP does not speak")
			}
		}
	}
	return nil
}
