package discovery_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"runtime"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/benchkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// BenchmarkQuery measures disco:Query answered per second through the
// whole receive path, in process (Receiver.Receive, no HTTP): parse,
// schema, the portal's message signature, its holder-of-key DS token
// (signature, the EncryptedID decrypted with the DS's key), replay claim
// in the relay database, the engine's Query over the SQLite store (WAL, as
// in production) for the five associated sample services, five tokens
// minted (each signed, its EncryptedID encrypted for its WSP, checked
// against the schema), their audit rows, and the signed response.
//
// The floor is the raw public-key work one answer needs, measured in the
// same run and interleaved with it: two signature verifications (the
// message, the DS token), one RSA-OAEP decryption (the DS token's
// EncryptedID key), six signatures (five tokens, the response) and five
// RSA-OAEP encryptions (the tokens' EncryptedID keys). Signing keys are
// RSA-2048 or P-256 (IdP, DS, portal); the encryption keys are RSA-2048
// always.
//
// Both sides are measured as throughputs at saturation
// (benchkit.InterleaveThroughput): in alternating batches, queries run
// four per core at once, as a DS's concurrent portal sessions keep it
// busy, then floors the same way. A query waits for the disk (its replay
// claim and audit rows commit in a group with those of the queries beside
// it) while the others use the cores, as on a deployed DS; per-worker
// latency sums, as measured before, counted that wait as work. q/s is what
// the DS answers, floor-q/s what raw crypto alone would allow, x-floor the
// first's time over the second's (1/0.85 = 1.18 is the target).
func BenchmarkQuery(b *testing.B) {
	for _, kt := range []pki.KeyType{pki.RSA2048, pki.P256} {
		b.Run(string(kt), func(b *testing.B) {
			f := dskit.New(b, dskit.Options{KeyType: kt, AsDeployed: true})
			f.Link(b, f.Principal, false)
			g := newQueryGen(b, f)
			fl := newQueryFloor(b, f)
			checkAnswer(b, f, g)
			b.ReportAllocs()
			b.ResetTimer()
			// Requests are made before the timed loop: building one costs a
			// signature, which would load the cores under the timed work.
			b.StopTimer()
			msgs := g.make(b, b.N)
			b.StartTimer()
			subject := func(i int) {
				resp := f.Receiver.Receive(context.Background(), server.Request{Body: msgs[i], TLS: true, ClientCert: f.Keys.Portal.Cert})
				if resp.Status != http.StatusOK {
					b.Errorf("query %d refused: %v", i, resp.Err)
				}
			}
			ts, tf := benchkit.InterleaveThroughput(b, 4*runtime.GOMAXPROCS(0), subject, fl.answer)
			b.ReportMetric(float64(b.N)/ts.Seconds(), "q/s")
			b.ReportMetric(float64(b.N)/tf.Seconds(), "floor-q/s")
			b.ReportMetric(float64(ts)/float64(tf), "x-floor")
		})
	}
}

// queryGen makes the portal's signed Query requests with the principal's
// holder-of-key DS token, as its wsf/client sends them, each with its own
// MessageID.
type queryGen struct {
	c   *client.Client
	epr *wsf.EPR
	cap *benchkit.Capture
}

func newQueryGen(b *testing.B, f *dskit.Federation) *queryGen {
	tok := f.DSToken(b, f.Principal, f.Keys.Portal.Cert, dskit.TokenOptions{})
	ct := &benchkit.Capture{}
	c, err := client.New(client.Config{EntityID: dskit.PortalID, Key: f.Keys.Portal.Key, Certificate: f.Keys.Portal.Cert,
		Directory: f.Directory, HTTP: &http.Client{Transport: ct}, Schema: f.Schema, Now: f.Clock.Now,
		SkipOutgoingValidation: true})
	if err != nil {
		b.Fatal(err)
	}
	return &queryGen{c: c, epr: f.DSEPR(tok), cap: ct}
}

// one builds one request.
func (g *queryGen) one(b *testing.B) []byte {
	_, err := g.c.Call(context.Background(), &client.Call{EPR: g.epr, Action: disco.Action("Query"), Payload: byType(dskit.Clinical, dskit.Checkup, dskit.Appointment, dskit.Eligibility, dskit.Pension).Element()})
	if !errors.Is(err, benchkit.ErrCaptured) {
		b.Fatalf("building a request: %v", err)
	}
	return g.cap.Last()
}

// make builds n requests.
func (g *queryGen) make(b *testing.B, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = g.one(b)
	}
	return out
}

// checkAnswer: one request gets five EPRs with a token each, as the
// portal reads the answer.
func checkAnswer(b *testing.B, f *dskit.Federation, g *queryGen) {
	raw := g.one(b)
	resp := f.Receiver.Receive(context.Background(), server.Request{Body: raw, TLS: true, ClientCert: f.Keys.Portal.Cert})
	if resp.Status != http.StatusOK {
		b.Fatalf("query refused: %v", resp.Err)
	}
	env, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	mid := ""
	if el := env.FindElement("//MessageID"); el != nil {
		mid = el.Text()
	}
	res, err := g.c.VerifyResponse(context.Background(), resp.Body, mid, g.epr)
	if err != nil {
		b.Fatalf("response: %v", err)
	}
	qr, err := disco.DecodeQueryResponse(res.Payload)
	if err != nil || qr.Status.Code != disco.OK || len(qr.EPRs) != 5 {
		b.Fatalf("answer: %+v, %v", qr, err)
	}
	for _, e := range qr.EPRs {
		if len(e.Metadata.SecurityContexts) != 1 || len(e.Metadata.SecurityContexts[0].Tokens) != 1 {
			b.Fatalf("EPR %s: %d security contexts", e.Address, len(e.Metadata.SecurityContexts))
		}
	}
	b.Logf("request %d bytes, response %d bytes", len(raw), len(resp.Body))
}

// queryFloor holds the raw operations of one answer.
type queryFloor struct {
	b        *testing.B
	msg, tok *benchkit.Signature    // the portal's message signature, the IdP's DS token
	ds       *benchkit.Signature    // the DS's: five tokens and the response
	dec      *benchkit.KeyTransport // the DS token's EncryptedID key
	wsps     []*benchkit.KeyTransport
}

func newQueryFloor(b *testing.B, f *dskit.Federation) *queryFloor {
	fl := &queryFloor{b: b, msg: benchkit.NewSignature(b, f.Keys.Portal.Key), tok: benchkit.NewSignature(b, f.Keys.IdP.Key),
		ds: benchkit.NewSignature(b, f.Keys.DS.Key)}
	for _, w := range f.WSPs {
		fl.wsps = append(fl.wsps, benchkit.NewKeyTransport(b, w.Identity.Key.(*rsa.PrivateKey)))
	}
	// Any RSA-2048 key does: the DS's own when it is RSA, else the RSA key
	// its metadata lists for encryption (dskit keeps it private).
	fl.dec = benchkit.NewKeyTransport(b, f.WSPs[0].Identity.Key.(*rsa.PrivateKey))
	return fl
}

// answer is the floor: the public-key operations of one Query answer.
func (fl *queryFloor) answer() {
	errs := []error{fl.msg.Verify(), fl.tok.Verify(), fl.dec.Unwrap()}
	for _, w := range fl.wsps {
		errs = append(errs, fl.ds.Sign(), w.Wrap())
	}
	errs = append(errs, fl.ds.Sign())
	if err := errors.Join(errs...); err != nil {
		fl.b.Error(err)
	}
}
