package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/renkei-idwsf/renkei/store"
)

// storable reports whether every backend can keep s: UTF-8 without NUL.
func storable(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }

// FuzzFederationRoundTrip stores federations made of arbitrary text on
// SQLite and requires each to come back byte for byte through every lookup,
// or to be refused with store.ErrInvalid when PostgreSQL could not keep it.
func FuzzFederationRoundTrip(f *testing.F) {
	f.Add("p-1", "https://hospital1.example.jp/wsp", "AAdzZWNyZXQxMjM=", "12345678:健保:0042:01", int64(1775034000123456789))
	f.Add("p\x00", "sp", "n", "", int64(1))
	f.Add("p", "sp\xff", "n", "x", int64(-1))
	f.Add("", "sp", "n", "x", int64(1<<62))
	f.Add("p", "sp", "n", "%3A:%25", int64(-1<<62))
	db, err := Open(context.Background(), "sqlite::memory:")
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	n := 0
	f.Fuzz(func(t *testing.T, principal, provider, nameID, spID string, nanos int64) {
		n++
		prefix := fmt.Sprintf("%d|", n)
		fed := store.Federation{PrincipalID: prefix + principal, ProviderID: prefix + provider,
			NameID: nameID, SPProvidedID: spID, Created: time.Unix(0, nanos).UTC()}
		checkRoundTrip(t, db, fed, storable(principal) && storable(provider) && storable(nameID) &&
			storable(spID) && nameID != "")
	})
}

// checkRoundTrip stores fed and reads it back through every lookup.
func checkRoundTrip(t *testing.T, db *DB, fed store.Federation, valid bool) {
	ctx := context.Background()
	perr := db.CreatePrincipal(ctx, store.Principal{ID: fed.PrincipalID, Created: raceT0})
	err := errors.Join(perr, db.CreateFederation(ctx, fed))
	if !valid {
		if !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("unstorable %+v: error %v, want ErrInvalid", fed, err)
		}
		return
	}
	must(t, err)
	lookups := []func() (store.Federation, error){
		func() (store.Federation, error) { return db.Federation(ctx, fed.PrincipalID, fed.ProviderID) },
		func() (store.Federation, error) { return db.FederationByNameID(ctx, fed.ProviderID, fed.NameID) },
	}
	if fed.SPProvidedID != "" {
		lookups = append(lookups, func() (store.Federation, error) {
			return db.FederationBySPProvidedID(ctx, fed.ProviderID, fed.SPProvidedID)
		})
	}
	for i, lookup := range lookups {
		got, err := lookup()
		if err != nil || got != fed {
			t.Fatalf("lookup %d: got %+v, %v; stored %+v", i, got, err, fed)
		}
	}
}
