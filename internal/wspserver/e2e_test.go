package wspserver_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// The whole chain over real HTTPS on loopback: the WSPs, built from their
// operators' files, registered their SvcMDs at the DS; the citizen is
// enrolled at every institution that knows them; My Portal asks the DS,
// gets one EPR per service with a token for that WSP alone, and reads
// each institution's data through its mapping file.

func query(t *testing.T, c *client.Client, epr *wsf.EPR, svcType string, items ...dst.QueryItem) *dst.QueryResponse {
	t.Helper()
	svc := dst.Lookup(svcType)
	res, err := wspkit.Call(context.Background(), c, epr, svcType, "Query", svc.QueryElement(&dst.Query{Items: items}), wsf.PurposeSelf)
	if err != nil {
		t.Fatalf("%s Query: %v", svcType, err)
	}
	r, err := svc.DecodeQueryResponse(res.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sel(svcType, item, pred string) dst.QueryItem {
	s := dst.Lookup(svcType)
	return dst.QueryItem{ItemID: item, Select: "/" + s.Prefix + ":" + item + pred, HasSelect: true, Count: -1}
}

// countRows counts rows of a generated SQLite back office.
func countRows(t *testing.T, k *wspkit.Kit, db, q string, args ...any) int {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+filepath.Join(k.Dir, db)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPortalReadsEveryInstitution(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{})
	p := k.Manifest.Person("p01") // known at both hospitals, the insurer and the pension service
	principal := k.Enrol(t, "p01")
	c := k.Portal(t)
	eprs := k.Discover(t, c, principal)
	for _, in := range k.Manifest.Institutions {
		for _, typ := range in.Services {
			k.EPR(t, eprs, in.Key, typ) // one EPR per service instance
		}
	}

	// Hospital A: every lab result of the patient, page by page, as its
	// database holds them.
	a := k.EPR(t, eprs, sample.HospitalA, dst.Clinical)
	want := countRows(t, k, "hospital-a.db", "SELECT count(*) FROM lab_results WHERE patient_no = ?", p.Local[sample.HospitalA])
	got, offset := 0, 0
	codes := map[string]bool{}
	for page := 0; ; page++ {
		it := sel(dst.Clinical, "LabResult", "")
		it.Count, it.Offset = 25, offset
		r := query(t, c, a, dst.Clinical, it)
		if r.Status.Code != wsf.OK || len(r.Data) != 1 {
			t.Fatalf("page %d: %+v", page, r.Status)
		}
		for _, item := range r.Data[0].Items {
			if item.Type != "LabResult" || item.ID == "" || item.Get("Code") == "" || item.Get("Date") == "" {
				t.Fatalf("item %+v", item)
			}
			codes[item.Get("Code")] = true
		}
		got += len(r.Data[0].Items)
		if r.Data[0].NextOffset == 0 {
			break
		}
		offset = r.Data[0].NextOffset
	}
	if got != want || want == 0 {
		t.Fatalf("read %d lab results, hospital A holds %d", got, want)
	}
	// One test's trend: the Code filter selects that test alone.
	var code string
	for c := range codes {
		code = c
		break
	}
	r := query(t, c, a, dst.Clinical, sel(dst.Clinical, "LabResult", "[cl:Code='"+code+"']"))
	for _, item := range r.Data[0].Items {
		if item.Get("Code") != code {
			t.Fatalf("filter by %s returned %s", code, item.Get("Code"))
		}
	}

	// Hospital B, shaped otherwise, answers the same item types.
	b := k.EPR(t, eprs, sample.HospitalB, dst.Clinical)
	r = query(t, c, b, dst.Clinical, sel(dst.Clinical, "LabResult", ""), sel(dst.Clinical, "Prescription", ""))
	if r.Status.Code != wsf.OK || len(r.Data) != 2 || len(r.Data[0].Items) == 0 || len(r.Data[1].Items) == 0 {
		t.Fatalf("hospital B: %+v, %d data", r.Status, len(r.Data))
	}

	// The insurer: eligibility with the symbol in kanji.
	ins := k.EPR(t, eprs, sample.Insurer, dst.Eligibility)
	r = query(t, c, ins, dst.Eligibility, sel(dst.Eligibility, "Eligibility", ""))
	if len(r.Data) != 1 || len(r.Data[0].Items) != 1 {
		t.Fatalf("eligibility: %+v", r)
	}
	e := r.Data[0].Items[0]
	local := strings.Split(p.Local[sample.Insurer], ":")
	if e.Get("Insured") != "true" || e.Get("InsurerNumber") != local[0] || e.Get("Symbol") != local[1] || e.Get("Number") != local[2] {
		t.Fatalf("eligibility %+v, local identifier %s", e, p.Local[sample.Insurer])
	}

	// The pension service, through its REST back office.
	pen := k.EPR(t, eprs, sample.Pension, dst.Pension)
	it := sel(dst.Pension, "Contribution", "")
	it.Count = 12
	r = query(t, c, pen, dst.Pension, it, sel(dst.Pension, "Summary", ""))
	if r.Status.Code != wsf.OK || len(r.Data) != 2 || len(r.Data[0].Items) != 12 || len(r.Data[1].Items) != 1 {
		t.Fatalf("pension: %+v", r.Status)
	}

	// Every read is in each institution's access log, which the citizen
	// reads through the portal: the audit service of every WSP they are
	// enrolled at, discovered like any other.
	logs := k.Discover(t, c, principal, audit.NS)
	for _, key := range []string{sample.HospitalA, sample.Insurer, sample.Pension} {
		ep := k.EPR(t, logs, key, audit.NS)
		q := &audit.Query{Items: []audit.QueryItem{{ItemID: "log", Select: "/au:Event", Count: -1}}}
		res, err := wspkit.Call(context.Background(), c, ep, audit.NS, "Query", q.Element(), wsf.PurposeSelf)
		if err != nil {
			t.Fatalf("%s access log: %v", key, err)
		}
		ar, err := audit.DecodeQueryResponse(res.Payload)
		if err != nil || ar.Status.Code != wsf.OK || len(ar.Data) != 1 || len(ar.Data[0].Events) == 0 {
			t.Fatalf("%s access log: %+v, %v", key, ar, err)
		}
		ev := ar.Data[0].Events[0]
		if ev.Actor != wspkit.PortalID || ev.Action != "dst:Query" || ev.Purpose != wsf.PurposeSelf || ev.Status != "OK" {
			t.Fatalf("%s newest access event %+v", key, ev)
		}
	}
}

func TestUnknownLocalIdentifierIsNotGuessed(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.HospitalA}})
	principal := k.Fed.NewPrincipal(t)
	k.Link(t, principal, sample.HospitalA, "A-999999")
	c := k.Portal(t)
	a := k.EPR(t, k.Discover(t, c, principal, dst.Clinical), sample.HospitalA, dst.Clinical)
	r := query(t, c, a, dst.Clinical, sel(dst.Clinical, "LabResult", ""))
	if r.Status.Code != wsf.Failed || len(r.Status.Sub) != 1 || r.Status.Sub[0].Code != "DoesNotExist" || len(r.Data) != 0 {
		t.Fatalf("unknown patient: %+v", r.Status)
	}
}

func TestBookAndCancelOverHTTPS(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.HospitalA}})
	slot := k.Manifest.Institution(sample.HospitalA).LastPlaceSlot
	var patients []string
	for _, p := range k.Manifest.People {
		if p.Local[sample.HospitalA] != "" {
			patients = append(patients, p.Key)
		}
	}
	c := k.Portal(t)
	eprOf := func(person string) *wsf.EPR {
		return k.EPR(t, k.Discover(t, c, k.Enrol(t, person), dst.Appointment), sample.HospitalA, dst.Appointment)
	}
	first, second := eprOf(patients[0]), eprOf(patients[1])
	svc := dst.Lookup(dst.Appointment)
	book := func(epr *wsf.EPR) *dst.WriteResponse {
		cr := &dst.Create{Items: []dst.CreateItem{{ItemID: "b", NewData: []dst.Item{{Type: "Appointment",
			Values: []dst.Value{{Name: "Slot", Text: slot}}}}}}}
		res, err := wspkit.Call(context.Background(), c, epr, dst.Appointment, "Create", svc.CreateElement(cr), wsf.PurposeSelf)
		if err != nil {
			t.Fatal(err)
		}
		r, err := svc.DecodeWriteResponse(res.Payload)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := book(first)
	if r.Status.Code != wsf.OK || len(r.ItemData) != 1 || r.ItemData[0].Items[0].Get("Slot") != slot {
		t.Fatalf("booking the last place: %+v", r)
	}
	id := r.ItemData[0].Items[0].ID
	r = book(second)
	if r.Status.Code != wsf.Failed || len(r.Status.Sub) != 1 || r.Status.Sub[0].Code != "InvalidData" ||
		len(r.Status.Sub[0].Sub) != 1 || r.Status.Sub[0].Sub[0].Code != "urn:renkei:status:SlotFull" {
		t.Fatalf("booking a full slot: %+v", r.Status)
	}
	// The second patient cannot cancel the first one's booking.
	del := func(epr *wsf.EPR) wsf.Status {
		d := &dst.Delete{Items: []dst.DeleteItem{{ItemID: "c", Select: "/ap:Appointment[@id='" + id + "']", HasSelect: true}}}
		res, err := wspkit.Call(context.Background(), c, epr, dst.Appointment, "Delete", svc.DeleteElement(d), wsf.PurposeSelf)
		if err != nil {
			t.Fatal(err)
		}
		dr, err := svc.DecodeDeleteResponse(res.Payload)
		if err != nil {
			t.Fatal(err)
		}
		return dr.Status
	}
	if st := del(second); st.Code != wsf.Failed || st.Sub[0].Code != "DoesNotExist" {
		t.Fatalf("another patient's cancel: %+v", st)
	}
	if st := del(first); st.Code != wsf.OK {
		t.Fatalf("cancel: %+v", st)
	}
	if r := book(second); r.Status.Code != wsf.OK {
		t.Fatalf("booking the freed place: %+v", r.Status)
	}
	// The slot shows no place left.
	q := query(t, c, second, dst.Appointment, sel(dst.Appointment, "Slot", "[@id='"+slot+"']"))
	if len(q.Data) != 1 || len(q.Data[0].Items) != 1 || q.Data[0].Items[0].Get("Remaining") != "0" {
		t.Fatalf("slot after booking: %+v", q)
	}
}

func TestRegisteredAtTheDS(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.HospitalB}})
	s := k.WSPs[sample.HospitalB][0]
	reg := s.Registration()
	want := append(slices.Clone(k.Manifest.Institution(sample.HospitalB).Services), audit.NS)
	for _, typ := range want {
		if reg.IDs[typ] == "" {
			t.Fatalf("%s not registered: %+v", typ, reg)
		}
	}
	// A restart finds them current and changes nothing.
	again, err := s.Register(context.Background())
	if err != nil || len(again.Registered)+len(again.Replaced) != 0 || len(again.Unchanged) != len(want) {
		t.Fatalf("second registration: %+v, %v", again, err)
	}
}

// TestTokenForOneServiceOnly: consent is per service. A citizen who
// consented to hospital A's bookings but not to its lab results gets a
// token for the bookings; sent to the lab results, the WSP refuses it,
// and so it does a token the DS gave for the access log.
func TestTokenForOneServiceOnly(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.HospitalA}})
	s := k.WSPs[sample.HospitalA][0]
	principal := k.Fed.NewPrincipal(t)
	ctx := context.Background()
	if _, err := k.Fed.DS.LinkByHand(ctx, "test", principal, wspkit.Entities[sample.HospitalA],
		k.Manifest.Person("p02").Local[sample.HospitalA]); err != nil {
		t.Fatal(err)
	}
	tok := k.Fed.DSToken(t, principal, dskit.WSPIdentity(t, wspkit.Entities[sample.HospitalA]).Cert, dskit.TokenOptions{})
	if err := s.Registrar.Associate(ctx, k.Fed.DSEPR(tok), s.Registration().IDs[dst.Appointment]); err != nil {
		t.Fatal(err)
	}
	c := k.Portal(t)
	booking := k.EPR(t, k.Discover(t, c, principal, dst.Appointment), sample.HospitalA, dst.Appointment)
	log := k.EPR(t, k.Discover(t, c, principal, audit.NS), sample.HospitalA, audit.NS)
	if r := query(t, c, booking, dst.Appointment, sel(dst.Appointment, "Appointment", "")); r.Status.Code != wsf.OK {
		t.Fatalf("bookings with the bookings' token: %+v", r.Status)
	}
	for name, epr := range map[string]*wsf.EPR{"bookings": booking, "access log": log} {
		e := *epr // the same token, sent to the lab results
		r := query(t, c, &e, dst.Clinical, sel(dst.Clinical, "LabResult", ""))
		if r.Status.Code != wsf.Failed || len(r.Status.Sub) != 1 || r.Status.Sub[0].Code != "ActionNotAuthorized" || len(r.Data) != 0 {
			t.Fatalf("lab results with the %s token: %+v", name, r.Status)
		}
	}
}
