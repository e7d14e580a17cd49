package sample

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// The municipal insurer. Its number is eight digits, the last a check
// digit (insurerCheckDigit); every insured person of a household shares
// the symbol and number and is told apart by the branch (枝番).
const (
	insurerName   = "港区国民健康保険"
	insurerNameEn = "Minato City National Health Insurance"
	insurerStem   = "1381030"
	insurerSymbol = "港国保"
)

// insurerNumber is the insurer's number with its check digit.
var insurerNumber = insurerStem + string(insurerCheckDigit(insurerStem))

// insurerCheckDigit is the check digit of an insurer number's other
// digits (保険者番号の検証番号): each digit times 2, 1, 2, ... from the
// last one, the digits of the products summed, and 10 less the sum's last
// digit (0 for 10).
func insurerCheckDigit(digits string) byte {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
		}
		sum += d/10 + d%10
	}
	return byte('0' + (10-sum%10)%10)
}

// InsurerLocalID is an insured person's local identifier at an insurer
// (ARCHITECTURE "The relay DB"): insurerNumber:symbol:number:branch, each
// part in Unicode Normalization Form C with ':' and '%' percent-escaped;
// anything else, kanji included, is left as it is.
func InsurerLocalID(insurerNumber, symbol, number, branch string) string {
	parts := []string{insurerNumber, symbol, number, branch}
	for i, p := range parts {
		p = norm.NFC.String(p)
		p = strings.ReplaceAll(p, "%", "%25")
		parts[i] = strings.ReplaceAll(p, ":", "%3A")
	}
	return strings.Join(parts, ":")
}

// insurerData is the insurer's register.
type insurerData struct {
	rows []*insured
}

// insured is one insured person.
type insured struct {
	id                     int
	symbol, number, branch string
	name, kana             string
	born                   time.Time
	female                 bool
	copayment              float64
	from, until            string // YYYY-MM-DD; until "" while insured
	updated                time.Time
}

func (i *insured) localID() string {
	return InsurerLocalID(insurerNumber, i.symbol, i.number, i.branch)
}

// The insurer's other insured persons, and how many of them have left.
const (
	otherInsured = 30
	otherLost    = 3
)

// buildInsurer draws the insurer's register: the sample citizens, their
// households sharing a number, and others.
func (w *world) buildInsurer() *insurerData {
	r := w.rand("insurer")
	seen := map[string]bool{}
	draw := func() string { return fmt.Sprintf("%07d", r.IntN(10000000)) }
	households := map[int]string{}
	branches := map[string]int{}
	d := &insurerData{}
	add := func(i *insured) {
		branches[i.number]++
		i.branch = fmt.Sprintf("%02d", branches[i.number])
		d.rows = append(d.rows, i)
	}
	for _, p := range w.people {
		number := households[p.household]
		if number == "" {
			number = unique(seen, draw)
			if p.household > 0 {
				households[p.household] = number
			}
		}
		i := &insured{symbol: insurerSymbol, number: number, name: p.name, kana: p.kana, born: p.born,
			female: p.female, copayment: p.copayment, from: p.insuredFrom, until: p.lostOn}
		i.updated = w.insuredUpdated(i)
		add(i)
		p.insured = i
	}
	for k := range otherInsured {
		n, born, female := someone(r, w.ref.Year()-74, w.ref.Year()-20)
		from := born.AddDate(20, 0, 0)
		if earliest := mustDay("2000-04-01"); from.Before(earliest) {
			from = earliest
		}
		from = from.AddDate(0, r.IntN(120), 0)
		if !from.Before(w.ref) {
			from = w.ref.AddDate(0, -1-r.IntN(6), 0)
		}
		i := &insured{symbol: insurerSymbol, number: unique(seen, draw), name: n.kanji, kana: n.kana, born: born,
			female: female, copayment: 0.3, from: from.Format(time.DateOnly)}
		if age(born, w.ref) >= 70 && r.IntN(4) > 0 {
			i.copayment = 0.2
		}
		if k < otherLost {
			i.until = w.ref.AddDate(0, -1-k*2, -1).Format(time.DateOnly)
		}
		i.updated = w.insuredUpdated(i)
		add(i)
	}
	slices.SortStableFunc(d.rows, func(a, b *insured) int {
		return strings.Compare(a.number+a.branch, b.number+b.branch)
	})
	for k, i := range d.rows {
		i.id = k + 1
	}
	return d
}

// insuredUpdated is when the insurer last changed i's entry: the
// qualification lost, the copayment changed at 70, or the entry made.
func (w *world) insuredUpdated(i *insured) time.Time {
	t := mustDay(i.from)
	if at70 := i.born.AddDate(70, 1, 1-i.born.Day()); i.copayment == 0.2 && at70.Before(w.ref) {
		t = at70
	}
	if i.until != "" {
		t = mustDay(i.until).AddDate(0, 0, 3)
	}
	return t.Add(10 * time.Hour)
}

// tables returns the insurer's tables.
func (d *insurerData) tables() []*table {
	head := &table{name: "insurer", cols: []column{
		{name: "insurer_number", decl: "TEXT PRIMARY KEY"},
		{name: "name", decl: "TEXT NOT NULL"},
		{name: "name_en", decl: "TEXT"},
	}, rows: [][]any{{insurerNumber, insurerName, insurerNameEn}}}
	t := &table{name: "insured", cols: []column{
		{name: "insured_id", decl: "INTEGER PRIMARY KEY"},
		{name: "symbol", decl: "TEXT NOT NULL"},
		{name: "number", decl: "TEXT NOT NULL"},
		{name: "branch", decl: "TEXT NOT NULL"},
		{name: "name_kanji", decl: "TEXT NOT NULL"},
		{name: "name_kana", decl: "TEXT NOT NULL"},
		{name: "birth_date", decl: "TEXT NOT NULL"},
		{name: "sex", decl: "INTEGER NOT NULL"},
		{name: "copayment", decl: "DOUBLE PRECISION NOT NULL"},
		{name: "valid_from", decl: "TEXT NOT NULL"},
		{name: "valid_until", decl: "TEXT"},
		{name: "lost", decl: "INTEGER NOT NULL CHECK (lost IN (0, 1))"},
		{name: "updated_at", decl: "TEXT NOT NULL"},
	}, indexes: []string{"CREATE UNIQUE INDEX insured_key ON insured (symbol, number, branch)"}}
	for _, i := range d.rows {
		lost := 0
		if i.until != "" {
			lost = 1
		}
		t.rows = append(t.rows, []any{i.id, i.symbol, i.number, i.branch, i.name, i.kana, i.born.Format(time.DateOnly),
			1 + sexIndex(i.female), i.copayment, i.from, orNull(i.until), lost, utc(i.updated)})
	}
	return []*table{head, t}
}
