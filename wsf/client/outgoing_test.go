package client_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// invalidQuery is a DST Query the schema refuses: dstref:Bogus is no
// element of it.
func invalidQuery() *etree.Element {
	q := query()
	q.CreateElement("dstref:Bogus")
	return q
}

// countingPeer counts the requests that reach it and answers none.
func countingPeer(t *testing.T) (string, *atomic.Int32) {
	var n atomic.Int32
	srv := wsftest.StartTLS(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	return srv.URL + "/wsp", &n
}

func TestInvalidRequestIsNotSent(t *testing.T) {
	k := wsftest.Keys(t)
	url, hits := countingPeer(t)
	c := newClient(t, k.WSC)
	epr := wsftest.EPR(url, wsf.ClientTLSSAMLV2, token(t, wsftest.TokenSpec{}))
	_, err := c.Call(context.Background(), &client.Call{EPR: epr, Action: action, Payload: invalidQuery()})
	if !errors.Is(err, wsf.ErrInvalidOutgoing) || !errors.Is(err, xmlsec.ErrSchema) || hits.Load() != 0 {
		t.Fatalf("fail/invalid-request-refused-before-sending: %v, %d requests reached the peer", err, hits.Load())
	}
}

// TestSkipOutgoingValidation shows the knob is what keeps an invalid
// request from the wire.
func TestSkipOutgoingValidation(t *testing.T) {
	k := wsftest.Keys(t)
	url, hits := countingPeer(t)
	c, err := client.New(client.Config{EntityID: wsftest.WSCID, Key: k.WSC.Key, Certificate: k.WSC.Cert,
		Directory: wsftest.Directory(t, wsf.Strict), HTTP: wsftest.HTTPClient(t, k.WSC), Schema: schema(t),
		SkipOutgoingValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	epr := wsftest.EPR(url, wsf.ClientTLSSAMLV2, token(t, wsftest.TokenSpec{}))
	_, err = c.Call(context.Background(), &client.Call{EPR: epr, Action: action, Payload: invalidQuery()})
	if errors.Is(err, wsf.ErrInvalidOutgoing) || hits.Load() != 1 {
		t.Fatalf("skip/invalid-request-sent-unchecked: %v, %d requests reached the peer", err, hits.Load())
	}
}
