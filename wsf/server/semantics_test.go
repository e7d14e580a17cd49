package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
)

func TestProcessingTimeout(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	f.serve = func(ctx context.Context, _ *Message) (*Reply, error) {
		<-ctx.Done() // a back office slower than the promise
		return nil, ctx.Err()
	}
	r := hok(f, nil)
	r.header = func(h *wsf.Header) { h.Timeout = time.Second }
	resp := f.receive(f.request(r), k.WSC.Cert)
	wantCode(t, resp, wsf.ProcessingTimeout)
	if resp.Fault.Code != wsf.FaultServer {
		t.Fatalf("faultcode %v", resp.Fault.Code)
	}
}

func TestRedirectRequest(t *testing.T) {
	k := wsftest.Keys(t)
	const consent = "https://pp.example.org/consent"
	for _, tc := range []struct {
		name     string
		ui       *wsf.UserInteraction
		redirect bool
	}{
		{"ok/redirect-allowed", &wsf.UserInteraction{Redirect: true}, true},
		{"ok/lasso-capitalised-interact", &wsf.UserInteraction{Redirect: true, Interact: "InteractIfNeeded"}, true},
		{"fail/redirect-not-offered", &wsf.UserInteraction{}, false},
		{"fail/do-not-interact", &wsf.UserInteraction{Redirect: true, Interact: wsf.DoNotInteract}, false},
		{"fail/no-user-interaction-header", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, wsf.Strict)
			f.serve = func(_ context.Context, m *Message) (*Reply, error) { return nil, m.NeedInteraction(consent, false) }
			r := hok(f, nil)
			r.header = func(h *wsf.Header) { h.UserInteraction = tc.ui }
			resp := f.receive(f.request(r), k.WSC.Cert)
			wantCode(t, resp, wsf.InteractionRequired)
			fault := readFault(t, resp.Body)
			if !tc.redirect {
				if fault.RedirectURL != "" {
					t.Fatalf("redirect offered: %s", fault.RedirectURL)
				}
				return
			}
			u, err := url.Parse(fault.RedirectURL)
			if err != nil || !strings.HasPrefix(fault.RedirectURL, consent+"?") || responseMessageID(t, resp.Body) != u.Query().Get("transactionID") {
				t.Fatalf("redirect %q (response MessageID %q)", fault.RedirectURL, responseMessageID(t, resp.Body))
			}
		})
	}
}

func responseMessageID(t *testing.T, body []byte) string {
	env := mustEnvelope(t, body)
	blocks, _ := wsf.CheckMustUnderstand(env.Header)
	h, err := wsf.DecodeHeader(blocks)
	if err != nil {
		t.Fatal(err)
	}
	return h.MessageID
}

func mustEnvelope(t *testing.T, body []byte) *wsf.Envelope {
	t.Helper()
	env, err := wsf.ParseEnvelope(body, wsf.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestSimulateWhenSupported(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict, func(c *Config) { c.Simulate = true })
	r := hok(f, nil)
	r.header = func(h *wsf.Header) { h.ProcessingContext = wsf.ProcessingContextSimulate }
	if m := f.wantOK(f.receive(f.request(r), k.WSC.Cert)); !m.Simulate() {
		t.Fatal("ok/simulate: service not told")
	}
}

// TestResponseHeader checks the response a WSC gets: Framework, the WSP
// as Sender, a new MessageID, RelatesTo the request, Action + "Response",
// a Timestamp, and the WSP's signature.
func TestResponseHeader(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	resp := f.wantOKResponse(f.receive(f.request(hok(f, nil)), k.WSC.Cert))
	env := mustEnvelope(t, resp)
	blocks, _ := wsf.CheckMustUnderstand(env.Header)
	h, _ := wsf.DecodeHeader(blocks)
	if h.Sender.ProviderID != wsftest.WSPID || h.RelatesTo != "urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c04" ||
		h.Action != action+"Response" || !strings.HasPrefix(h.MessageID, "urn:uuid:") || h.Framework.Version != "2.0" {
		t.Fatalf("response header %+v", h)
	}
	sec, _ := env.Security()
	sh, _ := wsf.ReadSecurity(sec)
	if sh.Signature == nil || sh.Timestamp == nil || len(sh.BinaryTokens) != 1 {
		t.Fatalf("response security %+v", sh)
	}
}

func (f *fixture) wantOKResponse(resp *Response) []byte {
	f.wantOK(resp)
	return resp.Body
}

func TestHTTPHandler(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict, func(c *Config) { c.Limits.MaxBytes = 64 << 10 })
	srv := wsftest.StartTLS(t, Handler{Receiver: f.rcv})
	hc := wsftest.HTTPClient(t, k.WSC)
	post := func(body []byte) (*http.Response, []byte) {
		resp, err := hc.Post(srv.URL, wsf.ContentType, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, _ := post(f.request(hok(f, nil)))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != wsf.ContentType {
		t.Fatalf("ok/over-tls: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, b := post(bytes.Repeat([]byte("x"), 65<<10))
	if resp.StatusCode != 500 || readFault(t, b).StatusCode() != wsf.IDStarMsgNotUnderstood {
		t.Fatalf("fail/oversized-post: %d", resp.StatusCode)
	}
	g, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	g.Body.Close()
	if g.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("fail/get: %d", g.StatusCode)
	}
}
