package wspserver_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/benchkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/wsp/sample"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// BenchmarkQuery measures DST Queries answered per second by hospital A's
// WSP, as renkei-wsp builds it by default, through the whole receive path
// in process (Receiver.Receive, no HTTP): parse, schema, the portal's
// message signature, its holder-of-key token from the DS (signature, the
// EncryptedID decrypted with the WSP's key), the replay claim in the WSP's
// store, the subject and five lab results read from the hospital's SQLite
// back office through its mapping file, the access audited, and the
// signed response (not checked against the schemas: File.CheckOutgoing is
// off by default; the tests check every answer). The WSP store is SQLite
// in memory: what is measured is the WSP's work, not the disk's fsync.
//
// The floor is what no WSP can skip, measured in the same run and
// interleaved with it: parsing the request, the two signature
// verifications (the message, the token), the RSA-OAEP decryption of the
// EncryptedID's key and the response's signature (all RSA-2048). Both
// sides run on every core at once (benchkit.InterleaveParallel); q/s is
// what the WSP answers, floor-q/s what that work alone would allow, and
// x-floor the first's time over the second's (1.5 is the target).
func BenchmarkQuery(b *testing.B) {
	k := wspkit.Start(b, wspkit.Options{Institutions: []string{sample.HospitalA}, Store: map[string]string{sample.HospitalA: "sqlite::memory:"}, AsDeployed: true})
	s := k.WSPs[sample.HospitalA][0]
	principal := k.Enrol(b, "p01")
	portal := k.Portal(b)
	epr := k.EPR(b, k.Discover(b, portal, principal, dst.Clinical), sample.HospitalA, dst.Clinical)
	g := newQueryGen(b, k, epr)
	fl := newFloor(b, k, g.one(b))
	// One answer, checked as the portal reads it: five lab results.
	raw := g.one(b)
	resp := s.Receiver.Receive(context.Background(), server.Request{Body: raw, TLS: true, ClientCert: k.Fed.Keys.Portal.Cert})
	if resp.Status != http.StatusOK {
		b.Fatalf("query refused: %v", resp.Err)
	}
	res, err := g.c.VerifyResponse(context.Background(), resp.Body, messageID(b, raw), epr)
	if err != nil {
		b.Fatal(err)
	}
	r, err := dst.Lookup(dst.Clinical).DecodeQueryResponse(res.Payload)
	if err != nil || r.Status.Code != wsf.OK || len(r.Data) != 1 || len(r.Data[0].Items) != 5 {
		b.Fatalf("answer: %+v, %v", r, err)
	}
	b.Logf("request %d bytes, response %d bytes", len(raw), len(resp.Body))
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer() // requests are made untimed: each costs the portal a signature
	msgs := g.make(b, b.N)
	b.StartTimer()
	var next atomic.Int64
	subject := func() {
		i := next.Add(1) - 1
		resp := s.Receiver.Receive(context.Background(), server.Request{Body: msgs[i], TLS: true, ClientCert: k.Fed.Keys.Portal.Cert})
		if resp.Status != http.StatusOK {
			b.Errorf("query %d refused: %v", i, resp.Err)
		}
	}
	ts, tf := benchkit.InterleaveParallel(b, subject, fl.answer)
	p := float64(runtime.GOMAXPROCS(0))
	b.ReportMetric(p*float64(b.N)/ts.Seconds(), "q/s")
	b.ReportMetric(p*float64(b.N)/tf.Seconds(), "floor-q/s")
	b.ReportMetric(float64(ts)/float64(tf), "x-floor")
}

func messageID(b *testing.B, raw []byte) string {
	env, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	if el := env.FindElement("//MessageID"); el != nil {
		return el.Text()
	}
	return ""
}

// queryGen makes the portal's signed Queries for five lab results, as its
// wsf/client sends them, each with its own MessageID.
type queryGen struct {
	c   *client.Client
	epr *wsf.EPR
	cap *benchkit.Capture
}

func newQueryGen(b *testing.B, k *wspkit.Kit, epr *wsf.EPR) *queryGen {
	ct := &benchkit.Capture{}
	f := k.Fed
	c, err := client.New(client.Config{EntityID: dskit.PortalID, Key: f.Keys.Portal.Key, Certificate: f.Keys.Portal.Cert,
		Directory: f.Directory, HTTP: &http.Client{Transport: ct}, Schema: f.Schema, Now: f.Clock.Now,
		SkipOutgoingValidation: true})
	if err != nil {
		b.Fatal(err)
	}
	return &queryGen{c: c, epr: epr, cap: ct}
}

func (g *queryGen) one(b *testing.B) []byte {
	svc := dst.Lookup(dst.Clinical)
	it := sel(dst.Clinical, "LabResult", "")
	it.Count = 5
	h := wsf.Header{UsageDirectives: []wsf.UsageDirective{wsf.PurposeDirective(wsf.PurposeSelf)}}
	_, err := g.c.Call(context.Background(), &client.Call{EPR: g.epr, Action: svc.Action("Query"),
		Payload: svc.QueryElement(&dst.Query{Items: []dst.QueryItem{it}}), Header: h})
	if !errors.Is(err, benchkit.ErrCaptured) {
		b.Fatalf("building a request: %v", err)
	}
	return g.cap.Last()
}

func (g *queryGen) make(b *testing.B, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = g.one(b)
	}
	return out
}

// floor holds the work no WSP can skip for one answer.
type floor struct {
	b        *testing.B
	request  []byte
	msg, tok *benchkit.Signature // the portal's message signature, the DS's token
	wsp      *benchkit.Signature // the response's
	dec      *benchkit.KeyTransport
}

func newFloor(b *testing.B, k *wspkit.Kit, request []byte) *floor {
	id := dskit.WSPIdentity(b, wspkit.Entities[sample.HospitalA])
	return &floor{b: b, request: request, msg: benchkit.NewSignature(b, k.Fed.Keys.Portal.Key),
		tok: benchkit.NewSignature(b, k.Fed.Keys.DS.Key), wsp: benchkit.NewSignature(b, id.Key),
		dec: benchkit.NewKeyTransport(b, id.Key.(*rsa.PrivateKey))}
}

// answer is the floor of one answer.
func (fl *floor) answer() {
	_, err := xmlsec.Parse(fl.request, xmlsec.Limits{})
	if err := errors.Join(err, fl.msg.Verify(), fl.tok.Verify(), fl.dec.Unwrap(), fl.wsp.Sign()); err != nil {
		fl.b.Error(err)
	}
}
