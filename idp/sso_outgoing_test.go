package idp

import (
	"slices"
	"testing"
)

// TestResponseCheckedWhenAsked: a Web SSO Response goes through the schema
// check on its way out when SSOConfig.CheckOutgoing is on (as in every
// test of this package) and not when it is off (as renkei-idp runs by
// default), while the AuthnRequest that came in is checked either way.
func TestResponseCheckedWhenAsked(t *testing.T) {
	for _, c := range []struct {
		name  string
		check bool
	}{{"ok/checked-when-on", true}, {"ok/skipped-when-off", false}} {
		t.Run(c.name, func(t *testing.T) {
			v := &seenValidator{next: testSchema(t)}
			e := newSSOEnv(t, func(s *SSOConfig) { s.Schema, s.CheckOutgoing = v, c.check })
			sp := e.sps[otherSP]
			got, err := e.consume(sp, e.redirect(e.browser(&e.Alice), e.newRequest(sp, "_out-1"), "", nil), "_out-1")
			if err != nil || got.Assertion == nil {
				t.Fatalf("login: %v", err)
			}
			if !slices.Contains(v.seen, "AuthnRequest") || slices.Contains(v.seen, "Response") != c.check {
				t.Fatalf("CheckOutgoing %v: the schema saw %v", c.check, v.seen)
			}
		})
	}
}
