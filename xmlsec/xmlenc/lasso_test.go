package xmlenc

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// lassoPython returns a python3 on PATH that can import Debian's Lasso
// binding (python3-lasso); a python3 of another installation may come
// first on PATH. The test fails, never skips, when there is none.
func lassoPython(t testing.TB) string {
	t.Helper()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, "python3")
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			continue
		}
		if exec.Command(p, "-c", "import lasso").Run() == nil {
			return p
		}
	}
	t.Fatal("no python3 on PATH imports lasso (install Debian package python3-lasso; make test does)")
	return ""
}

// lassoScript decrypts each file named on the command line with Lasso
// (lasso_saml2_encrypted_element_server_decrypt, the SP's encryption key)
// and prints the assertion's ID, Issuer and NameID; with "encrypt" it has
// Lasso encrypt an assertion for the SP of the metadata with the given key
// transport and block cipher, and prints the wrapper.
const lassoScript = `
import sys, lasso
meta, key, cert, mode = sys.argv[1:5]
if mode == "decrypt":
    srv = lasso.Server(meta, key, None, cert)
    srv.setEncryptionPrivateKey(key)
    for f in sys.argv[5:]:
        enc = lasso.Node.newFromXmlNode(open(f).read())
        a = lasso.cptrToPy(enc.serverDecrypt(srv))
        print(a.id, a.issuer.content, a.subject.nameID.content)
else:
    prov = lasso.Provider(lasso.PROVIDER_ROLE_SP, meta, None, None)
    prov.setKeyEncryptionMethod(getattr(lasso, "KEY_ENCRYPTION_METHOD_" + sys.argv[5]))
    prov.setEncryptionSymKeyType(getattr(lasso, "ENCRYPTION_SYM_KEY_TYPE_" + sys.argv[6]))
    a = lasso.Saml2Assertion()
    a.id, a.version, a.issueInstant = "_lasso1", "2.0", "2026-11-25T05:54:51Z"
    a.issuer = lasso.Saml2NameID()
    a.issuer.content = "https://127.0.0.1:8444/idp"
    sys.stdout.write(prov.saml2NodeEncrypt(a).dump())
`

// spMetadata is the recipient's SP metadata with its encryption key.
func spMetadata(id *pki.Identity) []byte {
	b64 := base64.StdEncoding.EncodeToString(id.Cert.Raw)
	return []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + testEntity + `">` +
		`<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + b64 + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
		`<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://127.0.0.1:8443/portal/saml/acs" index="0"/>` +
		`</md:SPSSODescriptor></md:EntityDescriptor>`)
}

type lassoRun struct {
	t                     testing.TB
	python, dir           string
	meta, key, cert, mode string
}

func newLasso(t testing.TB) *lassoRun {
	p := pki.MustGet()
	l := &lassoRun{t: t, python: lassoPython(t), dir: t.TempDir()}
	var err error
	if l.cert, l.key, err = p.RSA.WriteFiles(l.dir); err != nil {
		t.Fatal(err)
	}
	l.meta = filepath.Join(l.dir, "sp.xml")
	if err := os.WriteFile(l.meta, spMetadata(p.RSA), 0o600); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *lassoRun) run(mode string, args ...string) string {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.python, append([]string{"-c", lassoScript, l.meta, l.key, l.cert, mode}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		l.t.Fatalf("lasso %s: %v\n%s", mode, err, stderr.Bytes())
	}
	return string(out)
}

// TestLassoDecryptsOurs has Lasso 2.8 (Debian's python3-lasso, a SAML SP
// library built on xmlsec) decrypt our EncryptedAssertion in both key
// placements, with GCM and CBC, using only the SP's metadata and key.
func TestLassoDecryptsOurs(t *testing.T) {
	p := pki.MustGet()
	l := newLasso(t)
	want := "_a1b2c3d4e5f60718293a4b5c6d7e8f90 https://127.0.0.1:8444/idp Pq3wR8tYz1uVx5sA7dFg9hJk2lMn"
	for _, data := range []string{AES256GCM, AES128GCM, AES128CBC} {
		for _, pl := range []Placement{KeyInside, KeyBeside} {
			name := "ok/" + short(data) + "/" + [...]string{"inside", "beside"}[pl]
			t.Run(name, func(t *testing.T) {
				a := assertionIn(t, readFixture(t, "response.xml"))
				w, err := (&Encrypter{Placement: pl, Algorithms: Algorithms{Data: data}}).Encrypt(a, EncryptedAssertion, recipientOf(p.RSA))
				if err != nil {
					t.Fatal(err)
				}
				f := filepath.Join(l.dir, "enc.xml")
				if err := os.WriteFile(f, toBytes(t, w), 0o600); err != nil {
					t.Fatal(err)
				}
				if got := strings.TrimSpace(l.run("decrypt", f)); got != want {
					t.Fatalf("Lasso read %q, want %q", got, want)
				}
			})
		}
	}
}

// TestWeDecryptLassos has Lasso encrypt an assertion for the SP of the
// metadata (lasso_provider_saml2_node_encrypt) and decrypts it: with OAEP
// (Lasso 2.8's default) its AES-CBC output decrypts when CBC is allowed;
// with RSA PKCS#1 v1.5, which Lasso still offers, it is refused by policy.
func TestWeDecryptLassos(t *testing.T) {
	p := pki.MustGet()
	l := newLasso(t)
	cases := []struct {
		name, kt, sym string
		want          error
	}{
		{"ok/oaep/aes-256-cbc", "OAEP", "AES_256", nil},
		{"ok/oaep/aes-128-cbc", "OAEP", "AES_128", nil},
		{"ok/lasso-default/aes-256-cbc", "DEFAULT", "AES_256", nil},
		{"fail/rsa-1_5", "PKCS1", "AES_256", xmlsec.ErrAlgorithm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := xmlsec.ParseElement([]byte(l.run("encrypt", c.kt, c.sym)), xmlsec.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := decrypterOf(p.RSA).Decrypt(w)
			if c.want != nil {
				wantKind(t, err, c.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.SelectAttrValue("ID", "") != "_lasso1" || got.SelectElement("Issuer").Text() != "https://127.0.0.1:8444/idp" {
				t.Fatalf("decrypted %s", toBytes(t, got))
			}
			t.Run("fail/cbc-not-allowed-by-default", func(t *testing.T) {
				_, err := (&Decrypter{Key: decrypterOf(p.RSA).Key}).Decrypt(w)
				wantKind(t, err, xmlsec.ErrAlgorithm)
			})
		})
	}
}
