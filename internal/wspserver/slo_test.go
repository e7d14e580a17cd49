package wspserver_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// postLogout sends the SOAP envelope of req, signed by signer (unsigned
// when nil), to the WSP's SingleLogoutService and returns the HTTP status
// and body.
func postLogout(t *testing.T, k *wspkit.Kit, s *wspserver.Server, req *samlp.LogoutRequest, signer *dsig.Signer) (int, []byte) {
	t.Helper()
	el := req.Element()
	if signer != nil {
		var err error
		if el, err = samlp.Sign(req, signer); err != nil {
			t.Fatal(err)
		}
	}
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	if err != nil {
		t.Fatal(err)
	}
	return post(t, k, s, b)
}

func post(t *testing.T, k *wspkit.Kit, s *wspserver.Server, body []byte) (int, []byte) {
	t.Helper()
	resp, err := k.HTTPClient(t).Post(s.SLOURL(), binding.ContentTypeSOAP, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestSLOEndsTokens: a token the DS minted in an IdP session works at the
// WSP until the IdP's signed LogoutRequest names the WSP's SessionIndex;
// then the same token is refused as an expired one is. A hostile request
// over HTTP (unsigned, oversized) is a SOAP fault and ends nothing.
func TestSLOEndsTokens(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.HospitalA}, SLO: true})
	principal := k.Enrol(t, "p01")
	sid, dsIndex := k.Fed.StartSession(t, principal, time.Hour)
	c := k.Portal(t)
	tok := k.Fed.DSToken(t, principal, k.Fed.Keys.Portal.Cert, dskit.TokenOptions{SessionIndex: dsIndex})
	epr := k.EPR(t, k.DiscoverWith(t, c, tok), sample.HospitalA, dst.Clinical)
	if r := query(t, c, epr, dst.Clinical, sel(dst.Clinical, "LabResult", "")); r.Status.Code != wsf.OK {
		t.Fatalf("before logout: %+v", r.Status)
	}
	sess, err := k.Fed.Store.Session(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	part, ok := sess.Participant(wspkit.Entities[sample.HospitalA])
	if !ok {
		t.Fatal("hospital A did not join the session")
	}
	s := k.WSPs[sample.HospitalA][0]
	now := k.Fed.Clock.Now()
	req := &samlp.LogoutRequest{RequestHeader: samlp.RequestHeader{ID: "_idp-logout-1", IssueInstant: now, Destination: s.SLOURL(),
		Issuer: &saml.Issuer{Value: dskit.IdPID}}, NotOnOrAfter: now.Add(5 * time.Minute), Reason: samlp.LogoutUser,
		NameID:         &saml.NameID{Value: part.NameID, Format: part.NameIDFormat, NameQualifier: dskit.IdPID, SPNameQualifier: part.ProviderID},
		SessionIndexes: []string{part.SessionIndex}}
	idp := &dsig.Signer{Key: k.Fed.Keys.IdP.Key, Certificates: []*x509.Certificate{k.Fed.Keys.IdP.Cert}}

	t.Run("fail/unsigned-is-a-fault", func(t *testing.T) {
		status, body := postLogout(t, k, s, req, nil)
		if status != http.StatusInternalServerError || !bytes.Contains(body, []byte("Fault")) {
			t.Fatalf("HTTP %d: %s", status, body)
		}
	})
	t.Run("fail/oversized", func(t *testing.T) {
		if status, _ := post(t, k, s, bytes.Repeat([]byte("<"), 1<<20)); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("HTTP %d", status)
		}
	})
	if r := query(t, c, epr, dst.Clinical, sel(dst.Clinical, "LabResult", "")); r.Status.Code != wsf.OK {
		t.Fatalf("a refused LogoutRequest ended the token: %+v", r.Status)
	}

	status, body := postLogout(t, k, s, req, idp)
	if status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", status, body)
	}
	env, err := (&binding.SOAPDecoder{}).Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	trust := xmlsec.NewTrustSet([]*x509.Certificate{wspkit.WSPIdentity(t, sample.HospitalA).Cert})
	resp, _, err := samlp.VerifyLogoutResponse(env.Body, &dsig.Verifier{Trust: trust})
	if err != nil || !resp.Status.Success() || resp.InResponseTo != req.ID {
		t.Fatalf("LogoutResponse %+v: %v", resp, err)
	}
	svc := dst.Lookup(dst.Clinical)
	_, err = wspkit.Call(context.Background(), c, epr, dst.Clinical, "Query",
		svc.QueryElement(&dst.Query{Items: []dst.QueryItem{sel(dst.Clinical, "LabResult", "")}}), wsf.PurposeSelf)
	var f *wsf.Fault
	if !errors.As(err, &f) || f.Code != wsf.FaultInvalidSecurityToken || f.Status == nil || f.Status.Code != wsf.InappropriateCredentials {
		t.Fatalf("after logout the token gives %v, want the expired-token fault", err)
	}
}

// TestSLOMetadataCheck: a WSP configured for single logout refuses to
// start unless the metadata lists the IdP and, in the institution's SP
// role, its own SingleLogoutService; listed, it builds.
func TestSLOMetadataCheck(t *testing.T) {
	dir := t.TempDir()
	m, err := sample.Generate(dir, sample.Options{Reference: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	in := m.Institution(sample.HospitalA)
	id := dskit.WSPIdentity(t, dskit.HospitalAID)
	kp := wspserver.KeyPair{Cert: filepath.Join(dir, "wsp.crt"), Key: filepath.Join(dir, "wsp.key")}
	for name, b := range map[string][]byte{kp.Cert: id.CertPEM(), kp.Key: id.KeyPEM()} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const base = "https://127.0.0.1:1"
	build := func(t *testing.T, edit func(*md.EntitiesDescriptor)) error {
		agg := dskit.AggregateWith(t, pki.RSA2048, "https://127.0.0.1:2/disco",
			map[string]dskit.WebService{dskit.HospitalAID: {ServiceTypes: in.Services, URLs: []string{base + wspserver.PathSOAP}}})
		edit(agg)
		sub := t.TempDir()
		f := &wspserver.File{EntityID: dskit.HospitalAID, BaseURL: base, TLS: kp, Signing: kp, Encryption: kp,
			Metadata: []wspserver.MetadataSource{{Location: dskit.WriteAggregate(t, agg, sub), Unsigned: true}},
			Store:    "sqlite:" + filepath.Join(sub, "wsp.db"), Backend: wspserver.Backend{Kind: "sql", Mapping: filepath.Join(dir, in.Mapping)},
			DS: dskit.DSID, IdP: dskit.IdPID, CheckOutgoing: true}
		f.Defaults()
		s, err := wspserver.Build(context.Background(), f, wspserver.Options{Log: logkit.New(t, "wsp")})
		if err == nil {
			_ = s.Shutdown()
		}
		return err
	}
	entity := func(g *md.EntitiesDescriptor, id string) *md.EntityDescriptor {
		for _, e := range g.Entities {
			if e.EntityID == id {
				return e
			}
		}
		t.Fatalf("no %s in the aggregate", id)
		return nil
	}
	if err := build(t, func(*md.EntitiesDescriptor) {}); err != nil {
		t.Fatalf("the aggregate lists the desk role with the SLO endpoint, yet: %v", err)
	}
	for _, c := range []struct {
		name, want string
		edit       func(*md.EntitiesDescriptor)
	}{
		{"fail/slo-elsewhere", "SOAP SingleLogoutService", func(g *md.EntitiesDescriptor) {
			entity(g, dskit.HospitalAID).SPSSO[0].SingleLogout[0].Location = "https://elsewhere.renkei.test/slo"
		}},
		{"fail/no-sp-role", "no SP role", func(g *md.EntitiesDescriptor) { entity(g, dskit.HospitalAID).SPSSO = nil }},
		{"fail/no-idp", "does not list the IdP", func(g *md.EntitiesDescriptor) { entity(g, dskit.IdPID).IDPSSO = nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := build(t, c.edit); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Build: %v, want an error saying %q", err, c.want)
			}
		})
	}
}
