package wsf_test

import (
	"context"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wss"
)

// FuzzReceive runs arbitrary bytes through the whole receiver pipeline of
// the example WSP (clock frozen at example 03's Timestamp), seeded with
// the digest's examples as printed and re-signed. Whatever arrives, the
// answer is a 200 or a 500 whose body is a well-formed SOAP envelope, a
// 500 carries a fault, and only a message that passed every check reaches
// the service.
func FuzzReceive(f *testing.F) {
	k := wsftest.Keys(f)
	for _, name := range []string{"idwsf2-01-disco-query-request.xml", "idwsf2-02-disco-query-response.xml",
		"idwsf2-03-wsp-request.xml", "idwsf2-04-wsp-response.xml"} {
		f.Add(readFile(f, "examples/"+name))
	}
	d := loadExample(f, "idwsf2-03-wsp-request.xml")
	resignToken(f, exampleToken(d))
	f.Add(resignMessage(f, d, k.WSC, wss.SAMLTokenRef("_b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6")))
	served := 0
	r := exampleReceiver(f, exWSP, "https://pp.example.org/idwsf/pp", "urn:liberty:dst:2006-08:ref:Query", at("2024-05-02T10:06:00Z"), &served)
	f.Fuzz(func(t *testing.T, b []byte) {
		before := served
		resp := r.Receive(context.Background(), server.Request{Body: b, TLS: true, ClientCert: k.WSC.Cert})
		checkAnswer(t, resp)
		if served > before && (resp.Status != 200 || !strings.Contains(string(b), "_b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6")) {
			t.Fatalf("served a message that is not the signed example: status %d", resp.Status)
		}
	})
}

func checkAnswer(t *testing.T, resp *server.Response) {
	t.Helper()
	env, err := wsf.ParseEnvelope(resp.Body, xmlsec.Limits{})
	if err != nil {
		t.Fatalf("answer is not an envelope: %v", err)
	}
	fault, err := env.Fault()
	switch {
	case err != nil:
		t.Fatalf("answer fault unreadable: %v", err)
	case resp.Status == 500 && (fault == nil || resp.Fault == nil):
		t.Fatalf("500 without a fault")
	case resp.Status == 200 && fault != nil:
		t.Fatalf("200 with a fault")
	case resp.Status != 200 && resp.Status != 500:
		t.Fatalf("status %d", resp.Status)
	}
}
