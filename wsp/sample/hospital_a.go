package sample

import "time"

// Hospital A's back office: English names, ISO 8601 dates, clinical times
// with the JST offset, booking times in UTC (sample.go), sex as M or F.

// tablesA returns hospital A's tables.
func (h *hospital) tablesA() []*table {
	return []*table{h.patientsA(), h.labsA(), h.rxsA(), h.checkupsA(), h.slotsA(), h.bookingsA()}
}

func (h *hospital) patientsA() *table {
	t := &table{name: "patients", cols: []column{
		{name: "patient_no", decl: "TEXT PRIMARY KEY"},
		{name: "name_kanji", decl: "TEXT NOT NULL"},
		{name: "name_kana", decl: "TEXT NOT NULL"},
		{name: "birth_date", decl: "TEXT NOT NULL"},
		{name: "sex", decl: "TEXT NOT NULL CHECK (sex IN ('M', 'F'))"},
	}}
	for _, p := range h.patients {
		sex := "M"
		if p.female {
			sex = "F"
		}
		t.rows = append(t.rows, []any{p.no, p.name, p.kana, p.born.Format(time.DateOnly), sex})
	}
	return t
}

func (h *hospital) labsA() *table {
	t := &table{name: "lab_results", cols: []column{
		{name: "result_id", decl: "INTEGER PRIMARY KEY"},
		{name: "patient_no", decl: "TEXT NOT NULL REFERENCES patients (patient_no)"},
		{name: "collected_at", decl: "TEXT NOT NULL"},
		{name: "jlac10", decl: "TEXT NOT NULL"},
		{name: "test_name", decl: "TEXT NOT NULL"},
		{name: "value", decl: "TEXT NOT NULL"},
		{name: "unit", decl: "TEXT"},
		{name: "ref_low", decl: "DOUBLE PRECISION"},
		{name: "ref_high", decl: "DOUBLE PRECISION"},
		{name: "dept", decl: "TEXT"},
		{name: "updated_at", decl: "TEXT NOT NULL"},
	}, indexes: []string{"CREATE INDEX lab_results_patient ON lab_results (patient_no, collected_at)"}}
	for _, l := range h.labs {
		sx := sexIndex(l.female)
		t.rows = append(t.rows, []any{l.id, l.patient, l.at.Format(time.RFC3339), l.test.code, l.test.nameA, l.value,
			orNull(l.test.unit), bound(l.test.low[sx]), bound(l.test.high[sx]), l.dept, utc(l.updated)})
	}
	return t
}

func (h *hospital) rxsA() *table {
	t := &table{name: "prescriptions", cols: []column{
		{name: "rx_id", decl: "INTEGER PRIMARY KEY"},
		{name: "patient_no", decl: "TEXT NOT NULL REFERENCES patients (patient_no)"},
		{name: "prescribed_on", decl: "TEXT NOT NULL"},
		{name: "yj_code", decl: "TEXT"},
		{name: "drug_name", decl: "TEXT NOT NULL"},
		{name: "dose", decl: "TEXT NOT NULL"},
		{name: "usage", decl: "TEXT"},
		{name: "days", decl: "INTEGER"},
		{name: "prescriber", decl: "TEXT"},
		{name: "dept", decl: "TEXT"},
		{name: "updated_at", decl: "TEXT NOT NULL"},
	}, indexes: []string{"CREATE INDEX prescriptions_patient ON prescriptions (patient_no, prescribed_on)"}}
	for _, x := range h.rxs {
		t.rows = append(t.rows, []any{x.id, x.patient, x.on.Format(time.DateOnly), x.drug.code, x.drug.name,
			x.drug.dose, x.drug.usage, orNullInt(x.days), x.doctor.name, x.doctor.dept, utc(x.updated)})
	}
	return t
}

func (h *hospital) checkupsA() *table {
	t := &table{name: "checkups", cols: []column{
		{name: "checkup_id", decl: "INTEGER PRIMARY KEY"},
		{name: "patient_no", decl: "TEXT NOT NULL REFERENCES patients (patient_no)"},
		{name: "exam_date", decl: "TEXT NOT NULL"},
		{name: "kind", decl: "TEXT NOT NULL"},
		{name: "height_cm", decl: "DOUBLE PRECISION"},
		{name: "weight_kg", decl: "DOUBLE PRECISION"},
		{name: "bmi", decl: "DOUBLE PRECISION"},
		{name: "waist_cm", decl: "DOUBLE PRECISION"},
		{name: "bp_systolic", decl: "INTEGER"},
		{name: "bp_diastolic", decl: "INTEGER"},
		{name: "hba1c", decl: "DOUBLE PRECISION"},
		{name: "ldl", decl: "INTEGER"},
		{name: "judgement", decl: "TEXT"},
		{name: "findings", decl: "TEXT"},
		{name: "updated_at", decl: "TEXT NOT NULL"},
	}, indexes: []string{"CREATE INDEX checkups_patient ON checkups (patient_no, exam_date)"}}
	for _, c := range h.checkups {
		t.rows = append(t.rows, []any{c.id, c.patient, c.on.Format(time.DateOnly), c.kind, c.height, c.weight, c.bmi,
			c.waist, c.sys, c.dia, c.hba1c, c.ldl, c.judgement, c.findings, utc(c.updated)})
	}
	return t
}

func (h *hospital) slotsA() *table {
	t := &table{name: "slots", cols: []column{
		{name: "slot_id", decl: "TEXT PRIMARY KEY"},
		{name: "dept", decl: "TEXT NOT NULL"},
		{name: "doctor", decl: "TEXT NOT NULL"},
		{name: "starts_at", decl: "TEXT NOT NULL"},
		{name: "ends_at", decl: "TEXT NOT NULL"},
		{name: "capacity", decl: "INTEGER NOT NULL"},
		{name: "booked", decl: "INTEGER NOT NULL CHECK (booked BETWEEN 0 AND capacity)"},
	}, indexes: []string{"CREATE INDEX slots_start ON slots (starts_at)"}}
	for _, s := range h.slots {
		t.rows = append(t.rows, []any{s.id, s.doc.dept, s.doc.name, utc(s.start), utc(s.end), s.capacity, s.booked})
	}
	return t
}

func (h *hospital) bookingsA() *table {
	t := &table{name: "bookings", cols: []column{
		{name: "booking_id", auto: true},
		{name: "patient_no", decl: "TEXT NOT NULL REFERENCES patients (patient_no)"},
		{name: "slot_id", decl: "TEXT NOT NULL REFERENCES slots (slot_id)"},
		{name: "booked_at", decl: "TEXT NOT NULL"},
		{name: "status", decl: "TEXT NOT NULL CHECK (status IN ('booked', 'visited', 'cancelled'))"},
		{name: "updated_at", decl: "TEXT NOT NULL"},
	}, indexes: []string{"CREATE INDEX bookings_patient ON bookings (patient_no)"}}
	for _, b := range h.bookings {
		t.rows = append(t.rows, []any{b.patient, b.slot.id, utc(b.at), b.status, utc(b.updated)})
	}
	return t
}

// sexIndex is the index of a sex in the labTest arrays.
func sexIndex(female bool) int {
	if female {
		return 1
	}
	return 0
}

// orNull is s, or NULL when it is empty.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// orNullInt is n, or NULL when it is zero.
func orNullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
