package terminalserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/terminalserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/termkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/wsc/terminal"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// TestReceptionDesk: the patient's card at hospital A's desk, through
// pcscd and vpcd: the PIN, the eligibility at once, hospital B's results
// with the card present, the enrolment of hospital A's patient number,
// then the card out: the screen empty, the IdP told.
func TestReceptionDesk(t *testing.T) {
	d := termkit.New(t)
	keep := d.KeepToken()
	d.Start()
	p := d.PatientOnlyAtB()
	c := d.Insert(p, 0, virtual.Options{})
	d.Await("the PIN prompt", func(s terminal.Screen) bool { return s.Phase == terminal.NeedPIN })
	d.PIN("000000")
	s := d.Await("a wrong PIN", func(s terminal.Screen) bool { return s.Message == "pin.wrong" })
	if s.TriesLeft <= 0 {
		t.Fatalf("tries left %d after one wrong PIN", s.TriesLeft)
	}
	d.PIN(virtual.DefaultPIN)
	s = d.Await("the eligibility", func(s terminal.Screen) bool { return s.Phase == terminal.Ready })
	want := termkit.InsurerFields(p)
	if s.Eligibility == nil || len(s.Eligibility.Coverages) != 1 {
		t.Fatalf("eligibility %+v (%s)", s.Eligibility, s.EligibilityMessage)
	}
	cov := s.Eligibility.Coverages[0]
	if !cov.Valid || cov.InsurerNumber != want[0] || cov.Symbol != want[1] || cov.Number != want[2] || cov.Copayment == "" {
		t.Fatalf("coverage %+v, the insurer knows %v", cov, want)
	}
	t.Logf("eligibility in %v: card %v, ECP %v, discovery %v, WSP %v", s.Timing.Card+s.Timing.ECP+s.Timing.Discovery+s.Timing.WSP,
		s.Timing.Card, s.Timing.ECP, s.Timing.Discovery, s.Timing.WSP)

	s = d.Await("hospital B's results", func(s terminal.Screen) bool { return !s.RecordsPending })
	if len(s.Records) != 1 || s.Records[0].Provider != wspkit.Entities[sample.HospitalB] || len(s.Records[0].Items["LabResult"]) == 0 {
		t.Fatalf("records %+v (%s)", s.Records, s.RecordsMessage)
	}

	const number = "A-990001"
	if err := d.Srv.Desk.Enrol(context.Background(), number); err != nil {
		t.Fatalf("enrolment: %v", err)
	}
	links, err := d.Fed.DS.DS.Links(context.Background(), p.Principal)
	if err != nil {
		t.Fatal(err)
	}
	linked := false
	for _, l := range links {
		if l.ProviderID == wspkit.Entities[sample.HospitalA] {
			linked = l.SPProvidedID == number && len(l.Associated) > 0
		}
	}
	if !linked {
		t.Fatalf("after the enrolment the relay database holds %+v", links)
	}

	kept := keep(wspkit.Entities[sample.Insurer], dst.Eligibility, wsf.PurposeEligibility)
	if err := kept(); err != nil {
		t.Fatalf("the insurer refuses the terminal's token with the card in: %v", err)
	}
	visitFollowed(t, d, sample.Insurer)

	if err := c.Insertion.Remove(); err != nil {
		t.Fatal(err)
	}
	s = d.Await("an empty screen", func(s terminal.Screen) bool { return s.Phase == terminal.Idle })
	if s.Eligibility != nil || s.Records != nil || s.Enrolled != "" {
		t.Fatalf("the screen still shows %+v", s)
	}
	loggedOut(t, d)
	if err := kept(); !wspkit.ExpiredToken(err) {
		t.Fatalf("the insurer's token kept aside, after the card left: %v, want it refused as ended", err)
	}
}

// visitFollowed wants the visit's request ID in the terminal's log, and
// the ID its call to the institution key carried (the terminal's call
// line pairs them) logged by that institution's WSP, which never sees the
// terminal's own.
func visitFollowed(t *testing.T, d *termkit.Desk, key string) {
	t.Helper()
	var rid string
	for _, r := range d.Fed.Logs.Records("terminal") {
		if m, _ := r["msg"].(string); strings.HasPrefix(m, "terminal: visit 1: card inserted, request ID ") {
			rid = strings.TrimPrefix(m, "terminal: visit 1: card inserted, request ID ")
		}
	}
	theirs := ""
	for _, r := range d.Fed.Logs.Records("terminal") {
		if r["msg"] == "call" && r["request_id"] == rid && r["recipient"] == wspkit.Entities[key] {
			theirs, _ = r["recipient_request_id"].(string)
		}
	}
	if rid == "" || theirs == "" {
		t.Fatalf("ok/visit-request-id: visit %q, the call to %s %q", rid, key, theirs)
	}
	seen := false
	for _, r := range d.Fed.Logs.Records("wsp:" + key) {
		seen = seen || r["msg"] == "message verified" && r["caller_request_id"] == theirs
		if r["caller_request_id"] == rid {
			t.Fatalf("fail/visit-request-id-leaked to %s: %v", key, r)
		}
	}
	if !seen {
		t.Fatalf("ok/wsp-logs-visit: %s logged no verified message under %q", key, theirs)
	}
}

// loggedOut wants the visit's logout answered Success by the IdP: the
// session of the card login ended, every participant reached.
func loggedOut(t *testing.T, d *termkit.Desk) {
	t.Helper()
	e := <-d.Ended
	if e.Err != nil || e.Res == nil || !e.Res.Success() || e.Res.Partial() {
		t.Fatalf("logout: %+v %v\nIdP:\n%s", e.Res, e.Err, d.Fed.IdP.Stderr())
	}
}

// TestDeskRenewsLogin: with a card login serving 4 s, the desk logs the
// card in again (a new signature on the card, a new login) while the
// card stays in, and the screen stays on the patient; the first login's
// session is logged out, so its insurer token is refused.
func TestDeskRenewsLogin(t *testing.T) {
	d := termkit.New(t)
	d.File.TokenLife = "4s"
	keep := d.KeepToken()
	d.Start()
	p := d.PatientOnlyAtB()
	c := d.Insert(p, 0, virtual.Options{})
	d.Await("the PIN prompt", func(s terminal.Screen) bool { return s.Phase == terminal.NeedPIN })
	d.PIN(virtual.DefaultPIN)
	d.Await("the eligibility", func(s terminal.Screen) bool { return s.Phase == terminal.Ready })
	first := c.Card.Count(piv.InsGeneralAuth)
	kept := keep(wspkit.Entities[sample.Insurer], dst.Eligibility, wsf.PurposeEligibility)
	if err := kept(); err != nil {
		t.Fatalf("the first login's insurer token: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for c.Card.Count(piv.InsGeneralAuth) < first+2 {
		if time.Now().After(deadline) {
			t.Fatalf("the card signed %d times in 15 s after the login, want 2 renewals", c.Card.Count(piv.InsGeneralAuth)-first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s := d.Srv.Desk.Screen(); s.Phase != terminal.Ready || s.Eligibility == nil {
		t.Fatalf("after the renewals the screen shows phase %d %q", s.Phase, s.Message)
	}
	if err := kept(); !wspkit.ExpiredToken(err) {
		t.Fatalf("the first login's insurer token after the renewals: %v, want it refused as ended", err)
	}
	d.Remove(c, 0)
	d.Await("an empty screen", func(s terminal.Screen) bool { return s.Phase == terminal.Idle })
}

// TestMetadataCheck: the terminal refuses to start when the metadata does
// not list its PAOS consumer under its entity, or its IdP or DS.
func TestMetadataCheck(t *testing.T) {
	d := termkit.New(t)
	f := *d.File
	f.ECPConsumer = f.BaseURL + "/elsewhere"
	f.IdP, f.DS = "https://unknown-idp.renkei.test/metadata", "https://unknown-ds.renkei.test/metadata"
	_, err := terminalserver.Build(context.Background(), &f, terminalserver.Options{RootCAs: d.Fed.RootCAs, Log: logkit.New(t, "terminal")})
	for _, want := range []string{"as an assertion consumer service (urn:oasis:names:tc:SAML:2.0:bindings:PAOS)", "does not list the IdP", "does not list the Discovery Service"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build: %v, want it to say %q", err, want)
		}
	}
}
