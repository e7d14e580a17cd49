package metadir_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// dsEntity is the Discovery Service's entity as the new role writes it.
func dsEntity(t testing.TB) *md.EntityDescriptor {
	k := wsftest.Keys(t)
	r := (&metadir.WebService{ServiceTypes: []string{wsf.ServiceTypeDisco}, Endpoints: []string{dsAddr},
		Keys: []md.KeyDescriptor{signing(k.IdP.Cert), encryption(k.Other.Cert)}}).Role()
	return &md.EntityDescriptor{EntityID: wsftest.DSID, Roles: []*md.RoleDescriptor{r}}
}

func TestRoleSchemaValid(t *testing.T) {
	s, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateElement(dsEntity(t).Element()); err != nil {
		t.Fatal(err)
	}
}

func TestRoleSchemaRefusesRoleWithoutEndpoint(t *testing.T) {
	s, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	e := dsEntity(t)
	e.Roles = []*md.RoleDescriptor{(&metadir.WebService{ServiceTypes: []string{wsf.ServiceTypeDisco}}).Role()}
	if err := s.ValidateElement(e.Element()); err == nil {
		t.Fatal("a web service role without an endpoint is schema-valid")
	}
}

// TestRoleRoundTrip writes the role, reads it back through md and
// DecodeWebService, and writes it again byte for byte.
func TestRoleRoundTrip(t *testing.T) {
	b, err := xmlsec.Serialize(dsEntity(t).Element())
	if err != nil {
		t.Fatal(err)
	}
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := md.DecodeUnsigned(el)
	if err != nil {
		t.Fatal(err)
	}
	r := doc.Entity.Roles[0]
	w, err := metadir.DecodeWebService(r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.ServiceTypes, []string{wsf.ServiceTypeDisco}) || !slices.Equal(w.Endpoints, []string{dsAddr}) || len(w.Keys) != 2 {
		t.Fatalf("decoded %+v", w)
	}
	again, err := xmlsec.Serialize(doc.Entity.Element())
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(b) {
		t.Fatalf("re-encoded\n%s\nwant\n%s", again, b)
	}
	if !strings.Contains(string(b), `xsi:type="rt:WebServiceDescriptorType"`) {
		t.Fatalf("no xsi:type in\n%s", b)
	}
}

func TestDecodeIgnoresOtherBindings(t *testing.T) {
	r := (&metadir.WebService{ServiceTypes: []string{wsf.ServiceTypeDisco}, Endpoints: []string{dsAddr}}).Role()
	el := etree.NewElement("rmd:Endpoint")
	el.CreateAttr("xmlns:rmd", metadir.NS)
	r.Content = append(r.Content, el)
	r.Endpoints = append(r.Endpoints, md.NamedEndpoint{NS: metadir.NS, Local: "Endpoint",
		Endpoint: md.Endpoint{Binding: md.BindingHTTPPOST, Location: "https://idp.example.org/post"}})
	w, err := metadir.DecodeWebService(r)
	if err != nil || !slices.Equal(w.Endpoints, []string{dsAddr}) {
		t.Fatalf("%+v, %v", w, err)
	}
}

func TestDecodeRefusesOtherRole(t *testing.T) {
	if _, err := metadir.DecodeWebService(&md.RoleDescriptor{Local: "PDPDescriptor"}); err == nil {
		t.Fatal("a PDP role decoded as a web service")
	}
}
