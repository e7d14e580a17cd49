// Package sample generates the sample institutions of the federation: two
// hospitals, the municipal insurer and the pension service, each a back
// office of its own shape that a WSP reaches through an adapter driven by
// a mapping file, never by Go code per institution. Generate writes the
// back offices, their mapping files and a Manifest of the people, all
// drawn from a fixed seed: the same bytes on every run.
//
// The back offices:
//
//   - hospital-a.db, 東都中央病院 (Toto Central Hospital): tables patients,
//     lab_results, prescriptions, checkups, slots and bookings; clinical
//     times as ISO 8601 text with the JST offset (2026-03-14T09:30:00+09:00).
//   - hospital-b.db, 港南記念病院 (Konan Memorial Hospital): the same kinds
//     of data shaped otherwise (kanja, kensa_kekka, shohou, kenshin, waku,
//     yoyaku, with the department and doctor masters ka and ishi); dates as
//     YYYYMMDD and times as HHMM in separate columns, sex, judgements and
//     booking states as codes. Its mapping file turns them into the
//     catalog's fields in SQL that SQLite and PostgreSQL both run.
//   - insurer.db, 港区国民健康保険: tables insurer (its one row) and insured.
//     Its mapping finds a subject by concatenating
//     insurerNumber:symbol:number:branch, which equals InsurerLocalID
//     because no symbol holds ':' or '%'.
//   - pension-data.json, served read-only over REST by PensionOffice.
//
// Columns that a mapping compares with the request time (:now), and every
// modification time, hold UTC RFC 3339 text (2026-03-14T00:30:00Z), the
// form the adapters give :now in: text comparison of ISO 8601 is
// chronological only within one offset. So the booking systems of both
// hospitals keep their slot and booking times in UTC. A booking is
// booked, visited or cancelled; cancelling keeps the row, and the
// mappings leave cancelled bookings out.
//
// The mapping files are hospital-a.json, hospital-b.json and insurer.json
// in the SQL adapter's format (wsp/sqlmap), their DSNs file names
// relative to the directory Generate writes.
//
// GenerateSQL writes the same tables and rows as an SQL script for SQLite
// or PostgreSQL.
package sample

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Options tune Generate. The zero value is the sample every test and the
// demo share.
type Options struct {
	// Reference is "today" for the sample: results, prescriptions and
	// check-ups lie before it, outpatient slots run from a week before it
	// to two weeks after. Only its date in JST counts. Zero means
	// 2026-12-01.
	Reference time.Time
	// Seed draws the identifiers and measurements; zero means the
	// default seed.
	Seed uint64
}

// The defaults of Options.
const (
	DefaultReference = "2026-12-01"
	DefaultSeed      = 20261201
)

// DefaultPensionBase is the base URL pension-mapping.json names: where the
// demo serves PensionOffice. Tests override Mapping.Base.
const DefaultPensionBase = "http://127.0.0.1:8090"

// The institution keys: the Manifest's keys of Person.Local, and the stems
// of the files Generate writes.
const (
	HospitalA = "hospital-a"
	HospitalB = "hospital-b"
	Insurer   = "insurer"
	Pension   = "pension"
)

// The files Generate writes besides the SQLite databases (KEY.db) and SQL
// mappings (KEY.json).
const (
	PensionData    = "pension-data.json"
	PensionMapping = "pension-mapping.json"
	ManifestFile   = "manifest.json"
)

// jst is Japan Standard Time, without tzdata.
var jst = time.FixedZone("JST", 9*60*60)

// Manifest lists what Generate wrote and the people in it: tests and the
// demo link each person to their local identifier at each institution.
type Manifest struct {
	Reference    string        `json:"reference"` // YYYY-MM-DD
	Institutions []Institution `json:"institutions"`
	People       []Person      `json:"people"`
}

// Institution is one generated back office.
type Institution struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	NameEn string `json:"name_en"`
	// Data and Mapping are file names in the generated directory.
	Data     string   `json:"data"`
	Mapping  string   `json:"mapping"`
	Services []string `json:"services"`
	// A hospital's marked outpatient slots (Slot item IDs), after the
	// reference date and with the first internal medicine doctor:
	// LastPlaceSlot has exactly one place left, FullSlot none,
	// OpenSlot all of them.
	LastPlaceSlot string `json:"last_place_slot,omitempty"`
	FullSlot      string `json:"full_slot,omitempty"`
	OpenSlot      string `json:"open_slot,omitempty"`
}

// Person is one citizen of the sample.
type Person struct {
	Key       string `json:"key"`  // p01 ...
	Name      string `json:"name"` // 姓 名
	Kana      string `json:"kana"` // セイ メイ
	BirthDate string `json:"birth_date"`
	Sex       string `json:"sex"` // female or male
	// Local is the person's local identifier at each institution they are
	// known to, by institution key: the patient number at a hospital,
	// insurerNumber:symbol:number:branch at the insurer (InsurerLocalID),
	// the basic pension number at the pension service.
	Local map[string]string `json:"local"`
}

// Institution returns the institution key, or nil.
func (m *Manifest) Institution(key string) *Institution {
	for i := range m.Institutions {
		if m.Institutions[i].Key == key {
			return &m.Institutions[i]
		}
	}
	return nil
}

// Person returns the person key, or nil.
func (m *Manifest) Person(key string) *Person {
	for i := range m.People {
		if m.People[i].Key == key {
			return &m.People[i]
		}
	}
	return nil
}

// Marshal returns the manifest as indented JSON.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Write writes the manifest to path as indented JSON.
func (m *Manifest) Write(path string) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// ReadManifest reads a manifest Write wrote.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("sample: %s: %w", path, err)
	}
	return &m, nil
}

// Generate writes the sample institutions into dir, which must exist:
// the SQLite databases, the pension data, the mapping files and
// manifest.json, replacing files of those names. It returns the manifest.
func Generate(dir string, opt Options) (*Manifest, error) {
	w, err := build(opt)
	if err != nil {
		return nil, err
	}
	for _, db := range []string{HospitalA, HospitalB, Insurer} {
		if err := writeSQLite(filepath.Join(dir, db+".db"), statements(SQLite, w.tables(db))); err != nil {
			return nil, err
		}
	}
	files := map[string][]byte{}
	if files[PensionData], err = w.pension.marshal(); err != nil {
		return nil, err
	}
	for _, name := range []string{HospitalA + ".json", HospitalB + ".json", Insurer + ".json", PensionMapping} {
		if files[name], err = mappings.ReadFile("mappings/" + name); err != nil {
			return nil, err
		}
	}
	m := w.manifest()
	if files[ManifestFile], err = m.Marshal(); err != nil {
		return nil, err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// GenerateSQL returns the back office db (HospitalA, HospitalB or
// Insurer) as an SQL script in dialect d: its tables, indexes and rows,
// the same as Generate writes into db.db.
func GenerateSQL(db string, d Dialect, opt Options) (string, error) {
	if d != SQLite && d != PostgreSQL {
		return "", fmt.Errorf("sample: unknown %v", d)
	}
	w, err := build(opt)
	if err != nil {
		return "", err
	}
	ts := w.tables(db)
	if ts == nil {
		return "", fmt.Errorf("sample: no SQL back office %q", db)
	}
	in := w.institution(db)
	header := fmt.Sprintf("%s (%s), the sample back office of Renkei for %v.\nReference date %s; generated by wsp/sample.GenerateSQL.",
		in.Name, in.NameEn, d, w.ref.Format(time.DateOnly))
	return script(header, statements(d, ts)), nil
}
