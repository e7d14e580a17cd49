package xmlsec

import (
	"crypto"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// TestCorpusSignatures verifies every ds:Signature in the recorded Lasso
// and ZXID exchanges with the shared core: SignedInfo parsing, exclusive
// c14n of elements in context (every DigestValue must match), references
// by ID and raw verification. The keys are those the corpus carries (its
// metadata and KeyInfos: 1024- and 2048-bit RSA with SHA-1, so the policy
// relaxes both); zxididp's own signing key was not recorded, so its
// signatures must fail with ErrSignature and only that.
func TestCorpusSignatures(t *testing.T) {
	pol := Policy{AllowSHA1: true, MinRSABits: 1024, DetachedEnveloped: true}
	files := corpusSigned(t)
	all := etree.NewElement("all")
	docs := make([]*etree.Document, len(files))
	for i, f := range files {
		docs[i] = etree.NewDocument()
		if err := docs[i].ReadFromFile(f); err != nil {
			t.Fatal(err)
		}
		all.AddChild(docs[i].Root().Copy())
	}
	trust := embeddedKeys(all)
	total := 0
	for i, f := range files {
		base := filepath.Base(f)
		for j, sigEl := range docs[i].FindElements("//Signature") {
			if sigEl.NamespaceURI() != NSDSig {
				continue
			}
			total++
			t.Run(base+"/"+string(rune('0'+j)), func(t *testing.T) {
				err := verifyInPlace(docs[i].Root(), sigEl, trust, pol)
				if signerRecorded(base) && err != nil {
					t.Fatal(err)
				}
				if !signerRecorded(base) && !errors.Is(err, ErrSignature) {
					t.Fatalf("got %v, want ErrSignature (signer key not recorded)", err)
				}
			})
		}
	}
	if total < 25 {
		t.Fatalf("only %d signatures found in the corpus", total)
	}
}

// signerRecorded tells the messages whose signing key is in the corpus:
// Lasso's in-process exchanges and the ZXID WSP's response (its metadata is
// zxid-15); everything else was signed by zxididp.
func signerRecorded(base string) bool {
	return strings.HasPrefix(base, "lasso-") || base == "zxid-14-POST-zxidwspcgi-resp.xml"
}

// corpusSigned is the corpus without the specification's examples, whose
// signatures are placeholders.
func corpusSigned(t *testing.T) []string {
	var out []string
	for _, f := range corpus(t) {
		if filepath.Base(filepath.Dir(f)) != "spec" {
			out = append(out, f)
		}
	}
	return out
}

// verifyInPlace checks one signature of the corpus against its own key.
func verifyInPlace(root, sigEl *etree.Element, trust *TrustSet, pol Policy) error {
	mode := ModeEnveloped
	sig, err := ParseSignature(sigEl, mode, pol)
	if errors.Is(err, ErrReference) {
		mode = ModeWSSecurity
		sig, err = ParseSignature(sigEl, mode, pol)
	}
	if err != nil {
		return err
	}
	for i := range sig.SignedInfo.References {
		if err := verifyRef(root, sigEl, &sig.SignedInfo.References[i], mode); err != nil {
			return err
		}
	}
	keys, err := trust.Resolve(sig.KeyInfo)
	if err != nil {
		return err
	}
	_, err = sig.Verify(keys, pol)
	return err
}

func verifyRef(root, sigEl *etree.Element, r *Reference, mode Mode) error {
	id, err := r.ID()
	if err != nil {
		return err
	}
	target, err := FindByID(root, id, DefaultIDAttrs)
	if err != nil {
		return err
	}
	if mode == ModeEnveloped && sigEl.Parent() != target {
		return errors.New("enveloped signature not a child of its target")
	}
	return r.Verify(target, sigEl)
}

// embeddedKeys trusts every key found under el: for this test only.
func embeddedKeys(el *etree.Element) *TrustSet {
	var certs []*x509.Certificate
	var keys []crypto.PublicKey
	for _, c := range el.FindElements(".//X509Certificate") {
		der, _ := DecodeBase64(c.Text())
		if cert, err := x509.ParseCertificate(der); err == nil {
			certs = append(certs, cert)
		}
	}
	for _, kv := range el.FindElements(".//RSAKeyValue") {
		if k, err := parseRSAKeyValue(kv); err == nil {
			keys = append(keys, k)
		}
	}
	return NewTrustSet(certs, keys...)
}

func elString(el *etree.Element) string {
	d := etree.NewDocument()
	d.SetRoot(el.Copy())
	s, _ := d.WriteToString()
	return s
}
