package fedfiles_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/internal/portalserver"
	"github.com/renkei-idwsf/renkei/internal/terminalserver"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
)

// TestWrite: every role's file reads back as its binary reads it, the
// aggregate lists every entity under the operator's signature, the relay
// database holds the citizen's card and links, and a second Write into
// the same directory is refused.
func TestWrite(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	f, err := fedfiles.Write(ctx, fedfiles.Options{Dir: dir, Reader: "Renkei vpcd 0 00 00"})
	if err != nil {
		t.Fatal(err)
	}
	agg, err := os.ReadFile(f.Aggregate)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range append([]string{fedfiles.IdPEntity, fedfiles.DSEntity, f.PortalEntityID}, values(fedfiles.Entities)...) {
		if !strings.Contains(string(agg), `entityID="`+e+`"`) {
			t.Errorf("the aggregate lacks %s", e)
		}
	}
	if strings.Count(string(agg), "validUntil=") != 1 {
		t.Errorf("ok/one-validity: the aggregate's entities carry validities of their own")
	}
	names := map[string]bool{}
	for _, r := range f.Roles {
		names[r.Name] = true
		if r.Config == "" {
			continue
		}
		var err error
		switch r.Command {
		case "renkei-idp":
			_, err = idpserver.Read(r.Config)
		case "renkei-wsp":
			_, err = wspserver.Read(r.Config)
		case "renkei-portal":
			_, err = portalserver.Read(r.Config)
		case "renkei-terminal":
			_, err = terminalserver.Read(r.Config)
		}
		if err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	}
	for _, want := range []string{"idp", "ds", "portal", "terminal", "pension back office", "wsp hospital-a", "wsp pension"} {
		if !names[want] {
			t.Errorf("no role %q among %v", want, names)
		}
	}
	db, err := sqlstore.Open(ctx, f.Relay)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, err := db.CardByCertificate(ctx, f.CardCert.Issuer.String(), f.CardCert.SerialNumber.String()); err != nil || c.PrincipalID != f.Principal {
		t.Errorf("the card in the relay database: %+v, %v", c, err)
	}
	if _, err := fedfiles.Write(ctx, fedfiles.Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("fail/dir-not-empty: %v", err)
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
