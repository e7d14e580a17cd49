package idpserver

import (
	"context"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	kitproc "github.com/renkei-idwsf/renkei/internal/testkit/proc"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestMetadataReload: on the reload signal the IdP reads the aggregate
// again at once (an SP added to it is known without waiting for its
// cacheDuration) and logs which SPs were added, removed and changed.
func TestMetadataReload(t *testing.T) {
	f, _ := testFile(t)
	path := f.Metadata[0].Location
	writeSPs(t, path, map[string]string{"https://a.example.org": "https://a.example.org/acs", "https://b.example.org": "https://b.example.org/acs"})
	var log kitproc.Output
	hup := make(chan os.Signal, 1)
	s, err := Build(context.Background(), f, Options{MainListener: loopback(t), CardListener: loopback(t), Reload: hup,
		Log: slog.New(slog.NewTextHandler(&log, nil))})
	must(t, err)
	defer s.Shutdown()
	must(t, s.Start(context.Background()))

	writeSPs(t, path, map[string]string{"https://a.example.org": "https://a.example.org/acs2", "https://c.example.org": "https://c.example.org/acs"})
	hup <- syscall.SIGHUP
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(log.String(), "metadata reloaded") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := s.Metadata.Entity("https://c.example.org", time.Now()); err != nil {
		t.Fatalf("ok/added-sp-known: %v", err)
	}
	out := log.String()
	for _, want := range []string{"added=[https://c.example.org]", "removed=[https://b.example.org]", "changed=[https://a.example.org]"} {
		if !strings.Contains(out, want) {
			t.Errorf("ok/change-logged: the log lacks %q:\n%s", want, out)
		}
	}

	ch, err := s.ReloadMetadata(context.Background())
	if err != nil || !reflect.DeepEqual(ch, MetadataChange{}) {
		t.Errorf("ok/nothing-changed: %+v, %v", ch, err)
	}
}

// writeSPs writes an unsigned aggregate of SPs, entityID to ACS.
func writeSPs(t *testing.T, path string, sps map[string]string) {
	t.Helper()
	g := &md.EntitiesDescriptor{Name: "urn:renkei:test", CacheDuration: time.Hour}
	for id, acs := range sps {
		g.Entities = append(g.Entities, &md.EntityDescriptor{EntityID: id, SPSSO: []*md.SPSSODescriptor{{
			SSO:               md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}}},
			AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: samlp.BindingHTTPPOST, Location: acs}}}}}})
	}
	b, err := xmlsec.Serialize(g.Element())
	must(t, err)
	must(t, os.WriteFile(path, b, 0o600))
}
