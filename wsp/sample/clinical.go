package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// labTest is one laboratory test as both hospitals report it. The
// reference ranges are JCCLS's common ones (LDL: the 特定健診 guidance
// limit), by sex: [male, female]; NaN for no limit.
type labTest struct {
	key          string
	code         string // JLAC10
	nameA, nameB string
	unit         string
	low, high    [2]float64
	mean, sd     [2]float64
	dec          int  // decimals reported
	qual         bool // qualitative: (-), (±), (1+) ...
}

var none = math.NaN()

// labTests are the tests, in the order a report lists them.
var labTests = []*labTest{
	{"ast", "3B035000002327201", "AST(GOT)", "GOT", "U/L", [2]float64{13, 13}, [2]float64{30, 30}, [2]float64{22, 20}, [2]float64{4, 4}, 0, false},
	{"alt", "3B045000002327201", "ALT(GPT)", "GPT", "U/L", [2]float64{10, 7}, [2]float64{42, 23}, [2]float64{22, 15}, [2]float64{5, 4}, 0, false},
	{"ggt", "3B090000002327101", "γ-GTP", "γ-GT", "U/L", [2]float64{13, 9}, [2]float64{64, 32}, [2]float64{35, 18}, [2]float64{6, 4}, 0, false},
	{"cre", "3C015000002327101", "クレアチニン", "CRE", "mg/dL", [2]float64{0.65, 0.46}, [2]float64{1.07, 0.79}, [2]float64{0.85, 0.62}, [2]float64{0.05, 0.04}, 2, false},
	{"egfr", "8A065000002391901", "eGFR", "推算GFR", "mL/min/1.73m2", [2]float64{60, 60}, [2]float64{none, none}, [2]float64{}, [2]float64{}, 1, false},
	{"ua", "3C020000002327101", "尿酸", "UA", "mg/dL", [2]float64{3.7, 2.6}, [2]float64{7.8, 5.5}, [2]float64{5.8, 4.3}, [2]float64{0.5, 0.4}, 1, false},
	{"wbc", "2A990000001930101", "白血球数", "WBC", "10^3/μL", [2]float64{3.3, 3.3}, [2]float64{8.6, 8.6}, [2]float64{5.8, 5.6}, [2]float64{0.9, 0.9}, 1, false},
	{"hb", "2A030000001930101", "ヘモグロビン", "Hb", "g/dL", [2]float64{13.7, 11.6}, [2]float64{16.8, 14.8}, [2]float64{15.0, 13.1}, [2]float64{0.5, 0.5}, 1, false},
	{"plt", "2A050000001930101", "血小板数", "PLT", "10^4/μL", [2]float64{15.8, 15.8}, [2]float64{34.8, 34.8}, [2]float64{24, 25}, [2]float64{3, 3}, 1, false},
	{"glu", "3D010000001926101", "空腹時血糖", "BS(空腹時)", "mg/dL", [2]float64{73, 73}, [2]float64{109, 109}, [2]float64{92, 90}, [2]float64{6, 6}, 0, false},
	{"hba1c", "3D046000001906202", "HbA1c(NGSP)", "HbA1c", "%", [2]float64{4.9, 4.9}, [2]float64{6.0, 6.0}, [2]float64{5.5, 5.4}, [2]float64{0.15, 0.15}, 1, false},
	{"ldl", "3F077000002327101", "LDLコレステロール", "LDL-C", "mg/dL", [2]float64{65, 65}, [2]float64{139, 139}, [2]float64{112, 108}, [2]float64{10, 10}, 0, false},
	{"hdl", "3F070000002327101", "HDLコレステロール", "HDL-C", "mg/dL", [2]float64{38, 48}, [2]float64{90, 103}, [2]float64{55, 66}, [2]float64{6, 6}, 0, false},
	{"tg", "3F015000002327101", "中性脂肪", "TG", "mg/dL", [2]float64{40, 30}, [2]float64{234, 117}, [2]float64{120, 85}, [2]float64{20, 15}, 0, false},
	{"crp", "5C070000002329001", "CRP", "CRP定量", "mg/dL", [2]float64{0, 0}, [2]float64{0.14, 0.14}, [2]float64{0.05, 0.05}, [2]float64{0.03, 0.03}, 2, false},
	{"upro", "1A010000000190111", "尿蛋白(定性)", "尿蛋白", "", [2]float64{none, none}, [2]float64{none, none}, [2]float64{}, [2]float64{}, 0, true},
}

// test returns the lab test key.
func test(key string) *labTest {
	for _, t := range labTests {
		if t.key == key {
			return t
		}
	}
	panic("sample: no lab test " + key)
}

// panels are the tests each condition orders besides internal, the panel
// of any internal medicine visit; ortho and allergy order theirs alone,
// glaucoma none.
var (
	internal = []string{"ast", "alt", "ggt", "cre", "egfr", "ua", "wbc", "hb", "plt"}
	panels   = map[string][]string{
		"htn": {"upro"}, "htn2": {"upro"}, "ckd": {"upro"},
		"dm": {"glu", "hba1c"}, "dm2": {"glu", "hba1c"},
		"dl": {"ldl", "hdl", "tg"},
	}
	ownPanels = map[string][]string{"ortho": {"wbc", "crp"}, "allergy": {"wbc", "hb", "plt", "crp"}, "glaucoma": {}}
)

// shifts move a test's mean for a condition, before treatment.
var shifts = map[string]map[string]float64{
	"dm":      {"glu": 45, "hba1c": 1.6},
	"dm2":     {"glu": 60, "hba1c": 2.1},
	"dl":      {"ldl": 58, "tg": 70, "hdl": -8},
	"liver":   {"ast": 18, "alt": 30, "ggt": 95},
	"ckd":     {"cre": 0.6, "hb": -1.0},
	"gout":    {"ua": 2.3},
	"anemia":  {"hb": -2.6},
	"allergy": {"wbc": 0.9},
}

// drug is one prescription line a condition brings.
type drug struct {
	code, name, dose, usage string // YJ code
	noDays                  bool   // eye drops and the like: a quantity, no days
}

var (
	amlodipine = drug{"2171022F1180", "アムロジピン錠5mg", "1錠", "1日1回朝食後", false}
	metformin  = drug{"3962002F2030", "メトホルミン塩酸塩錠250mgMT", "2錠", "1日2回朝夕食後", false}
	drugs      = map[string][]drug{
		"htn":     {amlodipine},
		"htn2":    {amlodipine, {"2149040F3070", "カンデサルタン錠8mg", "1錠", "1日1回朝食後", false}},
		"dm":      {metformin},
		"dm2":     {metformin, {"3969010F1026", "シタグリプチン錠50mg", "1錠", "1日1回朝食後", false}},
		"dl":      {{"2189017F1036", "ロスバスタチン錠2.5mg", "1錠", "1日1回夕食後", false}},
		"liver":   {{"2362001F1034", "ウルソデオキシコール酸錠100mg", "3錠", "1日3回毎食後", false}},
		"gout":    {{"3949003F1023", "フェブキソスタット錠20mg", "1錠", "1日1回朝食後", false}},
		"anemia":  {{"3222012F1030", "クエン酸第一鉄Na錠50mg", "2錠", "1日1回夕食後", false}},
		"gerd":    {{"2329023F2025", "ランソプラゾールOD錠15mg", "1錠", "1日1回朝食後", false}},
		"allergy": {{"4490026F2024", "モンテルカスト錠10mg", "1錠", "1日1回就寝前", false}},
		"ortho": {{"1149019F1560", "ロキソプロフェンNa錠60mg", "3錠", "1日3回毎食後", false},
			{"2329021F1218", "レバミピド錠100mg", "3錠", "1日3回毎食後", false},
			{"2649735S2039", "ロキソプロフェンNaテープ100mg", "14枚", "1日1回 患部に貼付", true}},
		"glaucoma": {{"1319760Q1065", "ラタノプロスト点眼液0.005%", "1本(2.5mL)", "1日1回 就寝前 両眼に点眼", true}},
	}
)

// body is a person's own levels: each test's offset from the population
// mean, height and the build and blood pressure of their check-ups.
type body struct {
	offset   map[string]float64
	height   float64
	bmi      float64
	sys, dia float64
	conds    map[string]bool
	sorted   []string // conds in order, for sums that come out the same every run
}

// drawBody draws p's levels; every hospital measures the same body.
func (w *world) drawBody(p *person) body {
	r := w.rand("body %s", p.key)
	b := body{offset: map[string]float64{}, conds: map[string]bool{}}
	for _, t := range labTests {
		b.offset[t.key] = r.NormFloat64() * t.sd[sexIndex(p.female)] * 0.5
	}
	for _, c := range p.cares {
		for _, cond := range c.conds {
			if !b.conds[cond] {
				b.conds[cond] = true
				b.sorted = append(b.sorted, cond)
			}
		}
	}
	slices.Sort(b.sorted)
	b.height = 170 + r.NormFloat64()*5
	b.bmi = 21.5 + r.NormFloat64()
	if p.female {
		b.height, b.bmi = 157+r.NormFloat64()*4, 20.8+r.NormFloat64()
	}
	b.sys, b.dia = 116+r.NormFloat64()*6, 72+r.NormFloat64()*4
	for _, c := range []string{"dm", "dm2", "dl", "liver", "htn", "htn2"} {
		if b.conds[c] {
			b.bmi += 1.6
		}
	}
	if b.conds["htn"] || b.conds["htn2"] {
		b.sys, b.dia = b.sys+24, b.dia+12
	}
	if a := age(p.born, w.ref); a > 50 {
		b.sys += float64(a-50) * 0.4
	}
	return b
}

// treated is how much of a condition's shift remains at t: treatment
// takes a third of it off over the two years before the reference date.
func (w *world) treated(t time.Time) float64 {
	months := w.ref.Sub(t).Hours() / 24 / 30.4
	return 1 - 0.35*(1-min(months, 24)/24)
}

// level draws the value of test key for p at t, unrounded.
func (w *world) level(p *person, key string, t time.Time, r *rand.Rand) float64 {
	lt, sx := test(key), sexIndex(p.female)
	v := lt.mean[sx] + p.body.offset[key] + r.NormFloat64()*lt.sd[sx]*0.6
	for _, cond := range p.body.sorted {
		v += shifts[cond][key] * w.treated(t)
	}
	return max(v, lt.mean[sx]*0.2)
}

// egfr is the Japanese Society of Nephrology's estimate from creatinine.
func egfr(cre float64, age int, female bool) float64 {
	v := 194 * math.Pow(cre, -1.094) * math.Pow(float64(age), -0.287)
	if female {
		v *= 0.739
	}
	return v
}

// format writes v with the test's decimals.
func (t *labTest) format(v float64) string { return strconv.FormatFloat(v, 'f', t.dec, 64) }

// bound returns the limit for sex, nil when there is none.
func bound(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

// lab is one laboratory result.
type lab struct {
	id      int
	patient string
	at      time.Time
	test    *labTest
	value   string
	dept    string
	updated time.Time
	female  bool
}

// rx is one prescription line.
type rx struct {
	id      int
	patient string
	on      time.Time
	drug    drug
	days    int // 0: none
	doctor  *doctor
	updated time.Time
}

// checkup is one yearly check-up.
type checkup struct {
	id                         int
	patient                    string
	on                         time.Time
	kind                       string
	height, weight, bmi, waist float64
	sys, dia                   int
	hba1c                      float64
	ldl                        int
	judgement, findings        string
	updated                    time.Time
}

// visits returns the days of care c before the reference date, each at a
// morning time in JST.
func (w *world) visits(c care, r *rand.Rand) []time.Time {
	y, m, _ := w.ref.Date()
	first := time.Date(y, m-time.Month(c.from), 1, 0, 0, 0, 0, jst)
	var days []time.Time
	for i := range c.visits {
		d := first.AddDate(0, i*c.every, r.IntN(26))
		if c.every == 0 {
			d = first.AddDate(0, 0, r.IntN(12)+14*i)
		}
		d = weekday(d).Add(9*time.Hour + time.Duration(r.IntN(10))*15*time.Minute)
		if !d.Before(w.ref) {
			break
		}
		days = append(days, d)
	}
	return days
}

// weekday returns d, or the Monday after when d falls on a weekend.
func weekday(d time.Time) time.Time {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDate(0, 0, 2)
	case time.Sunday:
		return d.AddDate(0, 0, 1)
	}
	return d
}

// panel returns the tests a visit of care c orders, in report order.
func panel(c care, first bool) []*labTest {
	keys := map[string]bool{}
	for _, cond := range c.conds {
		own, ok := ownPanels[cond]
		if !ok {
			own = append(slices.Clone(internal), panels[cond]...)
		}
		if cond == "ortho" && !first {
			continue
		}
		for _, k := range own {
			keys[k] = true
		}
	}
	var out []*labTest
	for _, t := range labTests {
		if keys[t.key] {
			out = append(out, t)
		}
	}
	return out
}

// treat adds p's results and prescriptions of care c at h.
func (w *world) treat(h *hospital, p *person, ci int, c care) {
	r := w.rand("care %c %s %d", h.id, p.key, ci)
	doc := h.doctorOf(c.dept)
	no := p.patientNo[h.id]
	for i, at := range w.visits(c, r) {
		for _, t := range panel(c, i == 0) {
			h.labs = append(h.labs, lab{patient: no, at: at, test: t, value: w.result(p, t, at, c, r),
				dept: c.dept, updated: at.Add(2*time.Hour + time.Duration(r.IntN(90))*time.Minute), female: p.female})
		}
		for _, cond := range c.conds {
			for _, d := range drugs[cond] {
				h.rxs = append(h.rxs, rx{patient: no, on: at, drug: d, days: days(c, d), doctor: doc,
					updated: at.Add(40*time.Minute + time.Duration(r.IntN(30))*time.Minute)})
			}
		}
	}
}

// result draws the value of test t for p at a visit of care c.
func (w *world) result(p *person, t *labTest, at time.Time, c care, r *rand.Rand) string {
	switch t.key {
	case "egfr":
		return t.format(egfr(w.level(p, "cre", at, r), age(p.born, at), p.female))
	case "upro":
		return proteinuria(p.body.conds, r)
	case "crp":
		if slices.Contains(c.conds, "ortho") {
			return t.format(0.3 + r.Float64()*0.8)
		}
	}
	return t.format(w.level(p, t.key, at, r))
}

// proteinuria draws a qualitative urine protein.
func proteinuria(conds map[string]bool, r *rand.Rand) string {
	x := r.Float64()
	switch {
	case conds["ckd"] && x < 0.6:
		return "(1+)"
	case conds["ckd"] && x < 0.75:
		return "(2+)"
	case conds["ckd"], (conds["htn"] || conds["htn2"]) && x < 0.2:
		return "(±)"
	}
	return "(-)"
}

// days is the supply of drug d at a visit of care c: to the next visit
// (in 28-day weeks, at most 84), a week for an acute course, a month for
// a seasonal one.
func days(c care, d drug) int {
	switch {
	case d.noDays:
		return 0
	case c.every == 0:
		return 7
	case c.every >= 6:
		return 30
	}
	return min(28*c.every, 84)
}

// examine adds p's yearly check-ups at h over the three years to the
// reference date, each finished (its results recorded two weeks after)
// before it.
func (w *world) examine(h *hospital, p *person, pi int) {
	r := w.rand("checkup %c %s", h.id, p.key)
	no := p.patientNo[h.id]
	for y := w.ref.Year() - 2; y <= w.ref.Year(); y++ {
		on := weekday(time.Date(y, time.Month(6+(pi+y)%5), 5+r.IntN(20), 0, 0, 0, 0, jst))
		done := on.Add(14*24*time.Hour + 15*time.Hour)
		if !done.Before(w.ref) {
			continue
		}
		h.checkups = append(h.checkups, w.checkup(p, no, on, done, y, r))
	}
}

// checkup draws one check-up of p on day on.
func (w *world) checkup(p *person, no string, on, done time.Time, year int, r *rand.Rand) checkup {
	b := p.body
	height := round1(b.height + r.NormFloat64()*0.2)
	weight := round1(b.bmi*height*height/10000 + r.NormFloat64()*0.8)
	bmi := round1(weight / (height * height / 10000))
	waist := round1(3.1*bmi + 12 + r.NormFloat64()*1.5)
	if p.female {
		waist = round1(3.0*bmi + 14 + r.NormFloat64()*1.5)
	}
	c := checkup{patient: no, on: on, kind: "特定健診", height: height, weight: weight, bmi: bmi, waist: waist,
		sys: int(math.Round(b.sys + r.NormFloat64()*6)), dia: int(math.Round(b.dia + r.NormFloat64()*4)),
		hba1c: round1(w.level(p, "hba1c", on, r)), ldl: int(math.Round(w.level(p, "ldl", on, r))), updated: done}
	switch a := age(p.born, on); {
	case p.dock == year:
		c.kind = "人間ドック"
	case a < 40 || a > 74:
		c.kind = "一般健診"
	}
	c.judgement, c.findings = judge(c, p.female)
	return c
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// judge returns a check-up's judgement and findings by the 特定健診
// limits: a value past the referral limit (受診勧奨判定値) asks for a
// closer examination, one past the guidance limit (保健指導判定値) for
// follow-up.
func judge(c checkup, female bool) (string, string) {
	waistLimit := 85.0
	if female {
		waistLimit = 90
	}
	var refer, watch []string
	check := func(what string, guidance, referral bool) {
		switch {
		case referral:
			refer = append(refer, what)
		case guidance:
			watch = append(watch, what)
		}
	}
	check("血圧高値", c.sys >= 130 || c.dia >= 85, c.sys >= 140 || c.dia >= 90)
	check("血糖高値", c.hba1c >= 5.6, c.hba1c >= 6.5)
	check("LDLコレステロール高値", c.ldl >= 120, c.ldl >= 140)
	check("肥満", c.bmi >= 25, false)
	check("腹囲超過", c.waist >= waistLimit, false)
	switch {
	case len(refer) > 0:
		return "要精密検査", strings.Join(append(refer, watch...), "、") + "。医療機関を受診してください。"
	case len(watch) > 0:
		return "要経過観察", strings.Join(watch, "、") + "。生活習慣の改善をお勧めします。"
	}
	return "異常なし", "特記事項なし。"
}
