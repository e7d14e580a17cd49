package wspkit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// What a test keeps aside of a WSC's traffic to prove that a token stops
// working: the EPRs the DS sent it, and a client that holds the WSC's own
// key, as someone holding a copy of the token and that key would.

// QueryResponses returns the disco:QueryResponses among bodies (a tap's
// captures), wherever they sit in each envelope.
func QueryResponses(bodies [][]byte) []*disco.QueryResponse {
	var out []*disco.QueryResponse
	for _, b := range bodies {
		doc, err := xmlsec.Parse(b, xmlsec.Limits{})
		if err != nil || doc.Root() == nil {
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
		walk(doc.Root())
	}
	return out
}

// KeptEPR is the last EPR of serviceType at provider among the
// QueryResponses of bodies, or nil.
func KeptEPR(bodies [][]byte, provider, serviceType string) *wsf.EPR {
	var kept *wsf.EPR
	for _, r := range QueryResponses(bodies) {
		for _, e := range r.EPRs {
			if e.Metadata != nil && e.Metadata.ProviderID == provider && e.Metadata.ServiceType == serviceType {
				kept = e
			}
		}
	}
	return kept
}

// AsideClient is a wsf/client of entityID with its key id (its signing
// key, also its TLS client key), trusting roots.
func AsideClient(t testing.TB, entityID string, id *pki.Identity, roots *x509.CertPool, dir *metadir.Directory) *client.Client {
	t.Helper()
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots,
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}}}}}
	c, err := client.New(client.Config{EntityID: entityID, Key: id.Key, Certificate: id.Cert, Directory: dir, HTTP: hc,
		Schema: schema, Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// QueryAll queries every item of the DST service at epr with c for
// purpose and returns nil when the WSP answered OK.
func QueryAll(c *client.Client, epr *wsf.EPR, serviceType, purpose string) error {
	svc := dst.Lookup(serviceType)
	q := &dst.Query{}
	for _, it := range svc.Items {
		q.Items = append(q.Items, dst.QueryItem{ItemID: it.Name, Select: "/" + svc.Prefix + ":" + it.Name, HasSelect: true, Count: -1})
	}
	res, err := Call(context.Background(), c, epr, serviceType, "Query", svc.QueryElement(q), purpose)
	if err != nil {
		return err
	}
	r, err := svc.DecodeQueryResponse(res.Payload)
	if err == nil && r.Status.Code != wsf.OK {
		err = errors.New("status " + string(r.Status.Code))
	}
	return err
}

// ExpiredToken reports whether err is the fault a WSP answers an expired
// or ended token with.
func ExpiredToken(err error) bool {
	var f *wsf.Fault
	return errors.As(err, &f) && f.Code == wsf.FaultInvalidSecurityToken && f.Status != nil && f.Status.Code == wsf.InappropriateCredentials
}
