package idp

import (
	"testing"

	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzAcceptLogout feeds LogoutRequests, as the POST binding would
// deliver them, to AcceptLogout: refuse with a typed error or accept, never
// panic; a LogoutResponse may only go to an https SingleLogoutService
// listed in the issuer's metadata, and an accepted request names a session
// its issuer participates in. The seeds are made at the start from a real
// login of A and B: A's signed LogoutRequest, an unsigned one, and one
// naming B's SessionIndex, so that mutations reach every step of the
// checks at the run's own clock and endpoint.
func FuzzAcceptLogout(f *testing.F) {
	e := newSLOEnvTB(f)
	_, _, got := e.session(sloA, sloB)
	for i, sign := range []bool{true, false, true} {
		req := e.logoutRequestOf(sloA, got[sloA], "_fuzz-seed-"+string(rune('a'+i)))
		req.Destination = e.mainURL + PathSLO
		if i == 2 {
			req.SessionIndexes = []string{got[sloB].Assertion.AuthnStatements[0].SessionIndex}
		}
		el := req.Element()
		if sign {
			var err error
			el, err = samlp.Sign(req, spSigner(e.sps[sloA]))
			must(f, err)
		}
		b, err := xmlsec.Serialize(el)
		must(f, err)
		f.Add(b)
	}
	l := e.h.SLO
	f.Fuzz(func(t *testing.T, msg []byte) {
		doc, err := xmlsec.Parse(msg, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		lr, err := l.AcceptLogout(ctx, Inbound{Binding: samlp.BindingHTTPPOST, Element: doc.Root()}, nil, e.now)
		if err != nil && CodeOf(err) == CodeInternal {
			t.Fatalf("untyped refusal: %v", err)
		}
		if lr == nil || err != nil && StatusFor(err).SendNothing {
			return
		}
		sp, ok := e.sps[lr.SP]
		if !ok || len(sp.SLO) == 0 || safeURL(lr.Reply.Location) != nil || !listed(sp, lr.Reply.Location) {
			t.Fatalf("a LogoutResponse could go to %q for %q", lr.Reply.Location, lr.SP)
		}
		if err == nil {
			s, err := e.db.Session(ctx, lr.SessionID)
			if _, in := s.Participant(lr.SP); err != nil || !in {
				t.Fatalf("accepted a logout of a session %q does not participate in: %v", lr.SP, err)
			}
		}
	})
}

// listed reports whether loc is one of sp's SingleLogoutService locations.
func listed(sp *testSP, loc string) bool {
	for _, ep := range sp.SLO {
		if ep.Location == loc || ep.ResponseLocation == loc {
			return true
		}
	}
	return false
}
