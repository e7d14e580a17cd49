package portalserver_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/fedkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// queryResponses returns the disco:QueryResponses among the bodies the
// portal received.
func queryResponses(t *testing.T, bodies [][]byte) []*disco.QueryResponse {
	t.Helper()
	var out []*disco.QueryResponse
	for _, b := range bodies {
		doc, err := xmlsec.Parse(b, xmlsec.Limits{})
		if err != nil {
			continue
		}
		var walk func(el *etree.Element)
		walk = func(el *etree.Element) {
			if el.Tag == "QueryResponse" && el.NamespaceURI() == disco.NS {
				if r, err := disco.DecodeQueryResponse(el); err == nil {
					out = append(out, r)
				}
				return
			}
			for _, c := range el.ChildElements() {
				walk(c)
			}
		}
		if doc.Root() != nil {
			walk(doc.Root())
		}
	}
	return out
}

// asidePortal is a wsf/client that presents the portal's own key, as the
// portal does (its signing key is its TLS client key and the key its
// tokens are bound to): what someone holding a copy of a token and the
// portal's key could send.
func asidePortal(t *testing.T, f *fedkit.Fed) *client.Client {
	t.Helper()
	id := f.PortalSigning
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.RootCAs,
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}}}}}
	c, err := client.New(client.Config{EntityID: f.Portal.File.EntityID, Key: id.Key, Certificate: id.Cert,
		Directory: f.Portal.Directory, HTTP: hc, Schema: schema, Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLogoutEndsWSPTokens: the citizen logs in, the dashboard loads (the
// DS mints a token for each WSP, joining it to the IdP session); a token
// kept aside still works; the citizen logs out of the portal, the IdP's
// single logout reaches the WSPs over SOAP, and the WSP now refuses the
// kept token as an expired one, with the portal's own key.
func TestLogoutEndsWSPTokens(t *testing.T) {
	var mu sync.Mutex
	var received [][]byte
	f := fedkit.Start(t, fedkit.Options{Institutions: []string{sample.HospitalA}, Tap: func(b []byte) {
		mu.Lock()
		received = append(received, b)
		mu.Unlock()
	}})
	c := newCitizen(t, f, "p01")
	if home := c.get("/login?lang=en"); home.URL.String() != f.PortalURL+"/" {
		t.Fatalf("login ended at %s", home.URL)
	}
	f.Consent(t, c.b, sample.HospitalA)
	shows(t, "the dashboard", c.get("/"), "Toto Central Hospital", "Lab results")

	mu.Lock()
	rs := queryResponses(t, received)
	mu.Unlock()
	var kept *wsf.EPR
	for _, r := range rs {
		for _, e := range r.EPRs {
			if e.Metadata != nil && e.Metadata.ProviderID == wspkit.Entities[sample.HospitalA] && e.Metadata.ServiceType == dst.Clinical {
				kept = e
			}
		}
	}
	if kept == nil {
		t.Fatalf("no EPR of hospital A's clinical service among %d QueryResponses the portal received", len(rs))
	}
	aside := asidePortal(t, f)
	svc := dst.Lookup(dst.Clinical)
	call := func() error {
		q := svc.QueryElement(&dst.Query{Items: []dst.QueryItem{{ItemID: "lr", Select: "/cl:LabResult", HasSelect: true, Count: -1}}})
		res, err := wspkit.Call(context.Background(), aside, kept, dst.Clinical, "Query", q, wsf.PurposeSelf)
		if err != nil {
			return err
		}
		r, err := svc.DecodeQueryResponse(res.Payload)
		if err == nil && r.Status.Code != wsf.OK {
			err = errors.New("status " + string(r.Status.Code))
		}
		return err
	}
	if err := call(); err != nil {
		t.Fatalf("the kept token before logout: %v", err)
	}

	out := c.submit(c.get("/"), "/logout", nil)
	shows(t, "after logout", out, "You have logged out.") // not "..., but some services may not have logged you out"

	err := call()
	var fault *wsf.Fault
	if !errors.As(err, &fault) || fault.Code != wsf.FaultInvalidSecurityToken || fault.Status == nil ||
		fault.Status.Code != wsf.InappropriateCredentials {
		t.Fatalf("the kept token after logout: %v, want the expired-token fault", err)
	}
}
