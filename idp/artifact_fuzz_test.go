package idp

import (
	"crypto/x509"
	"testing"

	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// seedArtifactURL is the ArtifactResolutionService the seeds of
// FuzzResolveArtifact name as their Destination (their IssueInstant is
// seedNow).
const seedArtifactURL = "https://127.0.0.1:41226/artifact"

// FuzzResolveArtifact feeds ArtifactResolve bodies, as the SOAP binding
// would deliver them over a connection whose client certificate is the
// other SP's metadata key, to the engine, seeded with that SP's unsigned
// requests for our own and a foreign artifact
// (testdata/fuzz/FuzzResolveArtifact): it answers with an ArtifactResponse
// or refuses with a typed error, never panics, and, as no artifact was
// ever issued, never hands out a message.
func FuzzResolveArtifact(f *testing.F) {
	e := newSSOEnv(f, func(c *SSOConfig) { c.Artifact = ArtifactConfig{URL: seedArtifactURL, Index: 1} })
	certs := []*x509.Certificate{e.sps[otherSP].Key.Cert}
	f.Fuzz(func(t *testing.T, msg []byte) {
		el, err := xmlsec.ParseElement(msg, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		out, err := e.sso.ResolveArtifact(ctx, QueryInbound{Element: el, ClientCerts: certs}, seedNow)
		if out == nil {
			if err == nil || CodeOf(err) == CodeInternal {
				t.Fatalf("no answer, and an untyped refusal: %v", err)
			}
			return
		}
		r, err := samlp.DecodeArtifactResponse(out)
		if err != nil {
			t.Fatalf("the engine's ArtifactResponse does not decode: %v", err)
		}
		if r.Message != nil {
			t.Fatalf("a message was handed out for an artifact never issued")
		}
	})
}
