package wsp_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp"
)

// memBackend is a back office in memory: records per service type, item
// type and subject (Slots are the institution's: no subject), in the back
// office's order, newest first. Writes are atomic: they are applied to a
// copy that replaces the records only when every write succeeded. An
// appointment takes a place of its Slot and gives it back when it moves or
// is cancelled; a Slot without places refuses with SlotFull.
type memBackend struct {
	mu       sync.Mutex
	subjects map[string]bool
	data     map[string]map[string][]memRecord
	// noHistory lists the item types that keep no modification time.
	noHistory map[string]bool
	// delay holds every Query and Write back that long, or until the
	// caller's deadline; fail makes them fail with it; wrap wraps each
	// refusal in another error, as a layered adapter may.
	delay  time.Duration
	fail   error
	wrap   bool
	nextID int
	// writes counts the Write calls that changed the records.
	writes int
}

type memRecord struct {
	subject string
	wsp.Record
}

var _ wsp.Backend = (*memBackend)(nil)

func (b *memBackend) Subject(ctx context.Context, service, local string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.subjects[local], nil
}

func (b *memBackend) wait(ctx context.Context) error {
	if b.delay > 0 {
		select {
		case <-time.After(b.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b.fail
}

func (b *memBackend) Query(ctx context.Context, l wsp.Lookup) (wsp.Page, error) {
	if err := b.wait(ctx); err != nil {
		return wsp.Page{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	page := wsp.Page{NoHistory: b.noHistory[l.Item]}
	var all []wsp.Record
	for _, r := range b.data[l.Service][l.Item] {
		switch {
		case r.subject != "" && r.subject != l.Subject:
		case l.ID != "" && r.ID != l.ID:
		case l.Field != "" && fmt.Sprint(r.Values[l.Field]) != l.Value:
		case !l.ChangedSince.IsZero() && !page.NoHistory && !r.Modified.After(l.ChangedSince):
		default:
			all = append(all, copyRecord(r.Record))
		}
	}
	all = all[min(l.Offset, len(all)):]
	if len(all) > l.Count {
		all, page.More = all[:l.Count], true
	}
	page.Records = all
	return page, nil
}

func (b *memBackend) Write(ctx context.Context, ws []wsp.Write) ([]wsp.Record, error) {
	if err := b.wait(ctx); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	work := &memBackend{data: copyData(b.data), nextID: b.nextID}
	var out []wsp.Record
	for i, w := range ws {
		r, err := work.apply(i, w)
		if err != nil {
			if b.wrap {
				err = fmt.Errorf("booking system: %w", err)
			}
			return nil, err
		}
		out = append(out, r)
	}
	b.data, b.nextID = work.data, work.nextID
	b.writes++
	return out, nil
}

func (b *memBackend) Close() error { return nil }

// apply makes write i on b's records.
func (b *memBackend) apply(i int, w wsp.Write) (wsp.Record, error) {
	refuse := func(code, third, detail string) (wsp.Record, error) {
		return wsp.Record{}, &wsp.Refusal{Index: i, Code: code, Third: third, Detail: detail}
	}
	if w.Service != dst.Appointment || w.Item != "Appointment" {
		return refuse(wsp.ActionNotAuthorized, "", "only appointments are written")
	}
	var cur *memRecord
	if w.Op != wsp.Create {
		if cur = b.find(w.Service, w.Item, w.ID); cur == nil || cur.subject != w.Subject {
			return refuse(wsp.DoesNotExist, "", "no appointment "+w.ID)
		}
		if !w.NotChangedSince.IsZero() && cur.Modified.After(w.NotChangedSince) {
			return refuse(wsp.ModifiedSince, "", "changed at "+cur.Modified.String())
		}
	}
	var slot *memRecord
	if w.Op != wsp.Delete {
		if slot = b.find(dst.Appointment, "Slot", w.Values["Slot"]); slot == nil {
			return refuse(wsp.InvalidData, "", "no slot "+w.Values["Slot"])
		}
	}
	switch {
	case w.Op == wsp.Create:
		b.nextID++
		b.data[w.Service][w.Item] = append([]memRecord{{subject: w.Subject,
			Record: wsp.Record{ID: fmt.Sprintf("apt-%d", b.nextID), Values: map[string]any{"Status": "booked"}}}},
			b.data[w.Service][w.Item]...)
		cur = &b.data[w.Service][w.Item][0]
	case w.Op == wsp.Delete || cur.Values["Slot"] != slot.ID:
		b.find(dst.Appointment, "Slot", cur.Values["Slot"].(string)).Values["Remaining"] = b.remaining(cur.Values["Slot"].(string)) + 1
	default:
		slot = nil // the same slot: no place taken
	}
	if w.Op == wsp.Delete {
		b.data[w.Service][w.Item] = slices.DeleteFunc(b.data[w.Service][w.Item], func(r memRecord) bool { return r.ID == w.ID })
		return wsp.Record{ID: w.ID}, nil
	}
	if slot != nil {
		n := b.remaining(slot.ID)
		if n <= 0 {
			return refuse(wsp.InvalidData, wsp.SlotFull, "slot "+slot.ID+" is full")
		}
		slot.Values["Remaining"] = n - 1
		for _, f := range []string{"Department", "Doctor", "Start", "End"} {
			cur.Values[f] = slot.Values[f]
		}
		cur.Values["Slot"] = slot.ID
	}
	cur.Modified = w.Now
	return copyRecord(cur.Record), nil
}

func (b *memBackend) find(service, item, id string) *memRecord {
	rs := b.data[service][item]
	for i := range rs {
		if rs[i].ID == id {
			return &rs[i]
		}
	}
	return nil
}

func (b *memBackend) remaining(slot string) int64 {
	return b.find(dst.Appointment, "Slot", slot).Values["Remaining"].(int64)
}

// records returns the records of an item type of a subject ("" for all),
// as they stand.
func (b *memBackend) records(service, item, subject string) []wsp.Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []wsp.Record
	for _, r := range b.data[service][item] {
		if subject == "" || r.subject == subject {
			out = append(out, copyRecord(r.Record))
		}
	}
	return out
}

// slotRemaining returns the places left in a slot.
func (b *memBackend) slotRemaining(id string) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remaining(id)
}

func copyRecord(r wsp.Record) wsp.Record {
	r.Values = maps.Clone(r.Values)
	return r
}

func copyData(d map[string]map[string][]memRecord) map[string]map[string][]memRecord {
	out := map[string]map[string][]memRecord{}
	for svc, items := range d {
		out[svc] = map[string][]memRecord{}
		for it, rs := range items {
			for _, r := range rs {
				out[svc][it] = append(out[svc][it], memRecord{subject: r.subject, Record: copyRecord(r.Record)})
			}
		}
	}
	return out
}

// Times of the sample records.
var (
	jst = time.FixedZone("JST", 9*60*60)
	day = func(m, d int) time.Time { return time.Date(2026, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
)

const (
	hba1c = "3D045000001906202"
	ldl   = "3F077000002327101"
)

func lab(subject, id string, month int, code, name, value string, low, high any) memRecord {
	return memRecord{subject: subject, Record: wsp.Record{ID: id, Modified: day(month, 1).Add(time.Hour), Values: map[string]any{
		"Date": time.Date(2026, time.Month(month), 1, 9, 0, 0, 0, jst), "Code": code, "Name": name, "Value": value,
		"Unit": "%", "Low": low, "High": high, "Department": "内科"}}}
}

// newBackend returns the back office of the tests: patient A-0001 with
// five lab results, a prescription the mapping cannot represent (it lacks
// the drug), two check-ups (kept without history), an appointment on slot
// s1 and a pension record; patient B-0002 with a lab result and an
// appointment of their own; slots s1 (one place left), s2 (full) and s3.
func newBackend() *memBackend {
	slot := func(id, doctor string, start time.Time, capacity, remaining int64) memRecord {
		return memRecord{Record: wsp.Record{ID: id, Modified: day(11, 1), Values: map[string]any{"Department": "循環器内科",
			"Doctor": doctor, "Start": start, "End": start.Add(30 * time.Minute), "Capacity": capacity, "Remaining": remaining}}}
	}
	s1 := slot("s1", "佐藤", time.Date(2026, 12, 10, 9, 0, 0, 0, jst), 3, 1)
	return &memBackend{
		subjects:  map[string]bool{"A-0001": true, "B-0002": true},
		noHistory: map[string]bool{"Checkup": true},
		nextID:    2,
		data: map[string]map[string][]memRecord{
			dst.Clinical: {
				"LabResult": {
					lab("A-0001", "r5", 12, hba1c, "HbA1c", "5.9", 4.6, 6.2),
					lab("A-0001", "r4", 11, ldl, "LDLコレステロール", "128", int64(70), int64(139)),
					lab("A-0001", "r3", 10, hba1c, "HbA1c", "6.1", 4.6, 6.2),
					lab("B-0002", "r9", 10, hba1c, "HbA1c", "7.4", 4.6, 6.2),
					lab("A-0001", "r2", 9, "5A010000001930952", "尿蛋白", "(-)", nil, nil),
					lab("A-0001", "r1", 8, hba1c, "HbA1c", "6.3", 4.6, 6.2),
				},
				"Prescription": {{subject: "A-0001", Record: wsp.Record{ID: "p1", Values: map[string]any{
					"Date": "2026-12-01", "Dose": "1錠", "Days": int64(28)}}}},
			},
			dst.Checkup: {"Checkup": {
				{subject: "A-0001", Record: wsp.Record{ID: "k2", Values: map[string]any{"Date": "2026-06-01", "Kind": "特定健診", "HbA1c": 5.9}}},
				{subject: "A-0001", Record: wsp.Record{ID: "k1", Values: map[string]any{"Date": "2025-06-01", "Kind": "特定健診", "HbA1c": 6.0}}},
			}},
			dst.Appointment: {
				"Slot": {s1, slot("s2", "鈴木", time.Date(2026, 12, 10, 10, 0, 0, 0, jst), 1, 0),
					slot("s3", "高橋", time.Date(2026, 12, 11, 9, 0, 0, 0, jst), 3, 3)},
				"Appointment": {
					{subject: "A-0001", Record: wsp.Record{ID: "apt-1", Modified: day(12, 1), Values: map[string]any{"Slot": "s1",
						"Department": s1.Values["Department"], "Doctor": "佐藤", "Start": s1.Values["Start"], "End": s1.Values["End"], "Status": "booked"}}},
					{subject: "B-0002", Record: wsp.Record{ID: "apt-2", Modified: day(12, 2), Values: map[string]any{"Slot": "s1",
						"Department": s1.Values["Department"], "Doctor": "佐藤", "Start": s1.Values["Start"], "End": s1.Values["End"], "Status": "booked"}}},
				},
			},
			dst.Pension: {
				"Contribution": {{subject: "A-0001", Record: wsp.Record{ID: "c202611", Values: map[string]any{
					"Month": "2026-11", "Kind": "国民年金", "Amount": int64(17510), "Status": "paid"}}}},
				"Summary": {{subject: "A-0001", Record: wsp.Record{ID: "sum", Values: map[string]any{"Months": int64(420)}}}},
			},
		},
	}
}
