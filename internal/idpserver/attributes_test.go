package idpserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// TestFileRelease: the release policy and the mapping pairs are checked
// with the rest of the file, every problem at once.
func TestFileRelease(t *testing.T) {
	f, _ := testFile(t)
	f.Release = map[string][]string{"https://sp.example.org": {"mail", "shoeSize"}}
	f.NameIDMapping = map[string][]string{"https://sp.example.org": {"https://sp.example.org"}}
	err := f.Validate()
	for _, want := range []string{"release needs attributes", `"shoeSize" is not an attribute`, "lists the requester itself"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("fail/bad-release: %v, want %q", err, want)
		}
	}
}

// TestBuildAttributes: with an attribute file and a mapping pair the
// built IdP publishes its AttributeService and NameIDMappingService; a
// file naming an unknown attribute fails Build, naming it.
func TestBuildAttributes(t *testing.T) {
	f, _ := testFile(t)
	f.Attributes = filepath.Join(t.TempDir(), "attributes.json")
	must(t, os.WriteFile(f.Attributes, []byte(`{"p-1": {"displayName": ["Hanako"]}}`), 0o600))
	f.Release = map[string][]string{"https://sp.example.org": {"displayName"}}
	f.NameIDMapping = map[string][]string{"https://sp.example.org": {"https://wsp.example.org"}}
	must(t, f.Validate())
	s, err := Build(context.Background(), f, Options{Store: "sqlite::memory:"})
	must(t, err)
	t.Cleanup(func() { _ = s.Shutdown() })
	m := s.SSO.Metadata(time.Now())
	if len(m.Roles) != 1 || m.Roles[0].Local != "AttributeAuthorityDescriptor" {
		t.Fatalf("roles %+v", m.Roles)
	}
	if ep := m.IDPSSO[0].NameIDMapping; len(ep) != 1 || ep[0].Location != "https://idp.example.org"+idp.PathNameIDMapping || ep[0].Binding != samlp.BindingSOAP {
		t.Fatalf("NameIDMappingService %+v", ep)
	}
	must(t, os.WriteFile(f.Attributes, []byte(`{"p-1": {"shoeSize": ["42"]}}`), 0o600))
	if _, err := Build(context.Background(), f, Options{Store: "sqlite::memory:"}); err == nil || !strings.Contains(err.Error(), "shoeSize") {
		t.Fatalf("fail/unknown-attribute: %v", err)
	}
}
