package binding

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/golden"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// TestFuzzSeeds checks that every fuzz target has its committed seed
// corpus; with -update it writes the corpus again from the digest's vector,
// our own encodings and, when python3-lasso is present, Lasso's messages.
func TestFuzzSeeds(t *testing.T) {
	if golden.Update() {
		writeSeeds(t)
	}
	for _, target := range []string{"FuzzRedirectDecode", "FuzzPOSTDecode", "FuzzSOAPDecode"} {
		es, err := os.ReadDir(filepath.Join("testdata", "fuzz", target))
		if err != nil || len(es) < 3 {
			t.Errorf("%s: seed corpus missing or thin (%d files): %v", target, len(es), err)
		}
	}
}

func writeSeeds(t *testing.T) {
	p := pki.MustGet()
	vector, err := os.ReadFile("testdata/TestRedirectDigestVector_query.txt")
	if err != nil {
		t.Fatal(err)
	}
	ours, err := EncodeRedirect(authnRequest().Element(), "rs", &RedirectSigner{Key: p.P256.Key})
	if err != nil {
		t.Fatal(err)
	}
	redirect := []string{strings.TrimSpace(string(vector)), ours}
	b64 := base64.StdEncoding.EncodeToString(serialize(t, authnRequest().Element()))
	post := []string{"SAMLRequest=" + url.QueryEscape(b64) + "&RelayState=rs", "SAMLResponse=" + url.QueryEscape(b64)}
	var soap []string
	for _, f := range []string{"TestSOAPECPGolden_paos.xml", "TestSOAPECPGolden_response.xml", "TestSOAPDigestExample_paos.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		soap = append(soap, string(b))
	}
	if l := maybeLasso(t); l != nil {
		if out, err := l.run(t, "sp-redirect", ""); err == nil {
			u, _ := url.Parse(out["url"])
			redirect = append(redirect, u.RawQuery)
		}
		if out, err := l.run(t, "sp-post", ""); err == nil {
			post = append(post, url.Values{ParamRequest: {out["body"]}}.Encode())
		}
	}
	writeCorpus(t, "FuzzRedirectDecode", "string", redirect)
	writeCorpus(t, "FuzzPOSTDecode", "[]byte", post)
	writeCorpus(t, "FuzzSOAPDecode", "[]byte", soap)
}

func maybeLasso(t *testing.T) *lassoPeer {
	if exec.Command(python, "-c", "import lasso").Run() != nil {
		t.Log("python3-lasso not available: no Lasso seeds")
		return nil
	}
	return newLassoPeer(t)
}

func writeCorpus(t *testing.T, target, typ string, seeds []string) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n%s(%s)\n", typ, strconv.Quote(s))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
