package sample

import (
	"embed"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// mappings are the mapping files Generate copies next to the data.
//
//go:embed mappings/*.json
var mappings embed.FS

// world is the whole sample before it is written: every institution's
// records in one neutral shape, which each back office's writer turns
// into its own tables.
type world struct {
	ref     time.Time // the reference day, 00:00 JST
	seed    uint64
	people  []*person
	hosp    map[byte]*hospital
	insurer *insurerData
	pension *PensionRecords
}

// person is a citizen with what was drawn for them.
type person struct {
	*citizen
	born      time.Time
	patientNo map[byte]string
	insured   *insured
	pensionNo string
	body      body
}

// build draws the whole sample from opt.
func build(opt Options) (*world, error) {
	w := &world{seed: opt.Seed, hosp: map[byte]*hospital{}}
	if w.seed == 0 {
		w.seed = DefaultSeed
	}
	if opt.Reference.IsZero() {
		w.ref = mustDay(DefaultReference)
	} else {
		y, m, d := opt.Reference.In(jst).Date()
		w.ref = time.Date(y, m, d, 0, 0, 0, 0, jst)
	}
	for i := range citizens {
		c := &citizens[i]
		p := &person{citizen: c, born: mustDay(c.birth), patientNo: map[byte]string{}}
		p.body = w.drawBody(p)
		w.people = append(w.people, p)
	}
	for _, id := range []byte{'A', 'B'} {
		h, err := w.buildHospital(id)
		if err != nil {
			return nil, err
		}
		w.hosp[id] = h
	}
	w.insurer = w.buildInsurer()
	w.pension = w.buildPension()
	return w, nil
}

// rand returns the random source of one part of the sample, independent
// of every other part: adding a person or a table leaves the rest as it
// was.
func (w *world) rand(label string, args ...any) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, label, args...)
	return rand.New(rand.NewPCG(w.seed, h.Sum64()))
}

// tables returns the tables of the SQL back office db, or nil.
func (w *world) tables(db string) []*table {
	switch db {
	case HospitalA:
		return w.hosp['A'].tablesA()
	case HospitalB:
		return w.hosp['B'].tablesB()
	case Insurer:
		return w.insurer.tables()
	}
	return nil
}

// institution returns the Manifest's entry of the institution key.
func (w *world) institution(key string) Institution {
	svcs := []string{dst.Clinical, dst.Checkup, dst.Appointment}
	switch key {
	case HospitalA, HospitalB:
		h := w.hosp['A']
		if key == HospitalB {
			h = w.hosp['B']
		}
		return Institution{Key: key, Name: h.name, NameEn: h.nameEn, Data: key + ".db", Mapping: key + ".json",
			Services: svcs, LastPlaceSlot: h.lastPlace.id, FullSlot: h.full.id, OpenSlot: h.open.id}
	case Insurer:
		return Institution{Key: key, Name: insurerName, NameEn: insurerNameEn, Data: key + ".db", Mapping: key + ".json",
			Services: []string{dst.Eligibility}}
	}
	return Institution{Key: Pension, Name: pensionName, NameEn: pensionNameEn, Data: PensionData, Mapping: PensionMapping,
		Services: []string{dst.Pension}}
}

// manifest returns the Manifest of w.
func (w *world) manifest() *Manifest {
	m := &Manifest{Reference: w.ref.Format(time.DateOnly)}
	for _, key := range []string{HospitalA, HospitalB, Insurer, Pension} {
		m.Institutions = append(m.Institutions, w.institution(key))
	}
	for _, p := range w.people {
		mp := Person{Key: p.key, Name: p.name, Kana: p.kana, BirthDate: p.birth, Sex: "male",
			Local: map[string]string{Insurer: p.insured.localID(), Pension: p.pensionNo}}
		if p.female {
			mp.Sex = "female"
		}
		if no := p.patientNo['A']; no != "" {
			mp.Local[HospitalA] = no
		}
		if no := p.patientNo['B']; no != "" {
			mp.Local[HospitalB] = no
		}
		m.People = append(m.People, mp)
	}
	return m
}

// mustDay parses a YYYY-MM-DD of the package's own tables as a JST day.
func mustDay(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, jst)
	if err != nil {
		panic("sample: " + err.Error())
	}
	return t
}

// age returns the age in whole years at t of someone born on born.
func age(born, t time.Time) int {
	a := t.Year() - born.Year()
	if t.Month() < born.Month() || (t.Month() == born.Month() && t.Day() < born.Day()) {
		a--
	}
	return a
}

// unique draws numbers from draw until one not in seen comes up.
func unique(seen map[string]bool, draw func() string) string {
	for {
		if s := draw(); !seen[s] {
			seen[s] = true
			return s
		}
	}
}

// utc writes t as UTC RFC 3339 text, the form of the back offices'
// modification times.
func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }
