//go:build cgo

package card_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// openscModule finds OpenSC's PKCS#11 module (its directory is the
// multiarch triplet, so it is looked up rather than written down).
func openscModule(t *testing.T) string {
	t.Helper()
	m, _ := filepath.Glob("/usr/lib/*/opensc-pkcs11.so")
	if len(m) == 0 {
		t.Fatal("opensc-pkcs11.so not found: install opensc (make deps)")
	}
	return m[0]
}

// openscConf lets OpenSC's PKCS#11 module show every reader of the test
// pcscd (by default it stops at a few slots) with one slot per card.
const openscConf = `app default {
	framework pkcs15 { use_file_caching = no; }
}
app opensc-pkcs11 {
	pkcs11 { max_virtual_slots = 64; slots_per_card = 1; }
}
`

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "opensc.conf")
	if err := os.WriteFile(conf, []byte(openscConf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "OPENSC_CONF="+conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestOpenSCSeesPIV has OpenSC, an independent PIV implementation, read
// the virtual card through pcscd and sign with it over PKCS#11.
func TestOpenSCSeesPIV(t *testing.T) {
	digest := sha256.Sum256([]byte("signed by OpenSC"))
	for _, id := range []*pki.Identity{pki.MustGet().RSA, pki.MustGet().P256} {
		t.Run("ok/"+id.Name, func(t *testing.T) {
			r := insert(t, 0, newCardFile(t, id), virtual.Options{})
			r.conn.Close()
			r.conn = nil
			out := runTool(t, "pkcs15-tool", "--reader", r.reader, "-D")
			if !strings.Contains(out, "X.509 Certificate [Certificate for PIV Authentication]") {
				t.Fatalf("pkcs15-tool -D lists no PIV authentication certificate:\n%s", out)
			}
			sig := pkcs11Sign(t, r.reader, id, digest[:])
			if err := verifyOpenSC(id, digest[:], sig); err != nil {
				t.Fatalf("OpenSC's signature does not verify with the certificate: %v", err)
			}
		})
	}
}

func pkcs11Sign(t *testing.T, reader string, id *pki.Identity, digest []byte) []byte {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "sig")
	mech, data := "ECDSA", digest
	if _, ok := id.Key.(*rsa.PrivateKey); ok {
		// RSA-PKCS pads what it is given: give it the DigestInfo.
		mech = "RSA-PKCS"
		data = append([]byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, digest...)
	}
	os.WriteFile(in, data, 0o600)
	runTool(t, "pkcs11-tool", "--module", openscModule(t), "--slot-description", reader,
		"--login", "--pin", virtual.DefaultPIN, "--sign", "--id", "01", "--mechanism", mech,
		"--input-file", in, "--output-file", out)
	sig, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func verifyOpenSC(id *pki.Identity, digest, sig []byte) error {
	switch pub := id.Cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest, rawToDER(sig)) {
			return errVerify
		}
	}
	return nil
}

// rawToDER turns PKCS#11's r||s into an ASN.1 ECDSA-Sig-Value.
func rawToDER(sig []byte) []byte {
	n := len(sig) / 2
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
	return der
}

var errVerify = errors.New("ECDSA signature does not verify")
