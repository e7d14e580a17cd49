package xmlsec_test

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Example shows the shared core used the WS-Security way: detached
// references by ID, each digested with exc-c14n, one SignatureValue, and
// the checks a verifier runs, in order.
func Example() {
	key := pki.MustGet().RSA
	doc, _ := xmlsec.Parse([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/">`+
		`<e:Header/><e:Body id="BDY"><m:Ping xmlns:m="urn:x">hello</m:Ping></e:Body></e:Envelope>`), xmlsec.Limits{})
	body, _ := xmlsec.FindByID(doc.Root(), "BDY", xmlsec.DefaultIDAttrs)

	// Sender: digest the Body, sign the SignedInfo, put the Signature in
	// the header.
	m, _ := xmlsec.DefaultSignatureMethod(key.Key.Public())
	ref := xmlsec.Reference{URI: "#BDY", Transforms: []string{xmlsec.ExcC14N}, Digest: crypto.SHA256}
	_ = ref.Compute(body, nil)
	sigEl, _ := xmlsec.NewSignature(nil, key.Key, &xmlsec.SignedInfo{Method: m, References: []xmlsec.Reference{ref}}, xmlsec.X509KeyInfo(key.Cert))
	doc.Root().SelectElement("e:Header").AddChild(sigEl)

	// Receiver: parse the Signature under the mode's rules, check IDs over
	// the whole document, resolve the key in the trust set, verify the
	// SignatureValue, then every Reference.
	trust := xmlsec.NewTrustSet([]*x509.Certificate{key.Cert})
	pol := xmlsec.Policy{}
	sig, err := xmlsec.ParseSignature(sigEl, xmlsec.ModeWSSecurity, pol)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := pol.CheckIDs(doc.Root(), []string{"BDY"}, xmlsec.DefaultIDAttrs); err != nil {
		fmt.Println(err)
		return
	}
	keys, err := trust.Resolve(sig.KeyInfo)
	if err == nil {
		_, err = sig.Verify(keys, pol)
	}
	for i := 0; err == nil && i < len(sig.SignedInfo.References); i++ {
		r := &sig.SignedInfo.References[i]
		id, _ := r.ID()
		target, ferr := xmlsec.FindByID(doc.Root(), id, xmlsec.DefaultIDAttrs)
		if err = ferr; err == nil {
			err = r.Verify(target, nil)
		}
	}
	fmt.Println("verified:", err == nil)
	fmt.Println("reads:", xmlsec.DetachSigned(body, nil).SelectElement("m:Ping").Text())
	// Output:
	// verified: true
	// reads: hello
}
