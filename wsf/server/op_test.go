package server

import (
	"context"
	"errors"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// echoQuery is the typed request of the echo operation: the Select of
// each dstref:QueryItem by its itemID.
type echoQuery struct {
	items []echoItem
}

type echoItem struct{ id, sel string }

// decodeEchoQuery reads a dstref:Query; the schema allows a QueryItem
// without itemID, the echo needs one to answer.
func decodeEchoQuery(el *etree.Element) (echoQuery, error) {
	var q echoQuery
	for _, it := range wire.Children(el, nsDST, "QueryItem") {
		id, err := wire.RequiredAttr(it, "itemID")
		if err != nil {
			return q, err
		}
		sel, _ := wire.Optional(it, nsDST, "Select")
		if sel == nil {
			return q, errors.New("QueryItem without Select")
		}
		q.items = append(q.items, echoItem{id: id, sel: sel.Text()})
	}
	return q, nil
}

// echoResponse is the typed response: one dstref:Data per item. Without a
// status it is what the schema refuses (lu:Status is required).
type echoResponse struct {
	status wsf.Code
	items  []echoItem
}

// Element renders a dstref:QueryResponse.
func (r *echoResponse) Element() *etree.Element {
	e := etree.NewElement("dstref:QueryResponse")
	e.CreateAttr("xmlns:dstref", nsDST)
	if r.status != "" {
		e.AddChild(wsf.Status{Code: r.status}.Element())
	}
	for _, it := range r.items {
		d := e.CreateElement("dstref:Data")
		d.CreateAttr("itemIDRef", it.id)
		d.SetText(it.sel)
	}
	return e
}

// opFixture is a receiver whose only service is the echo operation,
// registered with Config.Handle; decode and handle can be replaced.
type opFixture struct {
	*fixture
	decoded int
	decode  func(*etree.Element) (echoQuery, error)
	handle  func(context.Context, *Message, echoQuery) (*echoResponse, error)
}

func newOpFixture(t *testing.T) *opFixture {
	o := &opFixture{decode: decodeEchoQuery, handle: func(_ context.Context, _ *Message, q echoQuery) (*echoResponse, error) {
		return &echoResponse{status: wsf.OK, items: q.items}, nil
	}}
	svc := Op(nsDST, "Query", func(el *etree.Element) (echoQuery, error) { o.decoded++; return o.decode(el) },
		func(ctx context.Context, m *Message, q echoQuery) (*echoResponse, error) { return o.handle(ctx, m, q) })
	o.fixture = newFixture(t, wsf.Strict, func(c *Config) { c.Services = nil; c.Handle(action, svc) })
	return o
}

// send builds a signed request with payload (nil: the default Query),
// checks that the schemas accept it, so that what the operation refuses
// is the operation's doing, and runs it through the receiver.
func (o *opFixture) send(payload *etree.Element) *Response {
	o.t.Helper()
	body := o.request(req{mech: wsf.ClientTLSSAMLV2, token: o.hokToken(wsftest.TokenSpec{}), payload: payload})
	if err := schema(o.t).Validate(body); err != nil {
		o.t.Fatalf("request not schema-valid: %v", err)
	}
	return o.receive(body, wsftest.Keys(o.t).WSC.Cert)
}

// wantOpFault fails unless resp is the fault fc/code, schema-valid.
func wantOpFault(t *testing.T, resp *Response, fc wsf.FaultCode, code wsf.Code) {
	t.Helper()
	if resp.Status != 500 || resp.Fault == nil || resp.Fault.Code != fc || resp.Fault.StatusCode() != code {
		t.Fatalf("want fault %s/%s, got %d %+v (cause %v)", fc.Local, code, resp.Status, resp.Fault, resp.Err)
	}
	if err := schema(t).Validate(resp.Body); err != nil {
		t.Fatalf("fault not schema-valid: %v", err)
	}
}

func TestOpAnswersTypedRequest(t *testing.T) {
	o := newOpFixture(t)
	resp := o.send(nil)
	if resp.Status != 200 || resp.Fault != nil {
		t.Fatalf("ok/echo: %d %v (cause %v)", resp.Status, resp.Fault, resp.Err)
	}
	if err := schema(t).Validate(resp.Body); err != nil {
		t.Fatalf("response not schema-valid: %v", err)
	}
	env, err := wsf.ParseEnvelope(resp.Body, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := wire.Optional(env.Payload(), nsDST, "Data")
	if !wire.Is(env.Payload(), nsDST, "QueryResponse") || data == nil || data.SelectAttrValue("itemIDRef", "") != "q1" || data.Text() != "/pp:PP/pp:CommonName" {
		t.Fatalf("ok/echo: payload is not the echo of q1")
	}
}

func TestOpWrongElement(t *testing.T) {
	o := newOpFixture(t)
	// A QueryResponse is schema-valid, but not what the operation takes.
	wantOpFault(t, o.send(okPayload(t)), wsf.FaultClient, wsf.IDStarMsgNotUnderstood)
	if o.decoded != 0 {
		t.Fatalf("fail/wrong-element: decode called %d times", o.decoded)
	}
}

func TestOpDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decode func(*etree.Element) (echoQuery, error)
		fault  wsf.FaultCode
		code   wsf.Code
	}{
		{"fail/plain-error-is-not-understood", func(*etree.Element) (echoQuery, error) { return echoQuery{}, errors.New("no") },
			wsf.FaultClient, wsf.IDStarMsgNotUnderstood},
		{"fail/typed-error-keeps-its-code", func(*etree.Element) (echoQuery, error) {
			return echoQuery{}, wsf.Errorf(wsf.CannotHonourUsageDirective, "purpose refused")
		}, wsf.FaultServer, wsf.CannotHonourUsageDirective},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOpFixture(t)
			o.decode = tc.decode
			wantOpFault(t, o.send(nil), tc.fault, tc.code)
		})
	}
	t.Run("fail/item-without-itemID", func(t *testing.T) {
		o := newOpFixture(t)
		q := queryPayload()
		q.SelectElement("QueryItem").RemoveAttr("itemID")
		wantOpFault(t, o.send(q), wsf.FaultClient, wsf.IDStarMsgNotUnderstood)
	})
}

func TestOpHandlerErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		fault wsf.FaultCode
		code  wsf.Code
	}{
		{"fail/typed-error-its-wire-code", wsf.Errorf(wsf.InteractionRequired, "consent missing"), wsf.FaultServer, wsf.InteractionRequired},
		{"fail/untyped-error-is-server-fault", errors.New("back office down"), wsf.FaultServer, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOpFixture(t)
			o.handle = func(context.Context, *Message, echoQuery) (*echoResponse, error) { return nil, tc.err }
			wantOpFault(t, o.send(nil), tc.fault, tc.code)
		})
	}
	t.Run("fail/nil-response-is-server-fault", func(t *testing.T) {
		o := newOpFixture(t)
		o.handle = func(context.Context, *Message, echoQuery) (*echoResponse, error) { return nil, nil }
		wantOpFault(t, o.send(nil), wsf.FaultServer, "")
	})
}

func TestOpResponseRefusedBySchema(t *testing.T) {
	o := newOpFixture(t)
	o.handle = func(_ context.Context, _ *Message, q echoQuery) (*echoResponse, error) {
		return &echoResponse{items: []echoItem{{id: "q1", sel: "must-not-leave"}}}, nil // no lu:Status
	}
	wantServerFault(t, o.send(nil))
}

func TestConfigHandle(t *testing.T) {
	var c Config
	svc := ServiceFunc(func(context.Context, *Message) (*Reply, error) { return nil, nil })
	c.Handle(action, svc)
	if c.Services[action] == nil {
		t.Fatal("ok/registered-in-nil-map: not registered")
	}
	for name, f := range map[string]func(){
		"fail/duplicate-action": func() { c.Handle(action, svc) },
		"fail/empty-action":     func() { c.Handle("", svc) },
		"fail/nil-service":      func() { c.Handle(action+"2", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}
