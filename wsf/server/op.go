package server

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Encoder is a typed response: a wire type that renders itself as the
// Body payload, as the wire types of wsf and saml do (wsf.Status.Element,
// wsf.EPR.Element). One method, so each type has one encoder.
type Encoder interface {
	Element() *etree.Element
}

// Op returns the Service of one operation written on typed values: the
// request element {space}local read by decode (a DecodeX function, as
// wsf.DecodeStatus), handled by handle, whose response renders itself.
// Op does once what every operation needs:
//   - a Body child other than {space}local is IDStarMsgNotUnderstood, and
//     decode is not called;
//   - a decode error that is a *wsf.Error keeps its code; any other is
//     IDStarMsgNotUnderstood, the code for a message the receiver cannot
//     process (IDWSF2 §2.5);
//   - a handle error goes, as it is, through the table of wsf.FaultFor;
//   - a nil response, or one that renders no element, is an S:Server
//     fault.
//
// The response is checked against the schemas by the Receiver, with every
// reply of every service (Config.SkipOutgoingValidation): one refused
// becomes an S:Server fault and never goes out.
func Op[Req any, Resp Encoder](space, local string, decode func(*etree.Element) (Req, error),
	handle func(ctx context.Context, m *Message, req Req) (Resp, error)) Service {
	return &op[Req, Resp]{space: space, local: local, decode: decode, handle: handle}
}

// op is the Service Op returns.
type op[Req any, Resp Encoder] struct {
	space, local string
	decode       func(*etree.Element) (Req, error)
	handle       func(ctx context.Context, m *Message, req Req) (Resp, error)
}

var _ Service = (*op[struct{}, Encoder])(nil)

// Serve decodes the payload, calls the handler and encodes its response.
func (o *op[Req, Resp]) Serve(ctx context.Context, m *Message) (*Reply, error) {
	req, err := o.read(m.Payload)
	if err != nil {
		return nil, err
	}
	resp, err := o.handle(ctx, m, req)
	if err != nil {
		return nil, err
	}
	var el *etree.Element
	if !isNil(resp) {
		el = resp.Element()
	}
	if el == nil {
		return nil, fmt.Errorf("server: the {%s}%s operation answered neither a response nor an error", o.space, o.local)
	}
	return &Reply{Payload: el}, nil
}

// read checks that the payload is the operation's element and decodes it.
func (o *op[Req, Resp]) read(p *etree.Element) (Req, error) {
	var zero Req
	if !wire.Is(p, o.space, o.local) {
		return zero, wsf.Errorf(wsf.IDStarMsgNotUnderstood, "Body holds %s, the operation takes {%s}%s", wire.Name(p), o.space, o.local)
	}
	req, err := o.decode(p)
	if err == nil {
		return req, nil
	}
	var e *wsf.Error
	if errors.As(err, &e) {
		return zero, err
	}
	return zero, wsf.Wrap(wsf.IDStarMsgNotUnderstood, err, "decoding "+wire.Name(p))
}

// isNil reports whether v is a nil interface, pointer, map or slice: a
// response whose Element method has nothing to render.
func isNil(v Encoder) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return r.IsNil()
	}
	return false
}

// Handle registers s as the service of action in c.Services, making the
// map if it is nil. Like http.ServeMux.Handle it panics on an empty
// action, a nil service or an action already taken: wiring mistakes.
func (c *Config) Handle(action string, s Service) {
	switch {
	case action == "":
		panic("server: Handle with an empty action")
	case s == nil:
		panic("server: Handle " + action + " with a nil service")
	case c.Services[action] != nil:
		panic("server: a service for " + action + " is already registered")
	}
	if c.Services == nil {
		c.Services = map[string]Service{}
	}
	c.Services[action] = s
}
