package dskit

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/dsserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// DSFiles writes into dir the DS's keys and the federation's aggregate
// for a DS whose listener is baseURL, and returns the configuration an
// operator would write for renkei-ds (defaults filled in): the portal
// collects consent, the reception terminal has the default purposes.
func DSFiles(t testing.TB, dir, baseURL, store string) *dsserver.File {
	t.Helper()
	k := KeysOf(t, pki.RSA2048)
	c, key, err := k.DS.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	ds := dsserver.KeyPair{Cert: c, Key: key}
	agg := WriteAggregate(t, Aggregate(t, pki.RSA2048, baseURL+dsserver.PathSOAP), dir)
	pol := DefaultPolicy()
	f := &dsserver.File{EntityID: DSID, BaseURL: baseURL, TLS: ds, Signing: ds, Encryption: ds, IdP: IdPID, CheckOutgoing: true,
		Metadata: []dsserver.MetadataSource{{Location: agg, Unsigned: true}}, Store: store,
		Policy: dsserver.Policy{Portals: pol.Portals, Reception: dsserver.Reception{Terminals: pol.Reception.Terminals,
			MaxAge: "120s", Purposes: pol.Reception.Purposes}}}
	f.Defaults()
	return f
}

// StartDS runs the DS as renkei-ds does, from the files DSFiles writes
// into a temporary directory, on a fresh 127.0.0.1 listener, over the
// store dsn ("" is a SQLite file beside the files); it is shut down at
// the end of the test.
func StartDS(t testing.TB, dsn string) *dsserver.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(dir, "relay.db")
	}
	f := DSFiles(t, dir, "https://"+ln.Addr().String(), dsn)
	ctx := context.Background()
	s, err := dsserver.Build(ctx, f, dsserver.Options{Listener: ln, Log: logkit.New(t, "ds")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}
