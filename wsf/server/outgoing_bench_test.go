package server

import (
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/benchkit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
)

// BenchmarkValidateOutgoing measures what checking an outgoing message
// against the schemas costs, next to its floor measured in the same run and
// interleaved with it: building and signing that same message, which every
// sender pays anyway. x-floor is the ratio validation/(build+sign):
//   - reply: a signed DST QueryResponse as the receiver sends it (about
//     6 KB, the provider's certificate in a BinarySecurityToken);
//   - request-with-token: a ClientTLS:SAMLV2 request as the client sends
//     it (about 9 KB, the signed token included).
//
// Validation goes through wsf.CheckOutgoing, as Receiver.checkOutgoing does.
func BenchmarkValidateOutgoing(b *testing.B) {
	f := newFixture(b, wsf.Strict)
	k := wsftest.Keys(b)
	v := schema(b)
	reply := func() []byte {
		h := &wsf.Header{Framework: wsf.Framework{Version: wsf.FrameworkVersion}, Sender: &wsf.Sender{ProviderID: wsftest.WSPID},
			MessageID: "urn:uuid:8b1d7c52-0d5e-4c1a-9f3e-2a6b7c8d9e01", RelatesTo: "urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c04", Action: action + "Response"}
		body, err := secmech.Secure(wsf.NewEnvelope(h, okPayload(b)), &secmech.Credentials{Key: k.WSP.Key, Certificate: k.WSP.Cert}, t0)
		if err != nil {
			b.Fatal(err)
		}
		return body
	}
	tok := f.hokToken(wsftest.TokenSpec{NoKeyInfo: true})
	request := func() []byte { return f.request(req{mech: wsf.ClientTLSSAMLV2, token: tok}) }
	for _, m := range []struct {
		name  string
		build func() []byte
	}{{"reply", reply}, {"request-with-token", request}} {
		b.Run(m.name, func(b *testing.B) {
			doc := m.build()
			b.Logf("%s: %d bytes", m.name, len(doc))
			validate := func() {
				if err := wsf.CheckOutgoing(v, doc); err != nil {
					b.Fatal(err)
				}
			}
			tv, tf := benchkit.Interleave(b, nil, validate, func() { m.build() })
			benchkit.ReportRatio(b, tv, tf[0], "ns-validate/op", "ns-build+sign/op")
		})
	}
}
