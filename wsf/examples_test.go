package wsf_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wss"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// The digest's examples (testdata/examples, copies of shared/spec/examples)
// use these entities; the test PKI stands in for their placeholder keys.
const (
	exIdP    = "https://idp.example.org/saml"
	exDS     = "https://idp.example.org/disco"
	exPortal = "https://portal.example.org/wsc"
	exWSP    = "https://pp.example.org/wsp"
)

// exampleDirectory is the metadata of the examples' federation. The portal
// may use Bearer: example 01 presents a bearer token (IDWSF2 §11 item 18,
// "Bearer enabled for that peer only").
func exampleDirectory(t testing.TB) wsf.StaticDirectory {
	k := wsftest.Keys(t)
	idp, ds := wsf.NewPeer(exIdP, k.IdP.Cert), wsf.NewPeer(exDS, k.IdP.Cert)
	idp.TokenIssuer, ds.TokenIssuer = true, true
	portal := wsf.NewPeer(exPortal, k.WSC.Cert)
	portal.Profile = wsf.Profile{Name: "example-portal", AllowBearer: true}
	return wsf.StaticDirectory{exIdP: idp, exDS: ds, exPortal: portal, exWSP: wsf.NewPeer(exWSP, k.WSP.Cert)}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func loadExample(t testing.TB, name string) *etree.Document {
	t.Helper()
	d, err := xmlsec.Parse(readFile(t, "examples/"+name), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func serialize(t testing.TB, d *etree.Document) []byte {
	t.Helper()
	b, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resignToken puts the WSC's certificate where the example has a
// placeholder holder-of-key certificate and signs the assertion with the
// IdP's key, in place.
func resignToken(t testing.TB, tok *etree.Element) {
	t.Helper()
	k := wsftest.Keys(t)
	for _, c := range tok.FindElements(".//SubjectConfirmationData/KeyInfo/X509Data/X509Certificate") {
		c.SetText(base64.StdEncoding.EncodeToString(k.WSC.Cert.Raw))
	}
	if old := tok.SelectElement("ds:Signature"); old != nil {
		tok.RemoveChild(old)
	}
	signed, err := (&dsig.Signer{Key: k.IdP.Key, Certificates: []*x509.Certificate{k.IdP.Cert}}).Sign(tok)
	if err != nil {
		t.Fatal(err)
	}
	parent := tok.Parent()
	parent.InsertChildAt(tok.Index(), signed)
	parent.RemoveChild(tok)
}

// resignMessage replaces the example's placeholder message signature with
// one by id over every part IDWSF2 §2.4 requires.
func resignMessage(t testing.TB, d *etree.Document, id *pki.Identity, ref wss.KeyRef) []byte {
	t.Helper()
	sec := d.Root().SelectElement("S:Header").SelectElement("wsse:Security")
	if old := sec.SelectElement("ds:Signature"); old != nil {
		sec.RemoveChild(old)
	}
	signed, err := (&wss.Signer{Key: id.Key, KeyRef: ref}).Sign(d.Root())
	if err != nil {
		t.Fatal(err)
	}
	out := etree.NewDocument()
	out.SetRoot(signed)
	return serialize(t, out)
}

func exampleToken(d *etree.Document) *etree.Element {
	return d.Root().SelectElement("S:Header").SelectElement("wsse:Security").SelectElement("saml:Assertion")
}

func xsdSchema(t testing.TB) *xsd.Schema {
	t.Helper()
	s, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// exampleReceiver is the example's receiving provider with its clock
// frozen at now.
func exampleReceiver(t testing.TB, self, endpoint, action string, now time.Time, served *int) *server.Receiver {
	t.Helper()
	k := wsftest.Keys(t)
	key := k.WSP
	if self == exDS {
		key = k.IdP
	}
	svc := server.ServiceFunc(func(_ context.Context, m *server.Message) (*server.Reply, error) {
		*served++
		return &server.Reply{Payload: wsf.Status{Code: wsf.OK}.Element()}, nil
	})
	r, err := server.New(server.Config{EntityID: self, Endpoints: []string{endpoint}, Key: key.Key, Certificate: key.Cert,
		Directory: exampleDirectory(t), Replay: server.NewMemoryReplayCache(), Schema: xsdSchema(t),
		Mechanisms: wsf.Mechanisms(), Services: map[string]server.Service{action: svc}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestExample01DiscoQueryRequest(t *testing.T) {
	k := wsftest.Keys(t)
	now := at("2024-05-02T10:05:00Z")
	run := func(body []byte) (*server.Response, int) {
		served := 0
		r := exampleReceiver(t, exDS, exDS, "urn:liberty:disco:2006-08:Query", now, &served)
		return r.Receive(context.Background(), server.Request{Body: body, TLS: true}), served
	}
	t.Run("fail/placeholder-signatures", func(t *testing.T) {
		resp, served := run(readFile(t, "examples/idwsf2-01-disco-query-request.xml"))
		wantSignatureFault(t, resp, served)
	})
	t.Run("ok/resigned-with-test-pki", func(t *testing.T) {
		d := loadExample(t, "idwsf2-01-disco-query-request.xml")
		resignToken(t, exampleToken(d))
		resp, served := run(resignMessage(t, d, k.WSC, wss.X509DataRef(k.WSC.Cert)))
		if resp.Status != 200 || served != 1 {
			t.Fatalf("status %d, served %d, cause %v", resp.Status, served, resp.Err)
		}
	})
}

func TestExample03WSPRequest(t *testing.T) {
	k := wsftest.Keys(t)
	now := at("2024-05-02T10:06:00Z")
	run := func(body []byte) (*server.Response, int) {
		served := 0
		r := exampleReceiver(t, exWSP, "https://pp.example.org/idwsf/pp", "urn:liberty:dst:2006-08:ref:Query", now, &served)
		return r.Receive(context.Background(), server.Request{Body: body, TLS: true, ClientCert: k.WSC.Cert}), served
	}
	t.Run("fail/placeholder-signatures", func(t *testing.T) {
		resp, served := run(readFile(t, "examples/idwsf2-03-wsp-request.xml"))
		wantSignatureFault(t, resp, served)
	})
	t.Run("ok/resigned-with-test-pki", func(t *testing.T) {
		d := loadExample(t, "idwsf2-03-wsp-request.xml")
		resignToken(t, exampleToken(d))
		resp, served := run(resignMessage(t, d, k.WSC, wss.SAMLTokenRef("_b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6")))
		if resp.Status != 200 || served != 1 {
			t.Fatalf("status %d, served %d, cause %v", resp.Status, served, resp.Err)
		}
	})
}

// wantSignatureFault requires the refusal of a message whose signatures
// are the example's placeholders: a signature failure, nothing served.
func wantSignatureFault(t *testing.T, resp *server.Response, served int) {
	t.Helper()
	if resp.Fault == nil || served != 0 || !isSignatureError(resp.Err) {
		t.Fatalf("want a signature failure, got %v (cause %v), served %d", resp.Fault, resp.Err, served)
	}
}

func isSignatureError(err error) bool {
	for _, e := range []error{xmlsec.ErrSignature, xmlsec.ErrDigest, xmlsec.ErrNoSignature, xmlsec.ErrUntrustedKey} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// exampleClient is the portal verifying responses with its clock frozen.
func exampleClient(t testing.TB, now time.Time) *client.Client {
	k := wsftest.Keys(t)
	c, err := client.New(client.Config{EntityID: exPortal, Key: k.WSC.Key, Certificate: k.WSC.Cert, Directory: exampleDirectory(t),
		HTTP: wsftest.HTTPClient(t, k.WSC), Schema: xsdSchema(t), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExample02DiscoQueryResponse(t *testing.T) {
	k := wsftest.Keys(t)
	c := exampleClient(t, at("2024-05-02T10:05:01Z"))
	epr := &wsf.EPR{Address: exDS, Metadata: &wsf.EPRMetadata{ProviderID: exDS}}
	const reqID = "urn:uuid:5b1f1c5e-7d2a-4c39-9a55-0f6c2f8d1a01"
	t.Run("fail/placeholder-signature", func(t *testing.T) {
		_, err := c.VerifyResponse(context.Background(), readFile(t, "examples/idwsf2-02-disco-query-response.xml"), reqID, epr)
		if !isSignatureError(err) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ok/resigned-with-test-pki", func(t *testing.T) {
		d := loadExample(t, "idwsf2-02-disco-query-response.xml")
		res, err := c.VerifyResponse(context.Background(), resignMessage(t, d, k.IdP, wss.KeyRef{}), reqID, epr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := wsf.DecodeEPR(res.Payload.SelectElement("wsa:EndpointReference"))
		if err != nil || got.Address != "https://pp.example.org/idwsf/pp" || got.Metadata.SecurityContexts[0].Tokens[0].Element == nil {
			t.Fatalf("EPR of the answer: %+v %v", got, err)
		}
	})
}

func TestExample04WSPResponse(t *testing.T) {
	k := wsftest.Keys(t)
	c := exampleClient(t, at("2024-05-02T10:06:01Z"))
	epr := &wsf.EPR{Address: "https://pp.example.org/idwsf/pp", Metadata: &wsf.EPRMetadata{ProviderID: exWSP}}
	const reqID = "urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c04"
	t.Run("fail/unsigned-as-printed", func(t *testing.T) {
		_, err := c.VerifyResponse(context.Background(), readFile(t, "examples/idwsf2-04-wsp-response.xml"), reqID, epr)
		if !errors.Is(err, xmlsec.ErrNoSignature) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ok/signed-with-test-pki", func(t *testing.T) {
		d := loadExample(t, "idwsf2-04-wsp-response.xml")
		res, err := c.VerifyResponse(context.Background(), resignMessage(t, d, k.WSP, wss.BinaryTokenRef(k.WSP.Cert)), reqID, epr)
		if err != nil {
			t.Fatal(err)
		}
		if res.Payload.Tag != "QueryResponse" || res.Header.RelatesTo != reqID {
			t.Fatalf("result %+v", res.Header)
		}
	})
}

// TestExample00Bootstrap runs the SSO response's assertion through what a
// WSC does with it: verify the IdP's signature, check its conditions for
// the portal, and harvest the Discovery Service bootstrap EPR.
func TestExample00Bootstrap(t *testing.T) {
	k := wsftest.Keys(t)
	now := at("2024-05-02T10:00:30Z")
	v := &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{k.IdP.Cert})}
	assertionOf := func(d *etree.Document) *etree.Element { return d.Root().SelectElement("saml:Assertion") }
	t.Run("fail/placeholder-signature", func(t *testing.T) {
		_, _, err := saml.VerifyAssertion(assertionOf(loadExample(t, "idwsf2-00-sso-response-with-bootstrap.xml")), v)
		if !isSignatureError(err) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ok/resigned-with-test-pki", func(t *testing.T) {
		d := loadExample(t, "idwsf2-00-sso-response-with-bootstrap.xml")
		resignToken(t, assertionOf(d))
		a, _, err := saml.VerifyAssertion(assertionOf(d), v)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.CheckConditions(now, time.Minute, "https://portal.example.org/saml"); err != nil {
			t.Fatal(err)
		}
		eprs, err := wsf.BootstrapEPRs(a)
		if err != nil || len(eprs) != 1 {
			t.Fatalf("bootstrap EPRs %v %v", eprs, err)
		}
		m := eprs[0].Metadata
		if eprs[0].Address != exDS || m.ServiceType != wsf.ServiceTypeDisco || m.SecurityContexts[0].Mechanisms[0] != string(wsf.TLSBearer) {
			t.Fatalf("bootstrap EPR %+v", m)
		}
	})
}
