package server

import (
	"context"
	"crypto/x509"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// t0 is the clock of the pipeline tests.
var t0 = time.Date(2024, 5, 2, 10, 6, 0, 0, time.UTC)

const (
	action   = "urn:liberty:dst:2006-08:ref:Query"
	endpoint = "https://pp.example.org/idwsf/pp"
	nsDST    = "urn:liberty:dst:2006-08:ref"
)

func schema(t testing.TB) Validator {
	t.Helper()
	s, err := xsd.Default()
	if err != nil {
		t.Fatalf("xsd: %v", err)
	}
	return s
}

// fixture is a WSP receiver with an echo service that counts its calls.
type fixture struct {
	t      testing.TB
	now    time.Time
	dir    wsf.StaticDirectory
	replay *MemoryReplayCache
	calls  atomic.Int32
	last   atomic.Pointer[Message]
	rcv    *Receiver
	serve  func(ctx context.Context, m *Message) (*Reply, error)
}

func newFixture(t testing.TB, wscProfile wsf.Profile, opts ...func(*Config)) *fixture {
	t.Helper()
	k := wsftest.Keys(t)
	f := &fixture{t: t, now: t0, dir: wsftest.Directory(t, wscProfile), replay: NewMemoryReplayCache()}
	cfg := Config{EntityID: wsftest.WSPID, Endpoints: []string{endpoint}, Key: k.WSP.Key, Certificate: k.WSP.Cert,
		Decrypter: wsftest.Decrypter(t), Directory: f.dir, Replay: f.replay, Schema: schema(t),
		Mechanisms: wsf.Mechanisms(), Services: map[string]Service{action: ServiceFunc(f.service)},
		Now: func() time.Time { return f.now }}
	for _, o := range opts {
		o(&cfg)
	}
	var err error
	if f.rcv, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) service(ctx context.Context, m *Message) (*Reply, error) {
	f.calls.Add(1)
	f.last.Store(m)
	if f.serve != nil {
		return f.serve(ctx, m)
	}
	return &Reply{Payload: okPayload(f.t)}, nil
}

func okPayload(t testing.TB) *etree.Element {
	e := etree.NewElement("dstref:QueryResponse")
	e.CreateAttr("xmlns:dstref", nsDST)
	st := wsf.Status{Code: wsf.OK}.Element()
	e.AddChild(st)
	return e
}

func queryPayload() *etree.Element {
	q := etree.NewElement("dstref:Query")
	q.CreateAttr("xmlns:dstref", nsDST)
	item := q.CreateElement("dstref:QueryItem")
	item.CreateAttr("itemID", "q1")
	item.CreateElement("dstref:Select").SetText("/pp:PP/pp:CommonName")
	return q
}

// req describes a request the WSC sends.
type req struct {
	mech    wsf.Mechanism
	token   *etree.Element
	header  func(h *wsf.Header)
	payload *etree.Element
	env     func(e *wsf.Envelope) // changes the envelope before it is secured
	signer  *pki.Identity         // nil means the WSC
	created time.Time
}

// build makes a request envelope (before securing it).
func (f *fixture) build(r req) *wsf.Envelope {
	h := &wsf.Header{Framework: wsf.Framework{Version: "2.0"}, Sender: &wsf.Sender{ProviderID: wsftest.WSCID},
		MessageID: "urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c04", To: endpoint, Action: action,
		ReplyTo: &wsf.EPR{Address: wsf.Anonymous}}
	if r.header != nil {
		r.header(h)
	}
	p := r.payload
	if p == nil {
		p = queryPayload()
	}
	env := wsf.NewEnvelope(h, p)
	if r.env != nil {
		r.env(env)
	}
	return env
}

// request builds and secures a request as the WSC does.
func (f *fixture) request(r req) []byte {
	f.t.Helper()
	k := wsftest.Keys(f.t)
	created := r.created
	if created.IsZero() {
		created = f.now.Add(-time.Second)
	}
	id := r.signer
	if id == nil {
		id = k.WSC
	}
	cred := &secmech.Credentials{Mechanism: r.mech, Token: r.token, Key: id.Key, Certificate: id.Cert}
	b, err := secmech.Secure(f.build(r), cred, created)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fixture) hokToken(spec wsftest.TokenSpec) *etree.Element {
	return wsftest.Token(f.t, f.now.Add(-time.Minute), spec)
}

// receive runs the pipeline as the TLS adapter would.
func (f *fixture) receive(body []byte, client *x509.Certificate) *Response {
	return f.rcv.Receive(context.Background(), Request{Body: body, TLS: true, ClientCert: client})
}

// wantOK fails unless the response is a success the schemas accept.
func (f *fixture) wantOK(resp *Response) *Message {
	f.t.Helper()
	if resp.Status != 200 || resp.Fault != nil {
		f.t.Fatalf("want success, got %d %v (cause %v)", resp.Status, resp.Fault, resp.Err)
	}
	if err := schema(f.t).Validate(resp.Body); err != nil {
		f.t.Fatalf("response not schema-valid: %v", err)
	}
	return f.last.Load()
}

// wantFault fails unless the response is the fault with the lu:Status
// code given (CodeMustUnderstand: no detail) and nothing was stored or
// served.
func (f *fixture) wantFault(resp *Response, fc wsf.FaultCode, code wsf.Code) {
	f.t.Helper()
	if resp.Status != 500 || resp.Fault == nil {
		f.t.Fatalf("want fault %s/%s, got %d", fc.Local, code, resp.Status)
	}
	if resp.Fault.Code != fc || resp.Fault.StatusCode() != code {
		f.t.Fatalf("want fault %s/%s, got %s/%s (cause %v)", fc.Local, code, resp.Fault.Code.Local, resp.Fault.StatusCode(), resp.Err)
	}
	if err := schema(f.t).Validate(resp.Body); err != nil {
		f.t.Fatalf("fault not schema-valid: %v", err)
	}
	if n := f.replay.Len(); n != 0 || f.calls.Load() != 0 {
		f.t.Fatalf("refused message left %d replay entries and %d service calls", n, f.calls.Load())
	}
}

// readFault parses a fault response as the client would.
func readFault(t testing.TB, body []byte) *wsf.Fault {
	t.Helper()
	env, err := wsf.ParseEnvelope(body, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := env.Fault()
	if err != nil || f == nil {
		t.Fatalf("no fault: %v", err)
	}
	return f
}

func isErr(err, target error) bool { return errors.Is(err, target) }
