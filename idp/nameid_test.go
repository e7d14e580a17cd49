package idp

import (
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
)

var createPolicy = NameIDPolicy{Format: saml.NameIDPersistent, AllowCreate: true}

// TestPersistentNameID: one pairwise pseudonym per (principal, SP),
// created on first login and reused after, distinct per SP and per
// principal, qualified by IdP and SP (SAML Core §8.3.7).
func TestPersistentNameID(t *testing.T) {
	f := newFixture(t)
	first, err := f.idp.NameID(ctx, "p-alice", portalID, createPolicy, f.now)
	must(t, err)
	again, err := f.idp.NameID(ctx, "p-alice", portalID, NameIDPolicy{}, f.now.Add(time.Hour))
	must(t, err)
	other, err := f.idp.NameID(ctx, "p-alice", otherSP, createPolicy, f.now)
	must(t, err)
	bob, err := f.idp.NameID(ctx, "p-bob", portalID, createPolicy, f.now)
	must(t, err)
	if *again != *first {
		t.Fatalf("second login got %+v, first %+v", again, first)
	}
	if other.Value == first.Value || bob.Value == first.Value {
		t.Fatal("NameID shared between SPs or principals")
	}
	want := saml.NameID{Value: first.Value, Format: saml.NameIDPersistent, NameQualifier: idpID, SPNameQualifier: portalID}
	if *first != want {
		t.Fatalf("NameID = %+v, want %+v", first, want)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(first.Value); err != nil || len(raw) < 16 {
		t.Fatalf("NameID %q is not 128 random bits", first.Value)
	}
	fed, err := f.db.Federation(ctx, "p-alice", portalID)
	must(t, err)
	if fed.NameID != first.Value || !fed.Created.Equal(f.now) {
		t.Fatalf("stored federation %+v", fed)
	}
}

// TestNameIDPolicy covers AllowCreate=false, SPProvidedID, a terminated
// federation, transient and unsupported formats and an unknown principal.
func TestNameIDPolicy(t *testing.T) {
	f := newFixture(t)
	must(t, f.db.CreateFederation(ctx, store.Federation{PrincipalID: "p-bob", ProviderID: otherSP, NameID: "bob-at-other",
		SPProvidedID: "patient:0042", Created: f.now}))
	must(t, f.db.CreateFederation(ctx, store.Federation{PrincipalID: "p-bob", ProviderID: portalID, NameID: "bob-ended",
		Created: f.now, Terminated: f.now}))
	cases := []struct {
		name, principal, sp string
		policy              NameIDPolicy
		err                 error
		want                string
	}{
		{"fail/allow-create-false-no-federation", "p-alice", portalID, NameIDPolicy{Format: saml.NameIDPersistent}, ErrInvalidNameIDPolicy, ""},
		{"ok/allow-create-false-existing", "p-bob", otherSP, NameIDPolicy{Format: saml.NameIDPersistent}, nil, "bob-at-other"},
		{"ok/unspecified-is-persistent", "p-bob", otherSP, NameIDPolicy{Format: saml.NameIDUnspecified}, nil, "bob-at-other"},
		{"fail/terminated-federation", "p-bob", portalID, createPolicy, ErrInvalidNameIDPolicy, ""},
		{"fail/unsupported-format", "p-alice", portalID, NameIDPolicy{Format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", AllowCreate: true}, ErrUnsupportedFormat, ""},
		{"fail/encrypted-format-not-here", "p-alice", portalID, NameIDPolicy{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:encrypted"}, ErrUnsupportedFormat, ""},
		{"fail/unknown-principal", "p-nobody", portalID, createPolicy, ErrUnknownPrincipal, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := f.idp.NameID(ctx, c.principal, c.sp, c.policy, f.now)
			if c.err != nil {
				wantErr(t, err, c.err)
				return
			}
			must(t, err)
			if n.Value != c.want {
				t.Fatalf("NameID %q, want %q", n.Value, c.want)
			}
		})
	}
	t.Run("ok/spprovidedid-sent", func(t *testing.T) {
		n, err := f.idp.NameID(ctx, "p-bob", otherSP, createPolicy, f.now)
		must(t, err)
		if n.SPProvidedID != "patient:0042" {
			t.Fatalf("SPProvidedID %q", n.SPProvidedID)
		}
	})
	t.Run("fail/status-invalid-nameid-policy", func(t *testing.T) {
		_, err := f.idp.NameID(ctx, "p-alice", portalID, NameIDPolicy{Format: saml.NameIDPersistent}, f.now)
		if st := StatusFor(err); st.Top != samlp.StatusRequester || st.Second != samlp.StatusInvalidNameIDPolicy {
			t.Fatalf("status %+v", st)
		}
	})
}

// TestTransientNameID: fresh per call, qualified, and nothing stored.
func TestTransientNameID(t *testing.T) {
	f := newFixture(t)
	pol := NameIDPolicy{Format: saml.NameIDTransient}
	a, err := f.idp.NameID(ctx, "p-alice", portalID, pol, f.now)
	must(t, err)
	b, err := f.idp.NameID(ctx, "p-alice", portalID, pol, f.now)
	must(t, err)
	if a.Value == b.Value || a.Format != saml.NameIDTransient || a.NameQualifier != idpID || a.SPNameQualifier != portalID {
		t.Fatalf("transient NameIDs %+v, %+v", a, b)
	}
	feds, err := f.db.Federations(ctx, "p-alice")
	must(t, err)
	if len(feds) != 0 {
		t.Fatalf("transient NameID stored a federation: %+v", feds)
	}
}

// TestPersistentNameIDConcurrent: goroutines creating the same federation
// at once, as two first logins in two browser tabs, all get one NameID.
func TestPersistentNameIDConcurrent(t *testing.T) {
	f := newFixture(t)
	const n = 8
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			id, err := f.idp.NameID(ctx, "p-alice", portalID, createPolicy, f.now)
			if err == nil {
				got[i] = id.Value
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		must(t, errs[i])
		if got[i] != got[0] {
			t.Fatalf("goroutine %d got %q, goroutine 0 %q", i, got[i], got[0])
		}
	}
	fed, err := f.db.Federation(ctx, "p-alice", portalID)
	must(t, err)
	if fed.NameID != got[0] {
		t.Fatalf("stored %q, answered %q", fed.NameID, got[0])
	}
}
