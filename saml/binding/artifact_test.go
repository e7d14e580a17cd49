package binding

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"testing"
)

// TestSourceIDDigestExample checks SourceID against the worked example of
// the spec digest (examples/saml2-03-artifactresolve-soap.xml).
func TestSourceIDDigestExample(t *testing.T) {
	s := SourceID("https://idp.example.org/saml")
	if got := hex.EncodeToString(s[:]); got != "44ab048eb15326219a262c1d1e8f563e90b345d3" {
		t.Fatalf("SourceID %s", got)
	}
}

func TestArtifact(t *testing.T) {
	rnd := bytes.NewReader(bytes.Repeat([]byte{7}, 20))
	a, err := NewArtifact("https://idp.example.org/saml", 3, rnd)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(a.String())
	if len(raw) != 44 || raw[0] != 0 || raw[1] != 4 || raw[2] != 0 || raw[3] != 3 {
		t.Fatalf("ok/layout: % x", raw[:4])
	}
	back, err := ParseArtifact(a.String())
	if err != nil || *back != *a || !back.IssuedBy("https://idp.example.org/saml") || back.IssuedBy("https://other.example/") {
		t.Fatalf("ok/round-trip: %v %+v", err, back)
	}
	typ1 := append([]byte{0, 1}, raw[2:]...)
	for name, in := range map[string]string{
		"fail/not-base64": "!!!", "fail/short": base64.StdEncoding.EncodeToString(raw[:43]),
		"fail/type-0001": base64.StdEncoding.EncodeToString(typ1), "fail/huge": string(bytes.Repeat([]byte("A"), 4096)),
	} {
		if _, err := ParseArtifact(in); !errors.Is(err, ErrEncoding) && !errors.Is(err, ErrMessage) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestArtifactURL(t *testing.T) {
	a := &Artifact{EndpointIndex: 1}
	u, err := ArtifactURL("https://sp.example/acs?x=1", a, "state 1")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := url.Parse(u)
	q := p.Query()
	if q.Get("x") != "1" || q.Get(ParamArtifact) != a.String() || q.Get(ParamRelayState) != "state 1" {
		t.Fatalf("ok/query: %s", u)
	}
	if _, err := ArtifactURL("https://sp.example/acs", a, string(bytes.Repeat([]byte("r"), 81))); !errors.Is(err, ErrRelayState) {
		t.Fatalf("fail/relaystate-too-long: %v", err)
	}
}

// FuzzParseArtifact feeds arbitrary SAMLart values to ParseArtifact: it
// refuses or decodes, never panics, and what it decodes encodes back to
// the same bytes.
func FuzzParseArtifact(f *testing.F) {
	f.Add((&Artifact{EndpointIndex: 0, SourceID: SourceID("https://idp.example.org/saml")}).String())
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseArtifact(s)
		if err != nil {
			return
		}
		again, err := ParseArtifact(a.String())
		if err != nil || *again != *a {
			t.Fatalf("round trip: %v", err)
		}
	})
}
