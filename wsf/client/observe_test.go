package client_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/server"
)

// meter counts what a wsf.Meter is told, by op and outcome.
type meter struct {
	mu sync.Mutex
	n  map[string]int
}

func (m *meter) Signature(op string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == nil {
		m.n = map[string]int{}
	}
	k := op + "/ok"
	if err != nil {
		k = op + "/error"
	}
	m.n[k]++
}

func (m *meter) Minted(kind string) {}

func (m *meter) count(k string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[k]
}

// TestRequestIDAndMeters: a call made under a request ID carries, in its
// MessageID, the ID this recipient sees for it (never the caller's own),
// which the receiver's Verified hook is told with the verified sender and
// the caller's log pairs with its request ID; both sides count the
// signature they make and the one they verify.
func TestRequestIDAndMeters(t *testing.T) {
	k := wsftest.Keys(t)
	logs := logkit.NewCapture(t)
	var wscMeter, wspMeter meter
	var mu sync.Mutex
	var verified []string
	var h http.Handler
	srv := wsftest.StartTLS(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { h.ServeHTTP(rw, r) }))
	url := srv.URL + "/wsp"
	w := &wsp{}
	rcv, err := server.New(server.Config{EntityID: wsftest.WSPID, Endpoints: []string{url}, Key: k.WSP.Key,
		Certificate: k.WSP.Cert, Decrypter: wsftest.Decrypter(t), Directory: wsftest.Directory(t, wsf.Strict),
		Replay: server.NewMemoryReplayCache(), Schema: schema(t), Mechanisms: wsf.Mechanisms(), Meter: &wspMeter,
		Verified: func(_ context.Context, sender, messageID string) {
			mu.Lock()
			verified = append(verified, sender+" "+messageID)
			mu.Unlock()
		},
		Services: map[string]server.Service{action: server.ServiceFunc(w.handle)}})
	if err != nil {
		t.Fatal(err)
	}
	h = server.Handler{Receiver: rcv}
	c, err := client.New(client.Config{EntityID: wsftest.WSCID, Key: k.WSC.Key, Certificate: k.WSC.Cert,
		Directory: wsftest.Directory(t, wsf.Strict), HTTP: wsftest.HTTPClient(t, k.WSC), Schema: schema(t), Meter: &wscMeter,
		Log: logs.Logger("wsc")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := wsf.WithRequestID(context.Background(), "req-0001")
	if _, err := c.Call(ctx, &client.Call{EPR: wsftest.EPR(url, wsf.ClientTLSSAMLV2, token(t, wsftest.TokenSpec{})), Action: action, Payload: query()}); err != nil {
		t.Fatal(err)
	}
	mid, _ := lastID(t, w).(string)
	theirs := wsf.RequestIDOf(mid)
	if theirs == "" || strings.Contains(mid, "req-0001") {
		t.Fatalf("ok/message-id-carries-recipients-id: %q", mid)
	}
	paired := false
	for _, l := range logs.Records("wsc") {
		paired = paired || l["msg"] == "call" && l["request_id"] == "req-0001" && l["recipient"] == wsftest.WSPID &&
			l["recipient_request_id"] == theirs && l["message_id"] == mid
	}
	if !paired {
		t.Fatalf("ok/caller-logs-pair: %v", logs.Records("wsc"))
	}
	if len(verified) != 1 || verified[0] != wsftest.WSCID+" "+mid {
		t.Fatalf("ok/verified-hook: %v", verified)
	}
	for name, m := range map[string]*meter{"wsc": &wscMeter, "wsp": &wspMeter} {
		if m.count("sign/ok") != 1 || m.count("verify/ok") != 1 {
			t.Errorf("ok/%s-counts: %v", name, m.n)
		}
	}
	if _, err := c.Call(context.Background(), &client.Call{EPR: wsftest.EPR(url, wsf.ClientTLSSAMLV2, token(t, wsftest.TokenSpec{})), Action: action, Payload: query()}); err != nil {
		t.Fatal(err)
	}
	if len(verified) != 2 || !strings.Contains(verified[1], " urn:uuid:") {
		t.Fatalf("ok/no-request-id: %v", verified)
	}
}
