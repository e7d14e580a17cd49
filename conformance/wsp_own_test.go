package conformance_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// ownWSP starts Renkei's WSP for hospital A as renkei-wsp assembles it
// (dskit.StartWSP) and describes it as any vendor's WSP would be
// described, for its appointment service (which has writes): the suite
// reaches it only over its HTTPS listener, plays the DS whose tokens it
// trusts, the portal as the WSC and the other WSC, and books and cancels
// with the sample's open and full slots.
func ownWSP(t *testing.T) *conformance.Env {
	t.Helper()
	w := dskit.StartWSP(t)
	k := dskit.KeysOf(t, pki.RSA2048)
	p, local := w.PersonAt(t, sample.HospitalA)
	wt := &conformance.WSPTarget{EntityID: w.EntityID(), Keys: []*x509.Certificate{w.Identity.Cert}, Address: w.SOAPURL(),
		Encryption:  xmlenc.Recipient{EntityID: w.EntityID(), Cert: w.Identity.Cert, Methods: []string{xmlenc.RSAOAEP}},
		ServiceType: dst.Appointment, DS: conformance.Party{EntityID: dskit.DSID, Key: k.DS.Key, Cert: k.DS.Cert}, NameQualifier: dskit.IdPID,
		WSC:      conformance.Party{EntityID: dskit.PortalID, Key: k.Portal.Key, Cert: k.Portal.Cert},
		OtherWSC: conformance.Party{EntityID: dskit.OtherWSCID, Cert: k.Other.Cert},
		Subject:  conformance.WSPSubject{LocalID: local, NameID: "conformance-" + p.Key}, UnknownSubject: "conformance-unknown-000",
		Write: &conformance.WSPWrite{Item: "Appointment", Values: map[string]string{"Slot": w.Institution.OpenSlot},
			Refused: map[string]string{"Slot": w.Institution.FullSlot}}}
	if err := wt.Validate(); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(k.CA.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &conformance.Env{Transport: tr, WSF: wt.WSFTarget(), WSC: wt.WSCForWSF(), WSP: wt}
}

func wspCases() []conformance.Case {
	return append(conformance.WSFCases(conformance.RoleWSP), conformance.WSPCases()...)
}

func runWSP(t *testing.T, env *conformance.Env) *conformance.Report {
	return runOwn(env, conformance.RoleWSP, conformance.ModeWSP, wspCases())
}

// requireWSPPass requires every case and every WSP row to pass, each
// case with its messages recorded.
func requireWSPPass(t *testing.T, rep *conformance.Report) {
	t.Helper()
	requireCasesPass(t, rep, len(wspCases()))
	requireRowsPass(t, rep, 10, "F1-F6, F11, F12, F14 and F19")
}

// TestWSPCasesAgainstOwnWSP runs the WSP cases and the generic ID-WSF
// cases against Renkei's WSP and requires every one to pass.
func TestWSPCasesAgainstOwnWSP(t *testing.T) {
	rep := runWSP(t, ownWSP(t))
	requireWSPPass(t, rep)
	if t.Failed() || testing.Verbose() {
		logReport(t, rep)
	}
}
