package binding

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/golden"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

func TestPOSTGolden(t *testing.T) {
	el := authnRequest().Element()
	for _, tc := range []struct {
		name string
		opt  FormOptions
	}{
		{"inline", FormOptions{}},
		{"nonce", FormOptions{Nonce: "n0nce\"<"}},
		{"script-src", FormOptions{ScriptURL: "/static/autosubmit.js?a=1&b=2"}},
	} {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			page, err := EncodePOST("https://127.0.0.1:9443/idp/sso?x=\"<&>", el, "ss:mem:<5f2a9c>&\"", tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "TestPOSTGolden_"+tc.name+".html", page)
			if tc.opt.ScriptURL != "" && strings.Contains(string(page), AutoSubmitScript) {
				t.Error("inline script in the script-src variant")
			}
			form := url.Values{ParamRequest: {formValue(t, string(page), ParamRequest)}, ParamRelayState: {formValue(t, string(page), ParamRelayState)}}
			m, err := (&POSTDecoder{}).Decode(strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if m.RelayState != "ss:mem:<5f2a9c>&\"" || m.Param != ParamRequest {
				t.Fatalf("decoded %+v", m)
			}
			if _, err := samlp.DecodeAuthnRequest(m.Element); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// endless is a body that never ends, to show the decoder stops reading.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestPOSTFailures(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString(serialize(t, authnRequest().Element()))
	v11 := authnRequest().Element()
	v11.CreateAttr("Version", "1.1")
	cases := []struct {
		name string
		body string
		want error
	}{
		{"fail/bad-base64", "SAMLRequest=%21%21%21", ErrEncoding},
		{"fail/not-xml", "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("<a><b></a>"))), xmlsec.ErrMalformed},
		{"fail/doctype", "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(`<!DOCTYPE a [<!ENTITY x "y">]><a/>`))), xmlsec.ErrDoctype},
		{"fail/duplicate-samlrequest", "SAMLRequest=" + url.QueryEscape(b64) + "&SAMLRequest=" + url.QueryEscape(b64), ErrParameter},
		{"fail/duplicate-relaystate", "SAMLRequest=" + url.QueryEscape(b64) + "&RelayState=a&RelayState=b", ErrParameter},
		{"fail/both", "SAMLRequest=" + url.QueryEscape(b64) + "&SAMLResponse=" + url.QueryEscape(b64), ErrParameter},
		{"fail/none", "RelayState=a", ErrParameter},
		{"fail/relaystate-too-long", "SAMLRequest=" + url.QueryEscape(b64) + "&RelayState=" + strings.Repeat("a", 81), ErrRelayState},
		{"fail/request-in-samlresponse", "SAMLResponse=" + url.QueryEscape(b64), ErrMessage},
		{"fail/bad-form", "SAMLRequest=%zz", ErrEncoding},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := (&POSTDecoder{}).Decode(strings.NewReader(tc.body)); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("fail/oversized-body", func(t *testing.T) {
		body := &endless{}
		if _, err := (&POSTDecoder{MaxBody: 4096}).Decode(io.MultiReader(strings.NewReader("SAMLRequest="), body)); !errors.Is(err, xmlsec.ErrTooLarge) {
			t.Fatalf("got %v", err)
		}
		if body.n > 64<<10 {
			t.Fatalf("read %d bytes of an oversized body", body.n)
		}
	})
	t.Run("fail/version-1.1", func(t *testing.T) {
		m, err := (&POSTDecoder{}).Decode(strings.NewReader("SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(serialize(t, v11)))))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := samlp.DecodeAuthnRequest(m.Element); !errors.Is(err, saml.ErrVersion) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ok/wrapped-base64", func(t *testing.T) {
		var wrapped strings.Builder
		for i := 0; i < len(b64); i += 76 {
			wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\r\n")
		}
		if _, err := (&POSTDecoder{}).Decode(strings.NewReader("SAMLRequest=" + url.QueryEscape(wrapped.String()))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ok/http-request", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "https://127.0.0.1/acs", strings.NewReader("SAMLRequest="+url.QueryEscape(b64)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		if _, err := (&POSTDecoder{}).DecodeRequest(r); err != nil {
			t.Fatal(err)
		}
		r.Method = http.MethodGet
		if _, err := (&POSTDecoder{}).DecodeRequest(r); !errors.Is(err, ErrParameter) {
			t.Fatalf("GET: %v", err)
		}
	})
}
