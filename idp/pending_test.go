package idp

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store/sqlstore"
)

// TestPendingAcrossNodes: a request parked by one IdP node is resumed by
// another that shares the store (a second connection to the same SQLite
// file, as a second process would open it), exactly once, and not after
// it expired.
func TestPendingAcrossNodes(t *testing.T) {
	e := newSSOEnv(t, nil)
	other, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(e.dir, "idp.db"))
	must(t, err)
	t.Cleanup(func() { other.Close() })
	cfg := e.sso.cfg
	cfg.Pending, cfg.Replay = other, other
	node2, err := NewSSO(e.idp, cfg)
	must(t, err)
	pend := &Pending{SP: otherSP, ACS: otherACS, ACSBinding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", RequestID: "_p1",
		RelayState: "rs", ClassRefs: []string{"a"}, ForceAuthn: true}

	t.Run("ok/parked-on-one-resumed-on-another", func(t *testing.T) {
		h, err := e.sso.Park(ctx, pend, e.now)
		must(t, err)
		got, err := node2.Resume(ctx, h, e.now.Add(time.Minute))
		must(t, err)
		if got.RequestID != "_p1" || got.RelayState != "rs" || !got.ForceAuthn || got.ClassRefs[0] != "a" {
			t.Fatalf("resumed %+v", got)
		}
		_, err = e.sso.Resume(ctx, h, e.now.Add(time.Minute))
		wantErr(t, err, ErrUnknownRequest)
	})
	t.Run("fail/expired", func(t *testing.T) {
		h, err := e.sso.Park(ctx, pend, e.now)
		must(t, err)
		_, err = node2.Resume(ctx, h, e.now.Add(DefaultPendingLifetime))
		wantErr(t, err, ErrUnknownRequest)
	})
	t.Run("fail/unknown-or-oversized-handle", func(t *testing.T) {
		for _, h := range []string{"", "nope", string(make([]byte, maxHandleLen+1))} {
			_, err := node2.Resume(ctx, h, e.now)
			wantErr(t, err, ErrUnknownRequest)
		}
	})
}

// TestMeets is the RequestedAuthnContext comparison table on its own.
func TestMeets(t *testing.T) {
	const x, sc, pw = "urn:oasis:names:tc:SAML:2.0:ac:classes:X509", "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI", "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
	tests := []struct {
		cmp  string
		refs []string
		got  string
		want bool
	}{
		{"", nil, sc, true}, {"", []string{sc}, sc, true}, {"exact", []string{x}, sc, false},
		{"minimum", []string{x, pw}, x, true}, {"minimum", []string{sc}, x, false}, {"minimum", []string{pw}, sc, false},
		{"maximum", []string{x}, sc, false}, {"maximum", []string{sc, pw}, x, true},
		{"better", []string{x}, sc, true}, {"better", []string{x, pw}, sc, false}, {"better", []string{sc}, sc, false},
		{"sideways", []string{sc}, sc, false}, {"exact", []string{sc}, pw, false},
	}
	for _, tc := range tests {
		p := &Pending{Comparison: tc.cmp, ClassRefs: tc.refs}
		if got := p.Meets(tc.got); got != tc.want {
			t.Errorf("%s %v meets %s = %v, want %v", tc.cmp, tc.refs, tc.got, got, tc.want)
		}
	}
}
