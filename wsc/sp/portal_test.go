package sp_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// portal is a minimal portal around one SP engine, served on loopback
// HTTPS the way wsc/portal will use the API: the request ID bound to the
// browser by a cookie, a session per login keyed by a second cookie, the
// SLO endpoint dispatching on IsLogoutResponse, SOAPHandler on the back
// channel. It records what the engine returned, for the test to check.
type portal struct {
	t      testing.TB
	name   string
	entity string
	base   string
	srv    *httptest.Server
	sp     *sp.SP
	sign   *pki.Identity
	enc    *pki.Identity
	mdFile string // the metadata the SP trusts, written when the IdP is known
	mdSet  *md.Set
	cfg    sp.Config

	mu       sync.Mutex
	sessions map[string]*sp.Login // by session cookie
	logins   []*sp.Login
	errs     []error
	results  []*sp.LogoutResult
	ended    []*sp.IdPLogout
}

// newPortal starts the HTTPS server of a portal named name, whose SP
// trusts the IdP idp, with a SOAP SingleLogoutService when soap is set.
func newPortal(t testing.TB, name string, sign, enc *pki.Identity, soap bool, idp string) *portal {
	p := &portal{t: t, name: name, sign: sign, enc: enc, sessions: map[string]*sp.Login{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", p.login)
	mux.HandleFunc("POST /acs", p.acs)
	mux.HandleFunc("GET /logout", p.logout)
	mux.HandleFunc("GET /slo", p.slo)
	mux.Handle("/slo/soap", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.engine().SOAPHandler(p.end, p.fail).ServeHTTP(w, r)
	}))
	p.srv = httptest.NewUnstartedServer(mux)
	rsa := pki.MustGet().RSA
	p.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{rsa.Cert.Raw}, PrivateKey: rsa.Key}},
		MinVersion: tls.VersionTLS12}
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	p.base = "https://" + p.srv.Listener.Addr().String()
	p.entity = p.base + "/metadata"
	p.build(soap, idp)
	return p
}

// build makes the SP over a fresh store, trusting the metadata file the
// operator will have placed (written by trustIdP).
func (p *portal) build(soap bool, idp string) {
	t := p.t
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	p.mdFile = filepath.Join(t.TempDir(), "idp.xml")
	if p.mdSet, err = md.New(md.Config{Sources: []md.Source{{Location: p.mdFile, Unsigned: true}}, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p.cfg = sp.Config{EntityID: p.entity, ACSURL: p.base + "/acs", SLOURL: p.base + "/slo", IdP: idp,
		Metadata: p.mdSet, Key: p.sign.Key, Certificate: p.sign.Cert,
		Decrypter: &xmlenc.Decrypter{Key: p.enc.Key.(crypto.Decrypter)}, EncryptionCertificate: p.enc.Cert,
		Store: db, Schema: schema, Names: []md.Localized{{Lang: "en", Value: p.name}}}
	if soap {
		p.cfg.SOAPSLOURL = p.base + "/slo/soap"
	}
	p.configure()
}

// configure (re)makes the SP with its configuration changed by tweak,
// over the same store and metadata: a portal's per-peer settings.
func (p *portal) configure(tweak ...func(*sp.Config)) {
	cfg := p.cfg
	dec := *cfg.Decrypter
	cfg.Decrypter = &dec
	for _, f := range tweak {
		f(&cfg)
	}
	s, err := sp.New(cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.sp = s
	p.mu.Unlock()
}

// metadata is the SP's entity as the operator's aggregate carries it.
func (p *portal) metadata() []byte {
	b, err := xmlsec.Serialize(p.engine().Metadata().Element())
	if err != nil {
		p.t.Fatal(err)
	}
	return b
}

// trustIdP places the IdP's metadata, as served, and loads it.
func (p *portal) trustIdP(served []byte) {
	if err := os.WriteFile(p.mdFile, served, 0o600); err != nil {
		p.t.Fatal(err)
	}
	if err := p.mdSet.Refresh(ctx, time.Now()); err != nil {
		p.t.Fatal(err)
	}
}

// engine is the SP as configure last made it.
func (p *portal) engine() *sp.SP {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sp
}

func (p *portal) cookie(kind string) string { return p.name + "-" + kind }

func (p *portal) fail(err error) {
	p.mu.Lock()
	p.errs = append(p.errs, err)
	p.mu.Unlock()
}

func (p *portal) login(w http.ResponseWriter, r *http.Request) {
	lr, err := p.engine().StartLogin(r.Context(), r.URL.Query().Get("rs"))
	if err != nil {
		p.fail(err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: p.cookie("req"), Value: lr.ID, Path: "/", Expires: lr.Expires,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
	http.Redirect(w, r, lr.URL, http.StatusSeeOther)
}

func (p *portal) acs(w http.ResponseWriter, r *http.Request) {
	msg, err := (&binding.POSTDecoder{}).DecodeRequest(r)
	if err != nil {
		p.fail(err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var reqID string
	if c, err := r.Cookie(p.cookie("req")); err == nil {
		reqID = c.Value
	}
	l, err := p.engine().Consume(r.Context(), msg, reqID)
	if err != nil {
		p.fail(err)
		http.Error(w, sp.KindOf(err).String(), http.StatusForbidden)
		return
	}
	sid := randomHex(p.t)
	p.mu.Lock()
	p.sessions[sid], p.logins = l, append(p.logins, l)
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: p.cookie("sess"), Value: sid, Path: "/", Secure: true, HttpOnly: true})
	io.WriteString(w, "welcome to "+p.name)
}

// logout ends the portal's own session first, then asks the IdP.
func (p *portal) logout(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(p.cookie("sess"))
	p.mu.Lock()
	var l *sp.Login
	if err == nil {
		l = p.sessions[c.Value]
		delete(p.sessions, c.Value)
	}
	p.mu.Unlock()
	if l == nil {
		http.Error(w, "not logged in", http.StatusBadRequest)
		return
	}
	lr, err := p.engine().StartLogout(r.Context(), l, "bye-"+p.name)
	if err != nil {
		p.fail(err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, lr.URL, http.StatusSeeOther)
}

func (p *portal) slo(w http.ResponseWriter, r *http.Request) {
	if sp.IsLogoutResponse(r.URL.RawQuery) {
		res, err := p.engine().ConsumeLogoutResponse(r.Context(), r.URL.RawQuery)
		if err != nil {
			p.fail(err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.results = append(p.results, res)
		p.mu.Unlock()
		io.WriteString(w, "logged out of "+p.name)
		return
	}
	l, err := p.engine().ReceiveLogoutRequest(r.Context(), r.URL.RawQuery)
	if l == nil {
		p.fail(err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err == nil {
		err = p.end(r.Context(), l)
	} else {
		p.fail(err)
	}
	u, err := p.engine().LogoutResponseURL(l, sp.LogoutStatus(err))
	if err != nil {
		p.fail(err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// end is the portal's bookkeeping: every session of the NameID at one
// of the SessionIndexes (all of them when none is named) ends.
func (p *portal) end(_ context.Context, l *sp.IdPLogout) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = append(p.ended, l)
	for sid, s := range p.sessions {
		if s.NameID.Value == l.NameID.Value && (len(l.SessionIndexes) == 0 || slices.Contains(l.SessionIndexes, s.SessionIndex)) {
			delete(p.sessions, sid)
		}
	}
	return nil
}

// state returns copies of what the portal recorded.
func (p *portal) state() (sessions int, logins []*sp.Login, errs []error, results []*sp.LogoutResult, ended []*sp.IdPLogout) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions), slices.Clone(p.logins), slices.Clone(p.errs), slices.Clone(p.results), slices.Clone(p.ended)
}

func randomHex(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// errIs reports whether the last error the portal recorded is target.
func (p *portal) lastErrIs(target error) bool {
	_, _, errs, _, _ := p.state()
	return len(errs) > 0 && errors.Is(errs[len(errs)-1], target)
}
