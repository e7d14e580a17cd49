package sample

// The sample citizens: who they are, where they are patients, what they
// are treated for, how they are insured and their pension careers. The
// numbers they are known by at each institution are drawn by Generate
// from the seed; everything else is fixed here so that a reader of the
// portal's pages can tell one person from another.

// citizen is one person of the Manifest.
type citizen struct {
	key        string
	name, kana string // family name and given name, one space apart
	birth      string // YYYY-MM-DD
	female     bool
	cares      []care
	// checkups is the hospital ('A' or 'B') of the yearly check-ups, 0
	// for none; dock is the year of a 人間ドック instead.
	checkups byte
	dock     int
	// household > 0 shares an insured number with the household's other
	// members, told apart by branch.
	household   int
	insuredFrom string  // YYYY-MM-DD
	lostOn      string  // YYYY-MM-DD, the last day insured, "" when insured
	copayment   float64 // the share the patient pays
	career      []segment
}

// care is a course of treatment at one department of one hospital: the
// first visit from months before the reference month, then every months
// (0: an acute course of two visits two weeks apart), visits in all.
type care struct {
	hospital byte
	dept     string
	conds    []string
	from     int
	every    int
	visits   int
}

// segment is a stretch of the pension record, months inclusive; to ""
// runs to the record's last month. rem is the standard monthly
// remuneration at the start of an employee stretch; repaid is the day an
// exempt stretch was paid back (追納), turning it paid.
type segment struct {
	from, to string // YYYY-MM
	kind     string // national or employee
	status   string // paid, unpaid or exempt
	student  bool   // 学生納付特例: exempt months that count nothing towards the amount
	rem      int
	repaid   string // YYYY-MM-DD
}

func paid(from, to string) segment {
	return segment{from: from, to: to, kind: national, status: statusPaid}
}
func unpaid(from, to string) segment {
	return segment{from: from, to: to, kind: national, status: statusUnpaid}
}
func exempt(from, to string) segment {
	return segment{from: from, to: to, kind: national, status: statusExempt}
}
func student(from, to string) segment {
	return segment{from: from, to: to, kind: national, status: statusExempt, student: true}
}
func employed(from, to string, rem int) segment {
	return segment{from: from, to: to, kind: employee, status: statusPaid, rem: rem}
}

// The pension record's vocabulary (catalog: Contribution Kind and Status).
const (
	national     = "national"
	employee     = "employee"
	statusPaid   = "paid"
	statusUnpaid = "unpaid"
	statusExempt = "exempt"
)

// citizens are the people of the Manifest. Hospital A holds p01, p02,
// p04, p06, p08, p09, p10 and p12; hospital B p01, p03, p05, p06, p07,
// p09, p11 and p12: four at both, four at each one alone.
var citizens = []citizen{
	{key: "p01", name: "佐藤 健一", kana: "サトウ ケンイチ", birth: "1958-04-17",
		cares:    []care{{'A', "内科", []string{"htn", "dm2"}, 23, 2, 12}, {'B', "整形外科", []string{"ortho"}, 8, 0, 2}},
		checkups: 'A', household: 1, insuredFrom: "1995-04-01", copayment: 0.3,
		career: []segment{employed("1981-04", "1995-03", 200000), paid("1995-04", "2008-12"),
			unpaid("2009-01", "2009-06"), paid("2009-07", "2018-03")}},
	{key: "p02", name: "佐藤 和子", kana: "サトウ カズコ", birth: "1960-09-03", female: true,
		cares:    []care{{'A', "内科", []string{"dl"}, 22, 3, 8}, {'A', "整形外科", []string{"ortho"}, 14, 0, 2}},
		checkups: 'A', household: 1, insuredFrom: "1995-04-01", copayment: 0.3,
		career: []segment{employed("1983-04", "1989-03", 180000), paid("1989-04", "2020-08")}},
	{key: "p03", name: "鈴木 美咲", kana: "スズキ ミサキ", birth: "1991-02-28", female: true,
		cares:       []care{{'B', "内科", []string{"allergy"}, 21, 12, 2}},
		insuredFrom: "2020-04-01", copayment: 0.3,
		career: []segment{student("2011-02", "2013-03"), employed("2013-04", "2020-03", 210000),
			paid("2020-04", "2020-12"), unpaid("2021-01", "2021-03"), paid("2021-04", "")}},
	{key: "p04", name: "高橋 翔太", kana: "タカハシ ショウタ", birth: "2002-07-21",
		cares:       []care{{'A', "整形外科", []string{"ortho"}, 4, 0, 2}},
		insuredFrom: "2021-04-01", copayment: 0.3,
		career: []segment{student("2022-07", "2025-03"), paid("2025-04", "2025-07"),
			unpaid("2025-08", "2025-09"), paid("2025-10", "")}},
	{key: "p05", name: "田中 裕子", kana: "タナカ ユウコ", birth: "1975-11-30", female: true,
		cares:    []care{{'B', "内科", []string{"dl"}, 21, 3, 7}},
		checkups: 'B', insuredFrom: "2010-04-01", copayment: 0.3,
		career: []segment{paid("1995-11", "1998-03"), employed("1998-04", "2010-03", 230000), paid("2010-04", "")}},
	{key: "p06", name: "伊藤 誠", kana: "イトウ マコト", birth: "1954-01-09",
		cares: []care{{'A', "内科", []string{"ckd", "htn2", "gout"}, 23, 2, 12},
			{'B', "眼科", []string{"glaucoma"}, 18, 3, 6}},
		checkups: 'A', insuredFrom: "2014-01-10", copayment: 0.2,
		career: []segment{employed("1976-04", "2013-12", 190000)}},
	{key: "p07", name: "松本 さくら", kana: "マツモト サクラ", birth: "1998-04-02", female: true,
		cares:       []care{{'B', "内科", []string{"anemia", "gerd"}, 12, 2, 6}},
		insuredFrom: "2024-04-01", copayment: 0.3,
		career: []segment{student("2018-04", "2020-03"), employed("2020-04", "2024-03", 220000), paid("2024-04", "")}},
	{key: "p08", name: "山本 大輔", kana: "ヤマモト ダイスケ", birth: "1983-03-05",
		cares:    []care{{'A', "消化器内科", []string{"liver"}, 20, 3, 7}},
		checkups: 'A', insuredFrom: "2012-10-01", lostOn: "2026-09-30", copayment: 0.3,
		career: []segment{student("2003-03", "2005-03"), employed("2005-04", "2012-09", 240000),
			paid("2012-10", "2026-09"), employed("2026-10", "", 380000)}},
	{key: "p09", name: "中村 直美", kana: "ナカムラ ナオミ", birth: "1969-08-22", female: true,
		cares:    []care{{'B', "眼科", []string{"glaucoma"}, 23, 3, 8}, {'A', "内科", []string{"dl"}, 15, 3, 5}},
		checkups: 'B', insuredFrom: "2001-04-01", copayment: 0.3,
		career: []segment{paid("1989-08", "1992-03"), employed("1992-04", "2001-03", 200000),
			paid("2001-04", "2009-03"), exempt("2009-04", "2010-03"), paid("2010-04", "")}},
	{key: "p10", name: "小林 隆", kana: "コバヤシ タカシ", birth: "1955-12-01",
		cares:    []care{{'A', "内科", []string{"htn", "dl"}, 23, 2, 12}},
		checkups: 'A', insuredFrom: "1992-04-01", copayment: 0.3, // 現役並み所得: 0.3 past 70
		career: []segment{employed("1978-04", "1992-03", 210000), paid("1992-04", "2015-11")}},
	{key: "p11", name: "加藤 由美", kana: "カトウ ユミ", birth: "1987-06-11", female: true,
		cares:    []care{{'B', "内科", []string{"gerd"}, 6, 1, 3}},
		checkups: 'B', insuredFrom: "2020-01-01", copayment: 0.3,
		career: []segment{paid("2007-06", "2010-03"), employed("2010-04", "2019-12", 200000), paid("2020-01", "2020-04"),
			{from: "2020-05", to: "2020-12", kind: national, status: statusPaid, repaid: "2026-06-15"},
			exempt("2021-01", "2021-06"), paid("2021-07", "")}},
	{key: "p12", name: "吉田 拓也", kana: "ヨシダ タクヤ", birth: "1979-10-25",
		cares:    []care{{'A', "消化器内科", []string{"liver"}, 19, 3, 6}, {'B', "内科", []string{"dm", "htn"}, 22, 2, 11}},
		checkups: 'B', dock: 2025, insuredFrom: "2015-04-01", copayment: 0.3,
		career: []segment{paid("1999-10", "2002-03"), employed("2002-04", "2015-03", 250000),
			paid("2015-04", "2016-03"), unpaid("2016-04", "2016-09"), paid("2016-10", "")}},
}

// at reports whether c is a patient of hospital h.
func (c *citizen) at(h byte) bool {
	for _, cr := range c.cares {
		if cr.hospital == h {
			return true
		}
	}
	return c.checkups == h
}

// A name is a family name and a given name with their readings.
type name struct{ kanji, kana string }

// The name pools of the institutions' other patients and insured.
var (
	familyNames = []name{{"山口", "ヤマグチ"}, {"松井", "マツイ"}, {"井上", "イノウエ"}, {"木村", "キムラ"}, {"林", "ハヤシ"},
		{"清水", "シミズ"}, {"山崎", "ヤマザキ"}, {"森", "モリ"}, {"池田", "イケダ"}, {"橋本", "ハシモト"}, {"阿部", "アベ"},
		{"石川", "イシカワ"}, {"山下", "ヤマシタ"}, {"中島", "ナカジマ"}, {"石井", "イシイ"}, {"小川", "オガワ"}, {"前田", "マエダ"},
		{"岡田", "オカダ"}, {"長谷川", "ハセガワ"}, {"藤田", "フジタ"}, {"後藤", "ゴトウ"}, {"近藤", "コンドウ"}, {"村上", "ムラカミ"},
		{"遠藤", "エンドウ"}, {"青木", "アオキ"}, {"坂本", "サカモト"}, {"斉藤", "サイトウ"}, {"福田", "フクダ"}, {"太田", "オオタ"},
		{"西村", "ニシムラ"}}
	maleNames = []name{{"浩", "ヒロシ"}, {"誠", "マコト"}, {"健", "ケン"}, {"大輝", "ダイキ"}, {"翔", "ショウ"},
		{"健太", "ケンタ"}, {"達也", "タツヤ"}, {"和也", "カズヤ"}, {"剛", "ツヨシ"}, {"茂", "シゲル"}, {"博", "ヒロシ"},
		{"勇", "イサム"}, {"隆之", "タカユキ"}, {"直樹", "ナオキ"}, {"悠真", "ユウマ"}}
	femaleNames = []name{{"恵子", "ケイコ"}, {"陽子", "ヨウコ"}, {"美香", "ミカ"}, {"愛", "アイ"}, {"優子", "ユウコ"},
		{"真由美", "マユミ"}, {"幸子", "サチコ"}, {"結衣", "ユイ"}, {"彩", "アヤ"}, {"千尋", "チヒロ"}, {"京子", "キョウコ"},
		{"久美子", "クミコ"}, {"明美", "アケミ"}, {"舞", "マイ"}, {"美穂", "ミホ"}}
)
