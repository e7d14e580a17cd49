package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// fakeWSP answers every request with a response built by reply from the
// request's MessageID, signed by signer.
func fakeWSP(t *testing.T, signer *pki.Identity, reply func(reqID string) *wsf.Header) string {
	srv := wsftest.StartTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		env, err := wsf.ParseEnvelope(b, xmlsec.Limits{})
		if err != nil {
			t.Error(err)
			return
		}
		blocks, _ := wsf.CheckMustUnderstand(env.Header)
		h, _ := wsf.DecodeHeader(blocks)
		out := reply(h.MessageID)
		payload := etree.NewElement("dstref:QueryResponse")
		payload.CreateAttr("xmlns:dstref", nsDST)
		payload.AddChild(wsf.Status{Code: wsf.OK}.Element())
		body, err := secmech.Secure(wsf.NewEnvelope(out, payload), &secmech.Credentials{Key: signer.Key, Certificate: signer.Cert}, time.Now())
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", wsf.ContentType)
		_, _ = w.Write(body)
	}))
	return srv.URL + "/wsp"
}

func respHeader(relatesTo, sender string) *wsf.Header {
	return &wsf.Header{Framework: wsf.Framework{Version: "2.0"}, Sender: &wsf.Sender{ProviderID: sender},
		MessageID: "urn:uuid:7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c05", RelatesTo: relatesTo}
}

func TestResponseChecks(t *testing.T) {
	k := wsftest.Keys(t)
	for _, tc := range []struct {
		name   string
		signer *pki.Identity
		reply  func(string) *wsf.Header
		want   error
	}{
		{"ok/signed-by-the-wsp", k.WSP, func(id string) *wsf.Header { return respHeader(id, wsftest.WSPID) }, nil},
		{"fail/relates-to-another-message", k.WSP, func(string) *wsf.Header { return respHeader("urn:uuid:other", wsftest.WSPID) }, wsf.ErrInvalidRefToMsgID},
		{"fail/signed-by-another-provider", k.Other, func(id string) *wsf.Header { return respHeader(id, wsftest.WSPID) }, xmlsec.ErrUntrustedKey},
		{"fail/sender-is-not-the-epr-provider", k.Other, func(id string) *wsf.Header { return respHeader(id, wsftest.OtherID) }, wsf.ErrProviderIDNotValid},
		{"fail/framework-1.1", k.WSP, func(id string) *wsf.Header {
			h := respHeader(id, wsftest.WSPID)
			h.Framework.Version = "1.1"
			return h
		}, wsf.ErrFrameworkVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := fakeWSP(t, tc.signer, tc.reply)
			c := newClient(t, k.WSC)
			_, err := c.Call(context.Background(), &client.Call{EPR: wsftest.EPR(url, wsf.ClientTLSSAMLV2, token(t, wsftest.TokenSpec{})), Action: action, Payload: query()})
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
