package sample

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// slot is a half-hour outpatient slot of one doctor with its places.
type slot struct {
	id               string // A: 20261203-D01-1000; B: the waku number n
	n                int
	doc              *doctor
	start, end       time.Time
	capacity, booked int
}

// booking is a patient's booking of a slot: booked, visited (the slot is
// past and the patient came) or cancelled (not counted in the slot).
type booking struct {
	patient string
	slot    *slot
	at      time.Time
	status  string
	updated time.Time
}

// The booking states, as hospital A writes them and the mappings give
// Appointment Status.
const (
	booked    = "booked"
	visited   = "visited"
	cancelled = "cancelled"
)

// appointment is a booking of a sample citizen: with doctor, on the first
// day the doctor sees patients at or after after days from the reference
// date (the last one at or before it when after is negative, a past
// visit), at hhmm.
type appointment struct {
	person, doctor string
	after          int
	hhmm           string
}

var appointments = map[byte][]appointment{
	'A': {{"p01", "D01", 3, "0930"}, {"p01", "D01", -5, "1000"}, {"p10", "D01", 7, "1100"},
		{"p06", "D02", 8, "1400"}, {"p08", "D05", -2, "0900"}},
	'B': {{"p09", "1004", 4, "1000"}, {"p12", "1001", 2, "1130"}, {"p05", "1001", -3, "1030"},
		{"p03", "1001", 5, "0900"}, {"p12", "1001", -4, "0930"}},
}

// The window of slots, in days from the reference date.
const (
	slotsFrom = -7
	slotsTo   = 14 // exclusive
)

// book opens h's slots and books them: the sample citizens'
// appointments, the marked slots as the Manifest says, the rest by the
// hospital's other patients, fuller the nearer they are.
func (w *world) book(h *hospital) error {
	w.openSlots(h)
	first := h.doctors[0]
	var err error
	if h.lastPlace, err = h.find(first, w.workday(first, 2), "1000"); err != nil {
		return err
	}
	if h.full, err = h.find(first, w.workday(first, 1), "0900"); err != nil {
		return err
	}
	if h.open, err = h.find(first, w.workday(first, 9), "1500"); err != nil {
		return err
	}
	mine, err := w.appointments(h)
	if err != nil {
		return err
	}
	r := w.rand("bookings %c", h.id)
	for _, s := range h.slots {
		w.fill(h, s, mine[s], r)
	}
	slices.SortStableFunc(h.bookings, func(a, b *booking) int { return a.at.Compare(b.at) })
	return nil
}

// openSlots adds the slots of every doctor on the days they see patients:
// mornings 09:00 to 12:00, afternoons 14:00 to 16:00.
func (w *world) openSlots(h *hospital) {
	times := []string{"0900", "0930", "1000", "1030", "1100", "1130"}
	afternoon := []string{"1400", "1430", "1500", "1530"}
	for d := slotsFrom; d < slotsTo; d++ {
		day := w.ref.AddDate(0, 0, d)
		for _, doc := range h.doctors {
			if !slices.Contains(doc.days, day.Weekday()) {
				continue
			}
			ts := times
			if doc.afternoon {
				ts = append(slices.Clone(times), afternoon...)
			}
			for _, hhmm := range ts {
				start := at(day, hhmm)
				s := &slot{id: day.Format("20060102") + "-" + doc.code + "-" + hhmm, doc: doc,
					start: start, end: start.Add(30 * time.Minute), capacity: doc.capacity}
				if h.id == 'B' {
					s.n = 30001 + len(h.slots)
					s.id = strconv.Itoa(s.n)
				}
				h.slots = append(h.slots, s)
			}
		}
	}
}

// at returns the time hhmm on day.
func at(day time.Time, hhmm string) time.Time {
	hh, _ := strconv.Atoi(hhmm[:2])
	mm, _ := strconv.Atoi(hhmm[2:])
	return day.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
}

// workday returns the first day doc sees patients at or after after days
// from the reference date, or the last at or before it when after is
// negative.
func (w *world) workday(doc *doctor, after int) time.Time {
	step := 1
	if after < 0 {
		step = -1
	}
	d := w.ref.AddDate(0, 0, after)
	for !slices.Contains(doc.days, d.Weekday()) {
		d = d.AddDate(0, 0, step)
	}
	return d
}

// find returns doc's slot at hhmm on day.
func (h *hospital) find(doc *doctor, day time.Time, hhmm string) (*slot, error) {
	start := at(day, hhmm)
	for _, s := range h.slots {
		if s.doc == doc && s.start.Equal(start) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("sample: hospital %c: no slot of %s at %s", h.id, doc.code, start.Format(time.DateTime))
}

// appointments resolves the sample citizens' appointments at h to the
// patients booked in each slot.
func (w *world) appointments(h *hospital) (map[*slot][]string, error) {
	byKey := map[string]*person{}
	for _, p := range w.people {
		byKey[p.key] = p
	}
	mine := map[*slot][]string{}
	for _, a := range appointments[h.id] {
		doc := h.doctor(a.doctor)
		s, err := h.find(doc, w.workday(doc, a.after), a.hhmm)
		if err != nil {
			return nil, err
		}
		if s == h.lastPlace || s == h.full || s == h.open {
			return nil, fmt.Errorf("sample: hospital %c: %s's appointment falls on a marked slot %s", h.id, a.person, s.id)
		}
		no := byKey[a.person].patientNo[h.id]
		if no == "" {
			return nil, fmt.Errorf("sample: %s is no patient of hospital %c", a.person, h.id)
		}
		mine[s] = append(mine[s], no)
	}
	return mine, nil
}

// fill books slot s: first the sample citizens' own, then other patients
// up to the slot's target, and now and then a booking since cancelled.
func (w *world) fill(h *hospital, s *slot, mine []string, r *rand.Rand) {
	target := w.target(h, s, r)
	if len(mine) > target {
		target = len(mine)
	}
	taken := map[string]bool{}
	for _, no := range mine {
		w.addBooking(h, s, no, r, false)
		taken[no] = true
	}
	for s.booked < target {
		w.addBooking(h, s, h.other(r, taken), r, false)
	}
	if r.IntN(12) == 0 {
		w.addBooking(h, s, h.other(r, taken), r, true)
	}
}

// target is the number of places of s to book: nearly all of a past
// slot, fewer the further ahead, and the marked slots as marked.
func (w *world) target(h *hospital, s *slot, r *rand.Rand) int {
	switch s {
	case h.lastPlace:
		return s.capacity - 1
	case h.full:
		return s.capacity
	case h.open:
		return 0
	}
	ahead := s.start.Sub(w.ref).Hours() / 24
	if ahead < 0 {
		return s.capacity - r.IntN(2)
	}
	p, n := max(0.1, 0.85-0.06*ahead), 0
	for range s.capacity {
		if r.Float64() < p {
			n++
		}
	}
	return n
}

// other draws one of h's patients outside the sample not in taken.
func (h *hospital) other(r *rand.Rand, taken map[string]bool) string {
	for {
		p := h.patients[r.IntN(len(h.patients))]
		if !taken[p.no] && !h.sampled(p.no) {
			taken[p.no] = true
			return p.no
		}
	}
}

// sampled reports whether no is a sample citizen's patient number.
func (h *hospital) sampled(no string) bool { return h.sample[no] }

// addBooking books s for patient no: made up to twenty days before the
// slot and before the reference date, visited when the slot is past.
func (w *world) addBooking(h *hospital, s *slot, no string, r *rand.Rand, cancel bool) {
	b := &booking{patient: no, slot: s, status: booked}
	b.at = s.start.Add(-time.Duration(60+r.IntN(20*24*60)) * time.Minute)
	if !b.at.Before(w.ref) {
		b.at = w.ref.Add(-time.Duration(1+r.IntN(3*24*60)) * time.Minute)
	}
	b.updated = b.at
	switch {
	case cancel:
		b.status = cancelled
		end := s.start
		if w.ref.Before(end) {
			end = w.ref
		}
		if span := end.Sub(b.at); span > time.Minute {
			b.updated = b.at.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Second)
		}
	case s.start.Before(w.ref):
		b.status, b.updated = visited, s.start.Add(10*time.Minute)
	}
	if !cancel {
		s.booked++
	}
	h.bookings = append(h.bookings, b)
}
