package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

const (
	action = "urn:liberty:dst:2006-08:ref:Query"
	nsDST  = "urn:liberty:dst:2006-08:ref"
)

func schema(t testing.TB) *xsd.Schema {
	t.Helper()
	s, err := xsd.Default()
	if err != nil {
		t.Fatalf("xsd: %v", err)
	}
	return s
}

// wsp is one of our WSPs on loopback TLS. Every request it receives is
// checked against the schemas.
type wsp struct {
	url     string
	served  sync.Map // MessageID -> mechanism
	serve   func(ctx context.Context, m *server.Message) (*server.Reply, error)
	invalid chan error
}

func startWSP(t *testing.T, wscProfile wsf.Profile) *wsp {
	t.Helper()
	k := wsftest.Keys(t)
	w := &wsp{invalid: make(chan error, 64)}
	var h http.Handler
	srv := wsftest.StartTLS(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := schema(t).Validate(body); err != nil {
			w.invalid <- err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(rw, r)
	}))
	w.url = srv.URL + "/wsp"
	rcv, err := server.New(server.Config{EntityID: wsftest.WSPID, Endpoints: []string{w.url}, Key: k.WSP.Key,
		Certificate: k.WSP.Cert, Decrypter: wsftest.Decrypter(t), Directory: wsftest.Directory(t, wscProfile),
		Replay: server.NewMemoryReplayCache(), Schema: schema(t), Mechanisms: wsf.Mechanisms(),
		Services: map[string]server.Service{action: server.ServiceFunc(w.handle)}})
	if err != nil {
		t.Fatal(err)
	}
	h = server.Handler{Receiver: rcv}
	t.Cleanup(func() {
		close(w.invalid)
		for err := range w.invalid {
			t.Errorf("a request was not schema-valid: %v", err)
		}
	})
	return w
}

func (w *wsp) handle(ctx context.Context, m *server.Message) (*server.Reply, error) {
	w.served.Store(m.Header.MessageID, m.Invocation.Mechanism)
	if w.serve != nil {
		return w.serve(ctx, m)
	}
	resp := etree.NewElement("dstref:QueryResponse")
	resp.CreateAttr("xmlns:dstref", nsDST)
	resp.AddChild(wsf.Status{Code: wsf.OK}.Element())
	return &server.Reply{Payload: resp}, nil
}

// newClient is the WSC with the given TLS identity (nil: no client
// certificate) and mechanisms.
func newClient(t *testing.T, tlsID *pki.Identity, mechs ...wsf.Mechanism) *client.Client {
	t.Helper()
	k := wsftest.Keys(t)
	c, err := client.New(client.Config{EntityID: wsftest.WSCID, Key: k.WSC.Key, Certificate: k.WSC.Cert,
		Directory: wsftest.Directory(t, wsf.Strict), HTTP: wsftest.HTTPClient(t, tlsID), Schema: schema(t), Mechanisms: mechs})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func query() *etree.Element {
	q := etree.NewElement("dstref:Query")
	q.CreateAttr("xmlns:dstref", nsDST)
	q.CreateElement("dstref:QueryItem").CreateElement("dstref:Select").SetText("/pp:PP")
	return q
}

func token(t *testing.T, spec wsftest.TokenSpec) *etree.Element {
	return wsftest.Token(t, time.Now().Add(-time.Minute), spec)
}

// TestEachMechanism exchanges a message under each implemented mechanism
// over loopback TLS, both sides ours; every request and response is
// checked against the schemas.
func TestEachMechanism(t *testing.T) {
	k := wsftest.Keys(t)
	for _, tc := range []struct {
		mech    wsf.Mechanism
		tlsID   *pki.Identity
		token   *etree.Element
		profile wsf.Profile
		mechs   []wsf.Mechanism
	}{
		{wsf.ClientTLSSAMLV2, k.WSC, token(t, wsftest.TokenSpec{}), wsf.Strict, nil},
		{wsf.ClientTLSPeerSAMLV2, k.WSC, token(t, wsftest.TokenSpec{}), wsf.Strict, []wsf.Mechanism{wsf.ClientTLSPeerSAMLV2}},
		{wsf.TLSSAMLV2, nil, token(t, wsftest.TokenSpec{}), wsf.Strict, nil},
		{wsf.TLSBearer, nil, token(t, wsftest.TokenSpec{Method: saml.CMBearer}), wsf.Profile{Name: "bearer-peer", AllowBearer: true}, []wsf.Mechanism{wsf.TLSBearer}},
		{wsf.ClientTLSX509, k.WSC, nil, wsf.Strict, nil},
	} {
		t.Run("ok/"+string(tc.mech), func(t *testing.T) {
			w := startWSP(t, tc.profile)
			c := newClient(t, tc.tlsID, tc.mechs...)
			res, err := c.Call(context.Background(), &client.Call{EPR: wsftest.EPR(w.url, tc.mech, tc.token), Action: action, Payload: query()})
			if err != nil {
				t.Fatal(err)
			}
			served, _ := w.served.Load(lastID(t, w))
			if res.Mechanism != tc.mech || served != tc.mech || res.Sender.EntityID != wsftest.WSPID || res.Payload.Tag != "QueryResponse" {
				t.Fatalf("client used %s, server saw %v, sender %s", res.Mechanism, served, res.Sender.EntityID)
			}
		})
	}
}

func lastID(t *testing.T, w *wsp) any {
	var id any
	w.served.Range(func(k, _ any) bool { id = k; return false })
	return id
}

func TestClientRefusesEPRWithoutUsableMechanism(t *testing.T) {
	c := newClient(t, nil)
	epr := wsftest.EPR("https://127.0.0.1:1/wsp", wsf.TLSBearer, token(t, wsftest.TokenSpec{Method: saml.CMBearer}))
	_, err := c.Call(context.Background(), &client.Call{EPR: epr, Action: action, Payload: query()})
	if !errors.Is(err, wsf.ErrInappropriateCreds) {
		t.Fatalf("fail/bearer-not-configured: %v", err)
	}
}

func TestFaultIsTypedError(t *testing.T) {
	k := wsftest.Keys(t)
	w := startWSP(t, wsf.Strict)
	c := newClient(t, k.WSC)
	epr := wsftest.EPR(w.url, wsf.ClientTLSSAMLV2, token(t, wsftest.TokenSpec{Audience: wsftest.OtherID}))
	_, err := c.Call(context.Background(), &client.Call{EPR: epr, Action: action, Payload: query()})
	var f *wsf.Fault
	if !errors.As(err, &f) || !errors.Is(err, wsf.ErrInappropriateCreds) || f.Code != wsf.FaultInvalidSecurityToken {
		t.Fatalf("fail/token-for-other-audience: %v", err)
	}
}

func TestEndpointUpdate(t *testing.T) {
	k := wsftest.Keys(t)
	old, moved := startWSP(t, wsf.Strict), startWSP(t, wsf.Strict)
	old.serve = func(context.Context, *server.Message) (*server.Reply, error) {
		return nil, &wsf.Error{Code: wsf.EndpointUpdated, EndpointUpdate: &wsf.EndpointUpdate{EPR: wsf.EPR{Address: moved.url}, UpdateType: wsf.EndpointUpdatePartial}}
	}
	c := newClient(t, k.WSC)
	res, err := c.Call(context.Background(), &client.Call{EPR: wsftest.EPR(old.url, wsf.ClientTLSSAMLV2, token(t, wsftest.TokenSpec{})), Action: action, Payload: query()})
	if err != nil {
		t.Fatal(err)
	}
	if res.EPR.Address != moved.url || lastID(t, moved) == nil {
		t.Fatalf("ok/followed-endpoint-update: answered by %s", res.EPR.Address)
	}
	t.Run("fail/endless-updates-bounded", func(t *testing.T) {
		loop := startWSP(t, wsf.Strict)
		loop.serve = func(context.Context, *server.Message) (*server.Reply, error) {
			return nil, &wsf.Error{Code: wsf.EndpointUpdated, EndpointUpdate: &wsf.EndpointUpdate{EPR: wsf.EPR{Address: loop.url}}}
		}
		_, err := c.Call(context.Background(), &client.Call{EPR: wsftest.EPR(loop.url, wsf.ClientTLSSAMLV2, token(t, wsftest.TokenSpec{})), Action: action, Payload: query()})
		if !errors.Is(err, wsf.ErrEndpointUpdated) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestRedirectRequestError(t *testing.T) {
	k := wsftest.Keys(t)
	w := startWSP(t, wsf.Strict)
	c := newClient(t, k.WSC)
	for _, tc := range []struct {
		name, url string
		typed     bool
	}{
		{"ok/redirect-to-the-wsp-host", "https://127.0.0.1/consent", true},
		{"fail/redirect-to-another-host", "https://evil.example.org/consent", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.serve = func(_ context.Context, m *server.Message) (*server.Reply, error) {
				return nil, m.NeedInteraction(tc.url, false)
			}
			call := &client.Call{EPR: wsftest.EPR(w.url, wsf.ClientTLSSAMLV2, token(t, wsftest.TokenSpec{})), Action: action, Payload: query(),
				Header: wsf.Header{UserInteraction: &wsf.UserInteraction{Redirect: true}}}
			_, err := c.Call(context.Background(), call)
			var re *client.RedirectError
			if got := errors.As(err, &re); got != tc.typed || !errors.Is(err, wsf.ErrInteractionRequired) {
				t.Fatalf("got %v", err)
			}
			if tc.typed && (!strings.HasPrefix(re.URL, tc.url+"?transactionID=") || re.FaultMessageID == "") {
				t.Fatalf("redirect %+v", re)
			}
		})
	}
}

func TestTimeoutHonoured(t *testing.T) {
	k := wsftest.Keys(t)
	w := startWSP(t, wsf.Strict)
	w.serve = func(ctx context.Context, _ *server.Message) (*server.Reply, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	c := newClient(t, k.WSC)
	call := &client.Call{EPR: wsftest.EPR(w.url, wsf.ClientTLSSAMLV2, token(t, wsftest.TokenSpec{})), Action: action, Payload: query(),
		Header: wsf.Header{Timeout: time.Second}}
	if _, err := c.Call(context.Background(), call); !errors.Is(err, wsf.ErrProcessingTimeout) {
		t.Fatalf("fail/processing-timeout: %v", err)
	}
}

func TestCallAllInParallel(t *testing.T) {
	k := wsftest.Keys(t)
	w := startWSP(t, wsf.Strict)
	var mu sync.Mutex
	inFlight, peak := 0, 0
	w.serve = func(context.Context, *server.Message) (*server.Reply, error) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		resp := etree.NewElement("dstref:QueryResponse")
		resp.CreateAttr("xmlns:dstref", nsDST)
		resp.AddChild(wsf.Status{Code: wsf.OK}.Element())
		return &server.Reply{Payload: resp}, nil
	}
	c := newClient(t, k.WSC)
	tok := token(t, wsftest.TokenSpec{})
	calls := make([]*client.Call, 6)
	for i := range calls {
		calls[i] = &client.Call{EPR: wsftest.EPR(w.url, wsf.ClientTLSSAMLV2, tok), Action: action, Payload: query()}
	}
	for i, o := range c.CallAll(context.Background(), calls) {
		if o.Err != nil {
			t.Fatalf("call %d: %v", i, o.Err)
		}
	}
	if peak < 2 || peak > 4 {
		t.Fatalf("peak concurrency %d, want between 2 and the default bound 4", peak)
	}
}
