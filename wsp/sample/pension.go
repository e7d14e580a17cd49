package sample

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// The pension service.
const (
	pensionName   = "日本年金機構"
	pensionNameEn = "Japan Pension Service"
)

// PensionRecords is the pension service's back office, the content of
// pension-data.json: each person's contribution record, newest month
// first, and its summary.
type PensionRecords struct {
	Persons []PensionPerson `json:"persons"`
}

// PensionPerson is one person's record under their basic pension number.
type PensionPerson struct {
	Number        string         `json:"number"` // 1234-567890
	Name          string         `json:"name"`
	Kana          string         `json:"kana"`
	BirthDate     string         `json:"birth_date"`
	Summary       PensionSummary `json:"summary"`
	Contributions []Contribution `json:"contributions"`
}

// PensionSummary sums a record up: Months is the qualifying period (paid
// and exempt months), ExpectedAnnual the old-age pension in yen a year
// from PensionAge on the record so far.
type PensionSummary struct {
	Months         int `json:"months"`
	PaidMonths     int `json:"paid_months"`
	ExemptMonths   int `json:"exempt_months"`
	ExpectedAnnual int `json:"expected_annual"`
	PensionAge     int `json:"pension_age"`
}

// Contribution is one month of the record: Kind national or employee,
// Status paid, unpaid or exempt, Amount the premium in yen (absent for an
// exempt month; for an employee the employee's half), UpdatedAt when the
// service last changed it (UTC RFC 3339).
type Contribution struct {
	ID        string `json:"id"`
	Month     string `json:"month"` // YYYY-MM
	Kind      string `json:"kind"`
	Amount    *int64 `json:"amount,omitempty"`
	Status    string `json:"status"`
	UpdatedAt string `json:"updated_at"`
}

// LoadPensionRecords reads pension-data.json.
func LoadPensionRecords(path string) (*PensionRecords, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d PensionRecords
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("sample: %s: %w", path, err)
	}
	return &d, nil
}

// Person returns the record of the basic pension number, or nil.
func (d *PensionRecords) Person(number string) *PensionPerson {
	for i := range d.Persons {
		if d.Persons[i].Number == number {
			return &d.Persons[i]
		}
	}
	return nil
}

func (d *PensionRecords) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// nationalPremium is the national pension's monthly premium in yen by
// fiscal year (April to March); the years before the first listed pay
// its amount, the years after the last pay the last.
var nationalPremium = map[int]int64{
	1974: 900, 1975: 1100, 1976: 1400, 1977: 2200, 1978: 2730, 1979: 3300, 1980: 3770, 1981: 4500,
	1982: 5220, 1983: 5830, 1984: 6220, 1985: 6740, 1986: 7100, 1987: 7400, 1988: 7700, 1989: 8000,
	1990: 8400, 1991: 9000, 1992: 9700, 1993: 10500, 1994: 11100, 1995: 11700, 1996: 12300, 1997: 12800,
	1998: 13300, 1999: 13300, 2000: 13300, 2001: 13300, 2002: 13300, 2003: 13300, 2004: 13300,
	2005: 13580, 2006: 13860, 2007: 14100, 2008: 14410, 2009: 14660, 2010: 15100, 2011: 15020,
	2012: 14980, 2013: 15040, 2014: 15250, 2015: 15590, 2016: 16260, 2017: 16490, 2018: 16340,
	2019: 16410, 2020: 16540, 2021: 16610, 2022: 16590, 2023: 16520, 2024: 16980, 2025: 17510, 2026: 17920,
}

// fiscalYear is the fiscal year of month m.
func fiscalYear(m time.Time) int {
	if m.Month() < time.April {
		return m.Year() - 1
	}
	return m.Year()
}

// premium is the national pension premium of month m.
func premium(m time.Time) int64 {
	fy := min(max(fiscalYear(m), 1974), 2026)
	return nationalPremium[fy]
}

// employeeRate is the employee pension's premium rate at month m in
// percent, shared half and half with the employer: stepped up each
// September from October 2004 until it reached 18.3% in 2017 (the
// earlier rates simplified).
func employeeRate(m time.Time) float64 {
	switch ym := m.Year()*100 + int(m.Month()); {
	case ym < 198510:
		return 10.6
	case ym < 199001:
		return 12.4
	case ym < 199411:
		return 14.5
	case ym < 199610:
		return 16.5
	case ym < 200304:
		return 17.35
	case ym < 200410:
		return 13.58
	}
	steps := m.Year() - 2004
	if m.Month() < time.September {
		steps--
	}
	return min(13.934+0.354*float64(steps), 18.3)
}

// The old-age pension's terms (simplified): the full basic pension for
// 480 months, a fully exempt month counting half (a third before April
// 2009), a student's deferred month nothing; the employee part 5.481/1000
// of the standard remuneration a month.
const (
	fullBasic     = 831700
	fullMonths    = 480
	employeeShare = 5.481 / 1000
	pensionAge    = 65
)

// buildPension draws the sample citizens' basic pension numbers and
// writes out their records month by month, up to two months before the
// reference date (the last month whose premium was due).
func (w *world) buildPension() *PensionRecords {
	r := w.rand("pension")
	seen := map[string]bool{}
	y, m, _ := w.ref.Date()
	last := time.Date(y, m-2, 1, 0, 0, 0, 0, jst)
	d := &PensionRecords{}
	for _, p := range w.people {
		p.pensionNo = unique(seen, func() string { return fmt.Sprintf("%04d-%06d", 1000+r.IntN(9000), r.IntN(1000000)) })
		d.Persons = append(d.Persons, record(p, last))
	}
	return d
}

// record writes out p's contribution record through month last.
func record(p *person, last time.Time) PensionPerson {
	pp := PensionPerson{Number: p.pensionNo, Name: p.name, Kana: p.kana, BirthDate: p.birth,
		Summary: PensionSummary{PensionAge: pensionAge}}
	from20 := month(p.born.AddDate(20, 0, 0))
	to60 := month(p.born.AddDate(60, 0, 0))
	var basic, employeePart float64
	for _, s := range p.career {
		to := last
		if s.to != "" {
			to = mustMonth(s.to)
		}
		rem := float64(s.rem)
		for m := mustMonth(s.from); !m.After(to); m = m.AddDate(0, 1, 0) {
			c := contribution(s, m, int64(math.Round(rem/1000))*1000)
			pp.Contributions = append(pp.Contributions, c)
			counted := !m.Before(from20) && m.Before(to60)
			switch {
			case c.Status == statusPaid:
				pp.Summary.PaidMonths++
				if counted {
					basic++
				}
			case c.Status == statusExempt:
				pp.Summary.ExemptMonths++
				if counted && !s.student {
					basic += exemptWeight(m)
				}
			}
			if s.kind == employee {
				employeePart += rem * employeeShare
				if m.Month() == time.April {
					rem = min(rem*1.03, 650000)
				}
			}
		}
	}
	pp.Summary.Months = pp.Summary.PaidMonths + pp.Summary.ExemptMonths
	pp.Summary.ExpectedAnnual = int(math.Round(fullBasic*min(basic, fullMonths)/fullMonths + employeePart))
	newestFirst(pp.Contributions)
	return pp
}

// exemptWeight is what a fully exempt month m counts towards the basic
// pension.
func exemptWeight(m time.Time) float64 {
	if m.Before(mustMonth("2009-04")) {
		return 1.0 / 3
	}
	return 0.5
}

// contribution is month m of segment s; rem is the standard monthly
// remuneration of an employee that month.
func contribution(s segment, m time.Time, rem int64) Contribution {
	c := Contribution{ID: m.Format("2006-01") + "-" + s.kind, Month: m.Format("2006-01"), Kind: s.kind, Status: s.status}
	due := m.AddDate(0, 2, -1).Add(10 * time.Hour) // the end of the next month
	amount := premium(m)
	if s.kind == employee {
		amount = int64(math.Round(float64(rem) * employeeRate(m) / 100 / 2))
	}
	switch s.status {
	case statusPaid:
		c.UpdatedAt = utc(due)
		if s.repaid != "" {
			c.UpdatedAt = utc(mustDay(s.repaid).Add(10 * time.Hour))
		}
	case statusUnpaid:
		c.UpdatedAt = utc(due.AddDate(0, 0, 1))
	case statusExempt:
		c.UpdatedAt = utc(mustMonth(s.from).AddDate(0, 2, 0).Add(10 * time.Hour))
		return c
	}
	c.Amount = &amount
	return c
}

// newestFirst sorts a record newest month first, as the office serves it.
func newestFirst(cs []Contribution) {
	slices.SortStableFunc(cs, func(a, b Contribution) int {
		return cmp.Or(strings.Compare(b.Month, a.Month), strings.Compare(a.Kind, b.Kind))
	})
}

// month returns the first day of t's month.
func month(t time.Time) time.Time {
	y, m, _ := t.Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, jst)
}

// mustMonth parses a YYYY-MM of the package's own tables.
func mustMonth(s string) time.Time { return mustDay(s + "-01") }
