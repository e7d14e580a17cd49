package conformance_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/store"
)

// ownDS starts Renkei's Discovery Service in process (dskit) and
// describes it as any vendor's DS would be described: the suite reaches it
// only over its HTTPS listener. The principal is linked at the sample
// institutions (local identifiers that the tokens must carry) with their
// services associated; the other principal is federated with the DS only.
func ownDS(t *testing.T) (*dskit.Federation, *conformance.Env) {
	t.Helper()
	f := dskit.New(t, dskit.Options{NoKeyClinic: true})
	other := f.NewPrincipal(t)
	f.Link(t, f.Principal, false)
	wsp := func(w *dskit.WSP) conformance.Party {
		return conformance.Party{EntityID: w.EntityID, Key: w.Identity.Key, Cert: w.Identity.Cert}
	}
	byID := map[string]*dskit.WSP{}
	for _, w := range f.WSPs {
		byID[w.EntityID] = w
	}
	a, b, clinic := byID["https://hospital-a.renkei.test/metadata"], byID["https://hospital-b.renkei.test/metadata"], byID["https://clinic.renkei.test/metadata"]
	noKey := wsp(clinic)
	k := f.Keys
	dt := &conformance.DSTarget{EntityID: dskit.DSID, Keys: []*x509.Certificate{k.DS.Cert}, Address: f.URL,
		IdP:       conformance.Party{EntityID: dskit.IdPID, Key: k.IdP.Key, Cert: k.IdP.Cert},
		Principal: principal(t, f, f.Principal, a, b), Other: principal(t, f, other),
		WSC:      conformance.Party{EntityID: dskit.OtherWSCID, Key: k.Other.Key, Cert: k.Other.Cert},
		OtherWSC: conformance.Party{EntityID: dskit.PortalID, Cert: k.Portal.Cert},
		WSPs:     []conformance.Party{wsp(a), wsp(b)}, NoKeyWSP: &noKey}
	if err := dt.Validate(); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(k.CA.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return f, &conformance.Env{Transport: tr, WSF: dt.WSFTarget(), WSC: dt.WSCForWSF(), DS: dt, Now: f.Clock.Now}
}

// principal is p as the DS knows it: its NameID at the DS, and its local
// identifiers at the WSPs.
func principal(t *testing.T, f *dskit.Federation, p string, wsps ...*dskit.WSP) conformance.DSPrincipal {
	t.Helper()
	fed, err := store.Pairwise(context.Background(), f.Store, p, dskit.DSID, true, f.Clock.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := conformance.DSPrincipal{NameID: fed.NameID, Subjects: map[string]string{}}
	for _, w := range wsps {
		out.Subjects[w.EntityID] = w.LocalID
	}
	return out
}

// ownDSEnv is ownDS's environment alone.
func ownDSEnv(t *testing.T) *conformance.Env {
	_, env := ownDS(t)
	return env
}

func dsCases() []conformance.Case {
	return append(conformance.WSFCases(conformance.RoleDS), conformance.DSCases()...)
}

func runDS(t *testing.T, env *conformance.Env) *conformance.Report {
	return runOwn(env, conformance.RoleDS, conformance.ModeDS, dsCases())
}

// requireAllPass requires every case and every DS row to pass, each case
// with its messages recorded.
func requireAllPass(t *testing.T, rep *conformance.Report) {
	t.Helper()
	requireCasesPass(t, rep, len(dsCases()))
	requireRowsPass(t, rep, 10, "F1-F6, F11 and F16-F18")
}

// TestDSCasesAgainstOwnDS runs the Discovery cases and the generic ID-WSF
// cases against Renkei's DS and requires every one to pass.
func TestDSCasesAgainstOwnDS(t *testing.T) {
	_, env := ownDS(t)
	rep := runDS(t, env)
	requireAllPass(t, rep)
	if t.Failed() || testing.Verbose() {
		logReport(t, rep)
	}
}
