package sample

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// hospital is one hospital's records in the neutral shape of world.
type hospital struct {
	id           byte
	name, nameEn string
	patients     []patient
	doctors      []*doctor
	labs         []lab
	rxs          []rx
	checkups     []checkup
	slots        []*slot
	bookings     []*booking
	sample       map[string]bool // the sample citizens' patient numbers
	// The marked slots of the Manifest.
	lastPlace, full, open *slot
}

// patient is a row of the hospital's patient register: the sample
// citizens and the hospital's other patients, who book slots too.
type patient struct {
	no, name, kana string
	born           time.Time
	female         bool
}

// doctor is an outpatient doctor: the weekdays they see patients, the
// places of each half-hour slot and whether they see patients in the
// afternoon too.
type doctor struct {
	code, name     string
	dept, deptCode string
	days           []time.Weekday
	capacity       int
	afternoon      bool
}

var (
	weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	monWedFr = []time.Weekday{time.Monday, time.Wednesday, time.Friday}
	tueThu   = []time.Weekday{time.Tuesday, time.Thursday}
)

// The institutions' names.
const (
	hospitalAName, hospitalANameEn = "東都中央病院", "Toto Central Hospital"
	hospitalBName, hospitalBNameEn = "港南記念病院", "Konan Memorial Hospital"
)

// doctorsOf returns hospital id's outpatient doctors, the first of each
// department first.
func doctorsOf(id byte) []*doctor {
	if id == 'A' {
		return []*doctor{
			{"D01", "山口 修", "内科", "", weekdays, 3, true},
			{"D02", "井上 真理子", "内科", "", monWedFr, 3, true},
			{"D03", "木村 浩二", "整形外科", "", tueThu, 2, false},
			{"D04", "清水 恵", "眼科", "", []time.Weekday{time.Monday, time.Thursday}, 2, false},
			{"D05", "森 健太郎", "消化器内科", "", []time.Weekday{time.Tuesday, time.Wednesday, time.Friday}, 2, false},
		}
	}
	return []*doctor{
		{"1001", "長谷川 聡", "内科", "01", weekdays, 3, true},
		{"1002", "藤田 晃", "循環器内科", "02", tueThu, 2, false},
		{"1003", "青木 亮", "整形外科", "03", monWedFr, 2, false},
		{"1004", "近藤 彩", "眼科", "04", []time.Weekday{time.Tuesday, time.Friday}, 2, false},
		{"1005", "坂本 美穂", "皮膚科", "05", []time.Weekday{time.Wednesday}, 2, false},
	}
}

// doctorOf returns the first doctor of dept.
func (h *hospital) doctorOf(dept string) *doctor {
	for _, d := range h.doctors {
		if d.dept == dept {
			return d
		}
	}
	panic(fmt.Sprintf("sample: hospital %c has no %s", h.id, dept))
}

// doctor returns the doctor code.
func (h *hospital) doctor(code string) *doctor {
	for _, d := range h.doctors {
		if d.code == code {
			return d
		}
	}
	panic(fmt.Sprintf("sample: hospital %c has no doctor %s", h.id, code))
}

// others is the number of each hospital's patients outside the sample.
const others = 40

// buildHospital draws hospital id: its patients, their records and its
// outpatient slots.
func (w *world) buildHospital(id byte) (*hospital, error) {
	h := &hospital{id: id, name: hospitalAName, nameEn: hospitalANameEn, doctors: doctorsOf(id), sample: map[string]bool{}}
	if id == 'B' {
		h.name, h.nameEn = hospitalBName, hospitalBNameEn
	}
	w.register(h)
	for pi, p := range w.people {
		if p.patientNo[id] == "" {
			continue
		}
		for ci, c := range p.cares {
			if c.hospital == id {
				w.treat(h, p, ci, c)
			}
		}
		if p.checkups == id {
			w.examine(h, p, pi)
		}
	}
	h.number()
	return h, w.book(h)
}

// register draws the patient numbers of the sample citizens at h and the
// hospital's other patients.
func (w *world) register(h *hospital) {
	r := w.rand("patients %c", h.id)
	seen := map[string]bool{}
	draw := func() string { return fmt.Sprintf("A-%06d", 100000+r.IntN(900000)) }
	if h.id == 'B' {
		draw = func() string { return fmt.Sprintf("2%07d", r.IntN(10000000)) }
	}
	for _, p := range w.people {
		if p.at(h.id) {
			p.patientNo[h.id] = unique(seen, draw)
			h.sample[p.patientNo[h.id]] = true
			h.patients = append(h.patients, patient{p.patientNo[h.id], p.name, p.kana, p.born, p.female})
		}
	}
	for range others {
		n, born, female := someone(r, 1944, 2005)
		h.patients = append(h.patients, patient{unique(seen, draw), n.kanji, n.kana, born, female})
	}
	slices.SortFunc(h.patients, func(a, b patient) int { return strings.Compare(a.no, b.no) })
}

// someone draws a name, a birth date between the years from and to, and a
// sex.
func someone(r *rand.Rand, from, to int) (name, time.Time, bool) {
	fam := familyNames[r.IntN(len(familyNames))]
	female := r.IntN(2) == 0
	given := maleNames
	if female {
		given = femaleNames
	}
	g := given[r.IntN(len(given))]
	born := time.Date(from+r.IntN(to-from+1), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, jst)
	return name{fam.kanji + " " + g.kanji, fam.kana + " " + g.kana}, born, female
}

// number sorts the hospital's records by time and numbers them, as the
// hospital's system did when it stored them.
func (h *hospital) number() {
	slices.SortStableFunc(h.labs, func(a, b lab) int { return a.at.Compare(b.at) })
	for i := range h.labs {
		h.labs[i].id = i + 1
	}
	slices.SortStableFunc(h.rxs, func(a, b rx) int { return a.on.Compare(b.on) })
	for i := range h.rxs {
		h.rxs[i].id = i + 1
	}
	slices.SortStableFunc(h.checkups, func(a, b checkup) int { return a.on.Compare(b.on) })
	for i := range h.checkups {
		h.checkups[i].id = i + 1
	}
}
