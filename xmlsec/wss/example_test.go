package wss_test

import (
	"crypto/x509"
	"fmt"
	"os"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wss"
)

// A WSC signs a request with the key its holder-of-key token confirms; the
// WSP verifies it with that key, checks that every required part is
// signed, and reads only the verified copies.
func Example() {
	p := pki.MustGet()
	b, err := os.ReadFile("testdata/request.xml")
	if err != nil {
		panic(err)
	}
	env, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		panic(err)
	}
	signer := &wss.Signer{Key: p.RSA.Key, KeyRef: wss.SAMLTokenRef("_b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6")}
	signed, err := signer.Sign(env)
	if err != nil {
		panic(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(signed)
	wire, _ := doc.WriteToBytes()

	received, err := xmlsec.ParseElement(wire, xmlsec.Limits{})
	if err != nil {
		panic(err)
	}
	v := &wss.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{p.RSA.Cert})}
	res, err := v.Verify(received)
	if err != nil {
		panic(err)
	}
	if err := wss.CheckCoverage(received, res); err != nil {
		panic(err)
	}
	for _, part := range res.Parts {
		fmt.Printf("%s %s (%v)\n", part.ID, part.Local, part.Place)
	}
	fmt.Println("token:", res.KeyRef.AssertionID)
	fmt.Println("action:", res.Header(wss.NSWSA, "Action").Text())
	// Output:
	// FWK Framework (header block)
	// SND Sender (header block)
	// MID MessageID (header block)
	// TO To (header block)
	// ACT Action (header block)
	// REP ReplyTo (header block)
	// UI UserInteraction (header block)
	// STR SecurityTokenReference (wsse:Security child)
	// TS Timestamp (wsse:Security child)
	// BDY Body (Body)
	// token: _b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6
	// action: urn:liberty:dst:2006-08:ref:Query
}
