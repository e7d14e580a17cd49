package portal_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsc/portal"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// newPortal is the portal engine over the kit's federation, reading the
// institutions' names from the aggregate the WSPs load.
func newPortal(t *testing.T, k *wspkit.Kit, timeout time.Duration) *portal.Portal {
	t.Helper()
	set, err := md.New(md.Config{Sources: []md.Source{{Location: k.Aggregate, Unsigned: true}}, Now: k.Fed.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Refresh(context.Background(), k.Fed.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	p, err := portal.New(portal.Config{WSC: wsc.Config{Client: k.Portal(t), Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2}},
		Directory: set, DS: dskit.DSID, Timeout: timeout, Now: k.Fed.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// login opens the portal session of principal with a DS token bound to
// the portal's key, as the IdP's bootstrap carries it.
func login(t *testing.T, k *wspkit.Kit, p *portal.Portal, principal string) *portal.Citizen {
	t.Helper()
	tok := k.Fed.DSToken(t, principal, k.Fed.Keys.Portal.Cert, dskit.TokenOptions{Lifetime: 2 * time.Hour})
	c, err := p.Open(portal.Identity{NameID: &saml.NameID{Value: "nid-" + principal}, SessionIndex: "s1"}, k.Fed.DSEPR(tok), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func section(ov *portal.Overview, key, typ string) *portal.Section {
	for _, s := range ov.Sections {
		if s.Provider == wspkit.Entities[key] && s.ServiceType == typ {
			return s
		}
	}
	return nil
}

// TestRecordsBookingLinksAccess: the citizen's whole day on the portal,
// against the four sample institutions' WSPs and the DS.
func TestRecordsBookingLinksAccess(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Consent: true})
	principal := k.Enrol(t, "p01")
	p := newPortal(t, k, 10*time.Second)
	c := login(t, k, p, principal)
	ctx := context.Background()

	ov, err := p.Records(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ key, typ, item string }{
		{sample.HospitalA, dst.Clinical, "LabResult"}, {sample.HospitalA, dst.Clinical, "Prescription"},
		{sample.HospitalB, dst.Clinical, "Prescription"}, {sample.HospitalA, dst.Checkup, "Checkup"},
		{sample.Insurer, dst.Eligibility, "Eligibility"}, {sample.Pension, dst.Pension, "Contribution"},
		{sample.Pension, dst.Pension, "Summary"},
	} {
		s := section(ov, want.key, want.typ)
		if s == nil || s.Problem != portal.NoProblem || len(s.Items[want.item]) == 0 {
			t.Errorf("%s %s: %+v", want.key, want.item, s)
			continue
		}
		items := s.Items[want.item]
		for i := 1; i < len(items); i++ {
			if portal.When(s.Service, &items[i]).After(portal.When(s.Service, &items[i-1])) {
				t.Errorf("%s %s not newest first: %v before %v", want.key, want.item, items[i-1].Values, items[i].Values)
				break
			}
		}
	}
	a := section(ov, sample.HospitalA, dst.Clinical)
	if a == nil || a.Institution.Ja != "東都中央病院" || a.Institution.En != "Toto Central Hospital" {
		t.Fatalf("hospital A is named %+v, want its md:Organization names", a)
	}
	// p01 is treated for diabetes and hypertension: some result is out of
	// its range, and one test has a trend of several points.
	out, counts := 0, map[string]int{}
	for _, it := range a.Items["LabResult"] {
		if r := portal.LabRange(&it); r == portal.High || r == portal.Low {
			out++
		}
		if portal.LabRange(&it) != portal.Unranged {
			counts[it.Get("Code")]++ // numeric, with a range: a point of a trend
		}
	}
	if out == 0 {
		t.Error("no lab result of a diabetic patient is out of range")
	}
	code := ""
	for c, n := range counts {
		if n > counts[code] || n == counts[code] && c < code {
			code = c
		}
	}
	tr := portal.LabTrend(ov, code)
	if len(tr.Points) != counts[code] || tr.Points[0].When.After(tr.Points[len(tr.Points)-1].When) {
		t.Fatalf("trend of %s: %d points, want %d oldest first", code, len(tr.Points), counts[code])
	}
	svg := (tr.SVG("HbA1c", "trend"))
	if strings.Count(svg, "<circle") != len(tr.Points) || !strings.Contains(svg, `role="img"`) || strings.Contains(svg, "<script") {
		t.Fatalf("trend chart: %s", svg)
	}

	// Booking: a slot with a place, booked, shown, cancelled.
	slots, err := p.OpenSlots(ctx, c)
	if err != nil || len(slots) != 2 {
		t.Fatalf("open slots: %d hospitals, %v", len(slots), err)
	}
	var at, slot string
	for _, s := range slots {
		if s.Problem != portal.NoProblem {
			t.Fatalf("slots of %s: %v", s.Provider, s.Err)
		}
		if at == "" && len(s.Items) > 0 {
			at, slot = s.Provider, s.Items[0].ID
		}
	}
	if slot == "" {
		t.Fatal("no open slot at either hospital")
	}
	appt, err := p.Book(ctx, c, at, slot)
	if err != nil || appt.Get("Slot") != slot || appt.ID == "" {
		t.Fatalf("book %s at %s: %+v %v", slot, at, appt, err)
	}
	ov, err = p.Records(ctx, c, dst.Appointment)
	if err != nil {
		t.Fatal(err)
	}
	booked := func(ov *portal.Overview) bool {
		for _, s := range ov.Sections {
			for _, it := range s.Items["Appointment"] {
				if it.ID == appt.ID {
					return true
				}
			}
		}
		return false
	}
	if !booked(ov) {
		t.Fatal("the booked appointment is not among the appointments")
	}
	if err := p.Cancel(ctx, c, at, appt.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.Cancel(ctx, c, at, appt.ID); !errors.Is(err, portal.ErrNotFound) {
		t.Fatalf("cancel twice: %v, want ErrNotFound", err)
	}
	if ov, err = p.Records(ctx, c, dst.Appointment); err != nil || booked(ov) {
		t.Fatalf("after cancelling the appointment is still there (%v)", err)
	}
	full := k.Manifest.Institution(sample.HospitalA).FullSlot
	if _, err := p.Book(ctx, c, wspkit.Entities[sample.HospitalA], full); !errors.Is(err, portal.ErrSlotFull) {
		t.Fatalf("booking the full slot %s: %v, want ErrSlotFull", full, err)
	}

	// Linked institutions: the four, each with its consents; withdrawing
	// the pension service's removes its section.
	ins, err := p.Institutions(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var pension *portal.Institution
	for _, in := range ins {
		if len(in.Links) == 0 {
			t.Errorf("%s has no consent listed", in.Provider)
		}
		if in.Provider == wspkit.Entities[sample.Pension] {
			pension = in
		}
	}
	if len(ins) != 4 || pension == nil {
		t.Fatalf("%d institutions, pension %v", len(ins), pension)
	}
	if err := p.Withdraw(ctx, c, pension.Links[0].SvcMDID); err != nil {
		t.Fatal(err)
	}
	if ov, err = p.Records(ctx, c); err != nil || section(ov, sample.Pension, dst.Pension) != nil {
		t.Fatalf("after withdrawing, the pension section is still there (%v)", err)
	}
	if err := p.Withdraw(ctx, c, pension.Links[0].SvcMDID); !errors.Is(err, portal.ErrNotFound) {
		t.Fatalf("withdraw twice: %v", err)
	}
	// Linking again goes through the DS's consent page; an institution
	// already consented to needs nothing.
	pd, err := p.StartLink(ctx, c, pension.Provider, pension.ServiceTypes)
	if err != nil || pd == nil || !strings.HasPrefix(pd.URL, k.Fed.ConsentURL) || pd.FaultMessageID == "" {
		t.Fatalf("linking the pension service again: %+v %v, want the consent page %s", pd, err, k.Fed.ConsentURL)
	}
	if pd, err := p.StartLink(ctx, c, wspkit.Entities[sample.HospitalA], []string{dst.Clinical}); pd != nil || err != nil {
		t.Fatalf("linking hospital A, consented to: %+v %v", pd, err)
	}
	// p02 is a patient of hospital A only: hospital B does not know her.
	c2 := login(t, k, p, k.Enrol(t, "p02"))
	if pd, err := p.StartLink(ctx, c2, wspkit.Entities[sample.HospitalB], []string{dst.Clinical}); !errors.Is(err, portal.ErrNotEnrolled) {
		t.Fatalf("linking a hospital that does not know the citizen: %+v %v, want ErrNotEnrolled", pd, err)
	}

	// The access log names the DS's tokens and each institution's reads,
	// the booking and the withdrawal.
	log, err := p.AccessLog(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range log.Sources {
		if s.Problem != portal.NoProblem {
			t.Errorf("access log of %s: %v", s.Provider, s.Err)
		}
	}
	for i, e := range log.Events {
		seen[e.Source+" "+e.Action] = true
		if i > 0 && e.Time.After(log.Events[i-1].Time) {
			t.Fatal("access log not newest first")
		}
	}
	for _, want := range []string{dskit.DSID + " disco:token", dskit.DSID + " disco:association-delete",
		wspkit.Entities[sample.HospitalA] + " dst:Query", at + " dst:Create", at + " dst:Delete",
		wspkit.Entities[sample.Insurer] + " dst:Query"} {
		if !seen[want] {
			t.Errorf("the access log lacks %q", want)
		}
	}
}

// TestInstitutionDown: a stopped WSP costs its own section the timeout
// and a Down or Slow problem; the others render.
func TestInstitutionDown(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.HospitalA, sample.Insurer}})
	principal := k.Enrol(t, "p01")
	p := newPortal(t, k, 2*time.Second)
	c := login(t, k, p, principal)
	if err := k.WSPs[sample.Insurer][0].Shutdown(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ov, err := p.Records(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("the page waited %v with a 2 s timeout", d)
	}
	if s := section(ov, sample.Insurer, dst.Eligibility); s == nil || (s.Problem != portal.Down && s.Problem != portal.Slow) {
		t.Fatalf("the stopped insurer's section: %+v", s)
	}
	if s := section(ov, sample.HospitalA, dst.Clinical); s == nil || s.Problem != portal.NoProblem || len(s.Items["LabResult"]) == 0 {
		t.Fatalf("hospital A's section beside the stopped insurer: %+v", s)
	}
}
