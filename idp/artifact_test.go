package idp

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// newArtifactEnv is newSSOEnv with the ArtifactResolutionService on the
// card listener at index 1.
func newArtifactEnv(t *testing.T) *ssoEnv {
	t.Helper()
	e := &ssoEnv{fixture: newFixture(t), sps: testSPs(t), verifier: idpVerifier(t)}
	return e.serve(t, nil, func(c *SSOConfig) { c.Artifact = ArtifactConfig{URL: e.cardURL + PathArtifact, Index: 1} })
}

// noFollow is the browser of card that stops at the redirect to an SP.
func (e *ssoEnv) noFollow(card *cardHolder) *http.Client {
	c := e.browser(card)
	c.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Hostname() != "127.0.0.1" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c
}

// artifactOf reads the artifact redirect of x: to sp's artifact ACS,
// with the RelayState.
func artifactOf(t *testing.T, x exchange, sp *testSP, relay string) *binding.Artifact {
	t.Helper()
	loc, err := url.Parse(x.Header.Get("Location"))
	if x.Status != http.StatusSeeOther || err != nil {
		t.Fatalf("HTTP %d, Location %q, want a redirect with SAMLart; body %s", x.Status, x.Header.Get("Location"), x.Body)
	}
	if base := loc.Scheme + "://" + loc.Host + loc.Path; base != sp.Art || loc.Query().Get(binding.ParamRelayState) != relay {
		t.Fatalf("redirect to %s, want %s with RelayState %q", loc, sp.Art, relay)
	}
	art, err := binding.ParseArtifact(loc.Query().Get(binding.ParamArtifact))
	if err != nil {
		t.Fatal(err)
	}
	return art
}

// resolve sends an ArtifactResolve for art as sp (signed with signer's key
// when not nil), over TLS with cert as client certificate when not nil,
// and returns the verified ArtifactResponse.
func (e *ssoEnv) resolve(t *testing.T, sp string, art string, signer *testSP, cert *cardHolder) *samlp.ArtifactResponse {
	t.Helper()
	r, err := e.resolveErr(sp, art, signer, cert)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// resolveErr is resolve for any goroutine: every failure is its error.
func (e *ssoEnv) resolveErr(sp string, art string, signer *testSP, cert *cardHolder) (*samlp.ArtifactResponse, error) {
	id, err := saml.NewID(nil)
	if err != nil {
		return nil, err
	}
	req := &samlp.ArtifactResolve{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: e.now, Destination: e.sso.cfg.Artifact.URL,
		Issuer: &saml.Issuer{Value: sp}}, Artifact: art}
	el := req.Element()
	if signer != nil {
		if el, err = samlp.Sign(req, spSigner(signer)); err != nil {
			return nil, err
		}
	}
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	if err != nil {
		return nil, err
	}
	status, env, err := e.soapSend(b, cert)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d %v: %s", status, err, env)
	}
	body, err := (&binding.SOAPDecoder{}).Decode(strings.NewReader(env))
	if err != nil {
		return nil, err
	}
	if err := e.schema.ValidateElement(body.Body); err != nil {
		return nil, err
	}
	r, _, err := samlp.VerifyArtifactResponse(body.Body, e.verifier)
	if err != nil {
		return nil, fmt.Errorf("ArtifactResponse does not verify with the IdP's key: %w", err)
	}
	if r.InResponseTo != id || r.Issuer.Value != idpID {
		return nil, fmt.Errorf("header %+v", r.StatusResponseHeader)
	}
	return r, nil
}

func (e *ssoEnv) soapRaw(t *testing.T, b []byte, cert *cardHolder) (int, string) {
	t.Helper()
	status, body, err := e.soapSend(b, cert)
	must(t, err)
	return status, body
}

// soapSend posts b to the ArtifactResolutionService, presenting cert
// (nil: none) as the TLS client certificate.
func (e *ssoEnv) soapSend(b []byte, cert *cardHolder) (int, string, error) {
	r, err := http.NewRequest(http.MethodPost, e.cardURL+PathArtifact, bytes.NewReader(b))
	if err != nil {
		return 0, "", err
	}
	r.Header.Set("Content-Type", binding.ContentTypeSOAP)
	tc := &tls.Config{RootCAs: e.rootCAs, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if cert != nil {
		// Sent whatever CAs the listener hints (card and soft-certificate
		// issuers), as OpenSSL-based SPs do; Go's client would send none.
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cc := cert.tls()
			return &cc, nil
		}
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	resp, err := c.Do(r)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

// spCert is sp's metadata key as a TLS client certificate.
func spCert(sp *testSP) *cardHolder {
	return &cardHolder{Cert: sp.Key.Cert, Key: sp.Key.Key}
}

// artifactLogin logs Alice in at sp with ProtocolBinding HTTP-Artifact
// and returns the artifact and the request's ID.
func (e *ssoEnv) artifactLogin(t *testing.T, sp *testSP, id string) *binding.Artifact {
	t.Helper()
	req := e.newRequest(sp, id)
	req.AssertionConsumerServiceURL, req.ProtocolBinding = sp.Art, samlp.BindingHTTPArtifact
	return artifactOf(t, e.redirect(e.noFollow(&e.Alice), req, "rs-art", nil), sp, "rs-art")
}

func TestArtifactSSO(t *testing.T) {
	e := newArtifactEnv(t)
	sp := e.sps[otherSP]
	t.Run("ok/protocolbinding-artifact", func(t *testing.T) {
		art := e.artifactLogin(t, sp, "_req-art-1")
		src := binding.SourceID(idpID)
		if art.EndpointIndex != 1 || art.SourceID != src || hex.EncodeToString(art.MessageHandle[:]) == strings.Repeat("0", 40) {
			t.Fatalf("artifact index %d, SourceID %x, want 1 and SHA-1 of %s", art.EndpointIndex, art.SourceID, idpID)
		}
		r := e.resolve(t, otherSP, art.String(), sp, nil)
		if !r.Status.Success() || r.Message == nil {
			t.Fatalf("status %v, message %v", r.Status, r.Message)
		}
		if _, err := e.acceptResponse(sp, r.Message, sp.Art, "_req-art-1"); err != nil {
			t.Fatalf("the resolved Response is refused by the SP: %v", err)
		}
		again := e.resolve(t, otherSP, art.String(), sp, nil)
		if !again.Status.Success() || again.Message != nil {
			t.Fatalf("second resolution: status %v, message %v; an artifact is used once", again.Status, again.Message)
		}
	})
	t.Run("ok/index-of-artifact-acs", func(t *testing.T) {
		req := e.newRequest(sp, "_req-art-2")
		two := uint16(2)
		req.AssertionConsumerServiceURL, req.ProtocolBinding, req.AssertionConsumerServiceIndex = "", "", &two
		art := artifactOf(t, e.redirect(e.noFollow(&e.Alice), req, "rs-idx", nil), sp, "rs-idx")
		r := e.resolve(t, otherSP, art.String(), nil, spCert(sp))
		if _, err := e.acceptResponse(sp, r.Message, sp.Art, "_req-art-2"); err != nil {
			t.Fatalf("resolved by TLS client certificate: %v", err)
		}
	})
}

func TestArtifactResolveRefused(t *testing.T) {
	e := newArtifactEnv(t)
	sp, legacy := e.sps[otherSP], e.sps[legacyID]
	denied := func(t *testing.T, r *samlp.ArtifactResponse) {
		t.Helper()
		if r.Status.Code.Value != samlp.StatusRequester || r.Status.Second() != samlp.StatusRequestDenied || r.Message != nil {
			t.Fatalf("status %s/%s with message %v, want Requester/RequestDenied and none", r.Status.Code.Value, r.Status.Second(), r.Message != nil)
		}
	}
	t.Run("fail/another-sp", func(t *testing.T) {
		art := e.artifactLogin(t, sp, "_req-ref-1")
		denied(t, e.resolve(t, legacyID, art.String(), legacy, nil))
		if r := e.resolve(t, otherSP, art.String(), sp, nil); r.Message != nil {
			t.Fatal("an artifact shown to another SP still resolves")
		}
	})
	t.Run("fail/unauthenticated", func(t *testing.T) {
		art := e.artifactLogin(t, sp, "_req-ref-2")
		denied(t, e.resolve(t, otherSP, art.String(), nil, nil))
	})
	t.Run("fail/foreign-client-certificate", func(t *testing.T) {
		art := e.artifactLogin(t, sp, "_req-ref-3")
		denied(t, e.resolve(t, otherSP, art.String(), nil, spCert(legacy)))
	})
	t.Run("fail/signed-by-another-key", func(t *testing.T) {
		art := e.artifactLogin(t, sp, "_req-ref-4")
		denied(t, e.resolve(t, otherSP, art.String(), legacy, nil))
	})
	t.Run("fail/expired", func(t *testing.T) {
		art := e.artifactLogin(t, sp, "_req-ref-5")
		e.now = e.now.Add(DefaultArtifactLifetime + time.Second)
		if r := e.resolve(t, otherSP, art.String(), sp, nil); !r.Status.Success() || r.Message != nil {
			t.Fatalf("expired artifact: status %v, message %v", r.Status, r.Message != nil)
		}
	})
	t.Run("fail/not-ours", func(t *testing.T) {
		a := &binding.Artifact{EndpointIndex: 1, SourceID: binding.SourceID("https://elsewhere.example/idp")}
		if r := e.resolve(t, otherSP, a.String(), sp, nil); !r.Status.Success() || r.Message != nil {
			t.Fatalf("foreign artifact: status %v", r.Status)
		}
	})
	t.Run("fail/malformed-artifact", func(t *testing.T) {
		if r := e.resolve(t, otherSP, "bm90IGFuIGFydGlmYWN0", sp, nil); r.Status.Code.Value != samlp.StatusRequester {
			t.Fatalf("malformed artifact: status %v", r.Status)
		}
	})
}

func TestArtifactResolveHostile(t *testing.T) {
	e := newArtifactEnv(t)
	for name, body := range map[string]string{
		"fail/not-xml":     "this is not XML",
		"fail/doctype":     `<!DOCTYPE x [<!ENTITY a "b">]><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body/></S:Envelope>`,
		"fail/unknown-sp":  `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><samlp:ArtifactResolve xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://unknown.example/sp</saml:Issuer><samlp:Artifact>AAQ=</samlp:Artifact></samlp:ArtifactResolve></S:Body></S:Envelope>`,
		"fail/not-resolve": `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><x/></S:Body></S:Envelope>`,
	} {
		t.Run(name, func(t *testing.T) {
			status, b := e.soapRaw(t, []byte(body), nil)
			if status != http.StatusInternalServerError || !strings.Contains(b, "Client") || strings.Contains(b, "Server<") {
				t.Fatalf("HTTP %d %s, want a Client fault", status, b)
			}
		})
	}
	t.Run("fail/text-plain", func(t *testing.T) {
		sp := e.sps[otherSP]
		art := e.artifactLogin(t, sp, "_req-hostile-1")
		el, err := samlp.Sign(&samlp.ArtifactResolve{RequestHeader: samlp.RequestHeader{ID: "_hostile-plain", IssueInstant: e.now,
			Issuer: &saml.Issuer{Value: otherSP}}, Artifact: art.String()}, spSigner(sp))
		must(t, err)
		b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
		must(t, err)
		r, err := http.NewRequest(http.MethodPost, e.cardURL+PathArtifact, bytes.NewReader(b))
		must(t, err)
		r.Header.Set("Content-Type", "text/plain")
		x := e.do(e.browser(nil), r)
		if x.Status != http.StatusUnsupportedMediaType || !strings.Contains(x.Body, "Client") || strings.Contains(x.Body, "ArtifactResponse") {
			t.Fatalf("HTTP %d %s, want 415 and a Client fault, as /ecp answers", x.Status, x.Body)
		}
		if r := e.resolve(t, otherSP, art.String(), sp, nil); r.Message == nil {
			t.Fatal("the refused text/plain request consumed the artifact")
		}
	})
}

// TestUnsupportedBinding checks SAML Core §3.4.1: a response binding the
// IdP does not offer is refused with Requester/UnsupportedBinding, never
// replaced silently by another.
func TestUnsupportedBinding(t *testing.T) {
	off := newSSOEnv(t, nil)
	on := newArtifactEnv(t)
	paos := uint16(1)
	tests := []struct {
		name  string
		e     *ssoEnv
		tweak func(*samlp.AuthnRequest)
	}{
		{"fail/artifact-not-offered/default-acs", off, func(r *samlp.AuthnRequest) {
			r.AssertionConsumerServiceURL, r.ProtocolBinding = "", samlp.BindingHTTPArtifact
		}},
		{"fail/artifact-not-offered/artifact-acs", off, func(r *samlp.AuthnRequest) {
			r.AssertionConsumerServiceURL, r.ProtocolBinding = otherACS+"/art", samlp.BindingHTTPArtifact
		}},
		{"fail/redirect-binding", on, func(r *samlp.AuthnRequest) { r.ProtocolBinding = samlp.BindingHTTPRedirect }},
		{"fail/paos-acs-to-a-browser", on, func(r *samlp.AuthnRequest) {
			r.AssertionConsumerServiceURL, r.ProtocolBinding, r.AssertionConsumerServiceIndex = "", "", &paos
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, sp := tc.e, tc.e.sps[otherSP]
			req := e.newRequest(sp, "_req-unsup-"+string(rune('a'+i)))
			tc.tweak(req)
			x := e.redirect(e.noFollow(&e.Alice), req, "", nil)
			if loc := x.Header.Get("Location"); loc != "" {
				t.Fatalf("redirected to %s", loc)
			}
			got, err := e.consume(sp, x, req.ID)
			if err != nil {
				t.Fatalf("no error Response at the default ACS: %v; body %s", err, x.Body)
			}
			if st := got.Response.Status; st.Code.Value != samlp.StatusRequester || st.Second() != samlp.StatusUnsupportedBinding {
				t.Fatalf("status %s/%s, want Requester/UnsupportedBinding", st.Code.Value, st.Second())
			}
		})
	}
}
