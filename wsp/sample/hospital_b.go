package sample

import "time"

// Hospital B's back office: romanised Japanese names, department and
// doctor masters that records point into, dates as YYYYMMDD and times as
// HHMM in separate columns (JST), booking times in UTC (sample.go), sex as
// the JIS X 0303 code (1 male, 2 female), judgements and booking states
// as codes.

// Hospital B's codes.
const (
	hanteiNormal  = 1 // 異常なし
	hanteiWatch   = 2 // 要経過観察
	hanteiRefer   = 3 // 要精密検査
	joutaiBooked  = 1 // 予約
	joutaiVisited = 2 // 来院済
	joutaiCancel  = 9 // 取消
)

// tablesB returns hospital B's tables.
func (h *hospital) tablesB() []*table {
	return []*table{h.kanja(), h.ka(), h.ishi(), h.kensaKekka(), h.shohou(), h.kenshin(), h.waku(), h.yoyaku()}
}

// ymd and hm are hospital B's date and time columns.
func ymd(t time.Time) string { return t.In(jst).Format("20060102") }
func hm(t time.Time) string  { return t.In(jst).Format("1504") }

func (h *hospital) kanja() *table {
	t := &table{name: "kanja", cols: []column{
		{name: "kanja_id", decl: "TEXT PRIMARY KEY"},
		{name: "shimei", decl: "TEXT NOT NULL"},
		{name: "shimei_kana", decl: "TEXT NOT NULL"},
		{name: "seibetsu", decl: "INTEGER NOT NULL"},
		{name: "seinengappi", decl: "TEXT NOT NULL"},
	}}
	for _, p := range h.patients {
		t.rows = append(t.rows, []any{p.no, p.name, p.kana, 1 + sexIndex(p.female), ymd(p.born)})
	}
	return t
}

func (h *hospital) ka() *table {
	t := &table{name: "ka", cols: []column{
		{name: "ka_code", decl: "TEXT PRIMARY KEY"},
		{name: "ka_mei", decl: "TEXT NOT NULL"},
	}}
	for _, d := range h.doctors {
		if h.doctorOf(d.dept) == d {
			t.rows = append(t.rows, []any{d.deptCode, d.dept})
		}
	}
	return t
}

func (h *hospital) ishi() *table {
	t := &table{name: "ishi", cols: []column{
		{name: "ishi_code", decl: "TEXT PRIMARY KEY"},
		{name: "ishi_mei", decl: "TEXT NOT NULL"},
		{name: "ka_code", decl: "TEXT NOT NULL REFERENCES ka (ka_code)"},
	}}
	for _, d := range h.doctors {
		t.rows = append(t.rows, []any{d.code, d.name, d.deptCode})
	}
	return t
}

// deptCode returns the code of department name.
func (h *hospital) deptCode(name string) string { return h.doctorOf(name).deptCode }

func (h *hospital) kensaKekka() *table {
	t := &table{name: "kensa_kekka", cols: []column{
		{name: "id", decl: "INTEGER PRIMARY KEY"},
		{name: "kanja_id", decl: "TEXT NOT NULL REFERENCES kanja (kanja_id)"},
		{name: "kensa_bi", decl: "TEXT NOT NULL"},
		{name: "kensa_jikoku", decl: "TEXT NOT NULL"},
		{name: "koumoku_code", decl: "TEXT NOT NULL"},
		{name: "koumoku_mei", decl: "TEXT NOT NULL"},
		{name: "kekka_chi", decl: "TEXT NOT NULL"},
		{name: "tani", decl: "TEXT"},
		{name: "kijun_kagen", decl: "DOUBLE PRECISION"},
		{name: "kijun_jougen", decl: "DOUBLE PRECISION"},
		{name: "irai_ka", decl: "TEXT REFERENCES ka (ka_code)"},
		{name: "koushin_nichiji", decl: "TEXT NOT NULL"},
	}, indexes: []string{"CREATE INDEX kensa_kekka_kanja ON kensa_kekka (kanja_id, kensa_bi)"}}
	for _, l := range h.labs {
		sx := sexIndex(l.female)
		t.rows = append(t.rows, []any{l.id, l.patient, ymd(l.at), hm(l.at), l.test.code, l.test.nameB, l.value,
			orNull(l.test.unit), bound(l.test.low[sx]), bound(l.test.high[sx]), h.deptCode(l.dept), utc(l.updated)})
	}
	return t
}

func (h *hospital) shohou() *table {
	t := &table{name: "shohou", cols: []column{
		{name: "shohou_id", decl: "INTEGER PRIMARY KEY"},
		{name: "kanja_id", decl: "TEXT NOT NULL REFERENCES kanja (kanja_id)"},
		{name: "shohou_bi", decl: "TEXT NOT NULL"},
		{name: "yj_code", decl: "TEXT"},
		{name: "yakuhin_mei", decl: "TEXT NOT NULL"},
		{name: "ryou", decl: "TEXT NOT NULL"},
		{name: "youhou", decl: "TEXT"},
		{name: "nissuu", decl: "INTEGER"},
		{name: "ishi_code", decl: "TEXT REFERENCES ishi (ishi_code)"},
		{name: "koushin_nichiji", decl: "TEXT NOT NULL"},
	}, indexes: []string{"CREATE INDEX shohou_kanja ON shohou (kanja_id, shohou_bi)"}}
	for _, x := range h.rxs {
		t.rows = append(t.rows, []any{x.id, x.patient, ymd(x.on), x.drug.code, x.drug.name, x.drug.dose, x.drug.usage,
			orNullInt(x.days), x.doctor.code, utc(x.updated)})
	}
	return t
}

func (h *hospital) kenshin() *table {
	t := &table{name: "kenshin", cols: []column{
		{name: "kenshin_id", decl: "INTEGER PRIMARY KEY"},
		{name: "kanja_id", decl: "TEXT NOT NULL REFERENCES kanja (kanja_id)"},
		{name: "jushin_bi", decl: "TEXT NOT NULL"},
		{name: "shubetsu", decl: "TEXT NOT NULL"},
		{name: "shincho", decl: "DOUBLE PRECISION"},
		{name: "taiju", decl: "DOUBLE PRECISION"},
		{name: "bmi", decl: "DOUBLE PRECISION"},
		{name: "fukui", decl: "DOUBLE PRECISION"},
		{name: "ketsuatsu_ue", decl: "INTEGER"},
		{name: "ketsuatsu_shita", decl: "INTEGER"},
		{name: "hba1c", decl: "DOUBLE PRECISION"},
		{name: "ldl", decl: "INTEGER"},
		{name: "hantei", decl: "INTEGER"},
		{name: "shoken", decl: "TEXT"},
		{name: "koushin_nichiji", decl: "TEXT NOT NULL"},
	}}
	codes := map[string]int{"異常なし": hanteiNormal, "要経過観察": hanteiWatch, "要精密検査": hanteiRefer}
	for _, c := range h.checkups {
		t.rows = append(t.rows, []any{c.id, c.patient, ymd(c.on), c.kind, c.height, c.weight, c.bmi, c.waist,
			c.sys, c.dia, c.hba1c, c.ldl, codes[c.judgement], c.findings, utc(c.updated)})
	}
	return t
}

func (h *hospital) waku() *table {
	t := &table{name: "waku", cols: []column{
		{name: "waku_id", decl: "INTEGER PRIMARY KEY"},
		{name: "ishi_code", decl: "TEXT NOT NULL REFERENCES ishi (ishi_code)"},
		{name: "kaishi", decl: "TEXT NOT NULL"},
		{name: "shuryo", decl: "TEXT NOT NULL"},
		{name: "teiin", decl: "INTEGER NOT NULL"},
		{name: "yoyaku_su", decl: "INTEGER NOT NULL CHECK (yoyaku_su BETWEEN 0 AND teiin)"},
	}, indexes: []string{"CREATE INDEX waku_kaishi ON waku (kaishi)"}}
	for _, s := range h.slots {
		t.rows = append(t.rows, []any{s.n, s.doc.code, utc(s.start), utc(s.end), s.capacity, s.booked})
	}
	return t
}

func (h *hospital) yoyaku() *table {
	t := &table{name: "yoyaku", cols: []column{
		{name: "yoyaku_no", auto: true},
		{name: "kanja_id", decl: "TEXT NOT NULL REFERENCES kanja (kanja_id)"},
		{name: "waku_id", decl: "INTEGER NOT NULL REFERENCES waku (waku_id)"},
		{name: "uketsuke_nichiji", decl: "TEXT NOT NULL"},
		{name: "joutai", decl: "INTEGER NOT NULL"},
		{name: "koushin_nichiji", decl: "TEXT NOT NULL"},
	}, indexes: []string{"CREATE INDEX yoyaku_kanja ON yoyaku (kanja_id)"}}
	codes := map[string]int{booked: joutaiBooked, visited: joutaiVisited, cancelled: joutaiCancel}
	for _, b := range h.bookings {
		t.rows = append(t.rows, []any{b.patient, b.slot.n, utc(b.at), codes[b.status], utc(b.updated)})
	}
	return t
}
