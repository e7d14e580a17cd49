package fedfiles_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/dsserver"
	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
)

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// TestWriteNodes: the several-node variant writes two nodes each of the
// IdP, the DS and hospital A's WSP, each on its own listeners and
// publishing its balancer's URL, one register job before the WSP's nodes,
// and puts the relay database and hospital A's back office in
// PostgreSQL.
func TestWriteNodes(t *testing.T) {
	ctx := context.Background()
	n := &fedfiles.Nodes{IdP: "127.0.0.1:10001", IdPCard: "127.0.0.1:10002", DS: "127.0.0.1:10003", WSP: "127.0.0.1:10004",
		Relay: pg.NewDatabase(t), BackOffice: pg.NewDatabase(t), WSPStore: pg.NewDatabase(t)}
	f, err := fedfiles.Write(ctx, fedfiles.Options{Dir: filepath.Join(t.TempDir(), "demo"), Nodes: n})
	if err != nil {
		t.Fatal(err)
	}
	if f.IdP != "https://"+n.IdP || f.DS != "https://"+n.DS || f.WSPs[fedfiles.NodeInstitution] != "https://"+n.WSP || f.Relay != n.Relay {
		t.Errorf("the federation's URLs are not the balancers': %s %s %v %s", f.IdP, f.DS, f.WSPs, f.Relay)
	}
	listens := map[string]bool{}
	nodes := map[string]int{}
	register := -1
	for i, r := range f.Roles {
		if r.Job {
			register = i
			continue
		}
		if r.Balancer == "" {
			continue
		}
		nodes[r.Balancer]++
		var base, listen string
		switch r.Command {
		case "renkei-idp":
			c, err := idpserver.Read(r.Config)
			if err != nil {
				t.Fatal(err)
			}
			base, listen = c.BaseURL, c.Listen
			if c.CardBaseURL != f.IdPCard || c.Store != n.Relay {
				t.Errorf("%s: card URL %s, store %s", r.Name, c.CardBaseURL, c.Store)
			}
		case "renkei-ds":
			c, err := dsserver.Read(r.Config)
			if err != nil {
				t.Fatal(err)
			}
			base, listen = c.BaseURL, c.Listen
		case "renkei-wsp":
			c, err := wspserver.Read(r.Config)
			if err != nil {
				t.Fatal(err)
			}
			base, listen = c.BaseURL, c.Listen
			if c.Store != n.WSPStore || c.Backend.DSN != n.BackOffice || !slices.Equal(c.Endpoints, []string{f.WSPs[fedfiles.NodeInstitution] + wspserver.PathSOAP}) {
				t.Errorf("%s: store %s, back office %s, endpoints %v", r.Name, c.Store, c.Backend.DSN, c.Endpoints)
			}
			if register >= 0 {
				t.Errorf("fail/register-after-node: %s starts after the register job", r.Name)
			}
		}
		if r.Node != "https://"+listen || listens[listen] || r.Admin == "" {
			t.Errorf("%s: node %s, listen %s (taken: %v), admin %q", r.Name, r.Node, listen, listens[listen], r.Admin)
		}
		listens[listen] = true
		if base != "https://"+map[string]string{"idp": n.IdP, "ds": n.DS, "wsp": n.WSP}[r.Balancer] {
			t.Errorf("%s publishes %s, not its balancer's URL", r.Name, base)
		}
		if !slices.Contains(f.Backends[r.Balancer], listen) {
			t.Errorf("%s (%s) is not behind its balancer: %v", r.Name, listen, f.Backends)
		}
	}
	for _, b := range []string{"idp", "ds", "wsp"} {
		if nodes[b] != fedfiles.NodeCount {
			t.Errorf("%d nodes behind %s, want %d", nodes[b], b, fedfiles.NodeCount)
		}
	}
	if len(f.Backends["idp-card"]) != fedfiles.NodeCount || register < 0 {
		t.Errorf("card-login backends %v; register job at %d", f.Backends["idp-card"], register)
	}
	db, err := sqlstore.Open(ctx, f.Relay)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, err := db.CardByCertificate(ctx, f.CardCert.Issuer.String(), f.CardCert.SerialNumber.String()); err != nil || c.PrincipalID != f.Principal {
		t.Errorf("the card in the relay database: %+v, %v", c, err)
	}
	bo, err := sql.Open("pgx", n.BackOffice)
	if err != nil {
		t.Fatal(err)
	}
	defer bo.Close()
	var tables int
	if err := bo.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables == 0 {
		t.Errorf("hospital A's back office in PostgreSQL: %d tables (%v)", tables, err)
	}
}
