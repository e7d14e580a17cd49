package idp

import (
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
)

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// TestTwoNodesShareOnePostgres: two IdP nodes, each with its own
// connections to one PostgreSQL database and its own listeners, behind
// one public SSO URL. A request taken by node A is finished by a card
// login at node B (the pending request is in the store), the same
// request replayed at node B is refused (one replay cache), and the
// session node B opened serves the next SSO at node A without the card.
func TestTwoNodesShareOnePostgres(t *testing.T) {
	a := (&ssoEnv{fixture: newFixtureOn(t, pg.NewDatabase(t)), sps: testSPs(t), verifier: idpVerifier(t)}).serve(t, nil, nil)
	b := a.secondNode(t)
	sp := a.sps[otherSP]
	c := a.browser(&a.Alice)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req := a.newRequest(sp, "_mn-1")
	x := a.redirect(c, req, "", nil)
	loc := x.Header.Get("Location")
	if x.Status != http.StatusSeeOther || !strings.HasPrefix(loc, a.cardURL+PathLogin+"?") {
		t.Fatalf("node A: HTTP %d to %q, want the card login", x.Status, loc)
	}
	r, err := http.NewRequest(http.MethodGet, b.cardURL+strings.TrimPrefix(loc, a.cardURL), nil)
	must(t, err)
	got, err := b.consume(sp, b.do(c, r), "_mn-1")
	must(t, err)
	if got.Assertion == nil || got.Response.Status.Code.Value != samlp.StatusSuccess {
		t.Fatalf("node B did not finish node A's request: %+v", got.Response.Status)
	}

	denied, err := b.consume(sp, b.redirect(c, req, "", nil), "_mn-1")
	must(t, err)
	wantStatus(t, denied, samlp.StatusRequester, samlp.StatusRequestDenied)

	again, err := a.consume(sp, a.redirect(c, a.newRequest(sp, "_mn-2"), "", nil), "_mn-2")
	must(t, err)
	if again.Assertion == nil || again.Assertion.Subject.NameID.Value != got.Assertion.Subject.NameID.Value {
		t.Fatalf("node A did not serve node B's session: %+v", again.Response.Status)
	}
}

// secondNode is another IdP node over e's store: its own connections, its
// own engine and listeners, and e's public SSO URL, as behind one load
// balancer.
func (e *ssoEnv) secondNode(t testing.TB) *ssoEnv {
	db, err := sqlstore.Open(ctx, e.dsn)
	must(t, err)
	t.Cleanup(func() { db.Close() })
	f := *e.fixture
	f.db = db
	f.cfg = f.config()
	f.idp, err = New(f.cfg)
	must(t, err)
	n := &ssoEnv{fixture: &f, sps: e.sps, verifier: e.verifier}
	return n.serve(t, nil, func(c *SSOConfig) { c.SSOURL, c.Artifact = e.mainURL+PathSSO, e.sso.cfg.Artifact })
}

// TestArtifactAcrossNodes: an artifact node A issued over one PostgreSQL
// database resolves at node B, once: of concurrent resolutions at both
// nodes exactly one gets the Response (the store's atomic take).
func TestArtifactAcrossNodes(t *testing.T) {
	a := &ssoEnv{fixture: newFixtureOn(t, pg.NewDatabase(t)), sps: testSPs(t), verifier: idpVerifier(t)}
	a.serve(t, nil, func(c *SSOConfig) { c.Artifact = ArtifactConfig{URL: a.cardURL + PathArtifact, Index: 1} })
	b := a.secondNode(t)
	sp := a.sps[otherSP]
	t.Run("ok/issued-at-a-resolved-at-b", func(t *testing.T) {
		art := a.artifactLogin(t, sp, "_mn-art-1")
		if r := b.resolve(t, otherSP, art.String(), sp, nil); r.Message == nil {
			t.Fatalf("node B cannot resolve node A's artifact: status %v", r.Status)
		}
		if r := a.resolve(t, otherSP, art.String(), sp, nil); r.Message != nil {
			t.Fatal("node A resolves the artifact node B already resolved")
		}
	})
	t.Run("ok/concurrent-resolutions-one-wins", func(t *testing.T) {
		art := a.artifactLogin(t, sp, "_mn-art-2")
		const n = 8
		got := make(chan bool, n)
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			node := []*ssoEnv{a, b}[i%2]
			wg.Go(func() {
				r, err := node.resolveErr(otherSP, art.String(), sp, nil)
				if err != nil {
					errs <- err
					return
				}
				got <- r.Message != nil
			})
		}
		wg.Wait()
		close(got)
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		won := 0
		for g := range got {
			if g {
				won++
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent resolutions got the Response, want exactly 1", won, n)
		}
	})
}
