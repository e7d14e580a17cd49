package terminal

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// staffKit is a Desk whose screen the test sets, behind the staff page.
type staffKit struct {
	t     *testing.T
	desk  *Desk
	staff *Staff
	srv   *httptest.Server
	c     *http.Client
}

func newStaffKit(t *testing.T) *staffKit {
	t.Helper()
	term := &Terminal{cfg: Config{Now: time.Now, TokenLife: DefaultTokenLife, Timeout: DefaultTimeout}}
	d := NewDesk(term, nil, nil, nil)
	s := &Staff{Desk: d, Log: func(_ *http.Request, err error) { t.Logf("staff log: %v", err) }}
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &staffKit{t: t, desk: d, staff: s, srv: srv, c: c}
}

// show puts sc on the desk's screen, as the desk would: a new version.
func (k *staffKit) show(sc Screen) {
	k.desk.mu.Lock()
	defer k.desk.mu.Unlock()
	sc.Version = k.desk.screen.Version
	if sc.Visit == 0 {
		sc.Visit = k.desk.screen.Visit
	}
	k.desk.screen = sc
	k.desk.bump()
}

func (k *staffKit) do(req *http.Request) (*http.Response, string) {
	k.t.Helper()
	res, err := k.c.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		k.t.Fatal(err)
	}
	return res, string(b)
}

func (k *staffKit) get(path string, header ...string) (*http.Response, string) {
	k.t.Helper()
	req, err := http.NewRequest(http.MethodGet, k.srv.URL+path, nil)
	if err != nil {
		k.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return k.do(req)
}

// post sends form to path with the page's own Origin unless header sets
// another.
func (k *staffKit) post(path string, form url.Values, header ...string) (*http.Response, string) {
	k.t.Helper()
	req, err := http.NewRequest(http.MethodPost, k.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		k.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", k.srv.URL)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	return k.do(req)
}

var staffDataPhase = regexp.MustCompile(`id="phase" data-phase="([a-z]+)"`)

func staffPhaseOf(t *testing.T, body string) string {
	t.Helper()
	m := staffDataPhase.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no data-phase in\n%s", body)
	}
	return m[1]
}

// staffReadyScreen is a patient with two coverages (one not insured), an
// insurer that did not answer, and two other hospitals (one down).
func staffReadyScreen() Screen {
	lab := func(date, name, value, unit, low, high string) dst.Item {
		return dst.Item{Type: "LabResult", Values: []dst.Value{{Name: "Date", Text: date}, {Name: "Code", Text: "3D010"},
			{Name: "Name", Text: name}, {Name: "Value", Text: value}, {Name: "Unit", Text: unit},
			{Name: "Low", Text: low}, {Name: "High", Text: high}}}
	}
	rx := dst.Item{Type: "Prescription", Values: []dst.Value{{Name: "Date", Text: "2026-11-20"}, {Name: "Drug", Text: "メトホルミン塩酸塩錠250mg"},
		{Name: "Dose", Text: "2錠"}, {Name: "Usage", Text: "1日2回朝夕食後"}, {Name: "Days", Text: "28"}}}
	return Screen{Phase: Ready, Visit: 7, TriesLeft: -1,
		Eligibility: &Eligibility{
			Coverages: []Coverage{
				{Provider: "https://kenpo.example.jp", Institution: Name{Ja: "あおば健保", En: "Aoba Health Insurance"}, Insured: true, Valid: true,
					InsurerNumber: "06139876", InsurerName: "あおば健康保険組合", Kind: "被保険者", Symbol: "青葉記号",
					Number: "87654321", Branch: "01", Copayment: "0.3", ValidFrom: "2025-04-01", ValidUntil: "2027-03-31"},
				{Provider: "https://kokuho.example.jp", Institution: Name{Ja: "みどり市国保", En: "Midori City NHI"}, Insured: true,
					InsurerNumber: "138222", InsurerName: "みどり市", Symbol: "緑", Number: "555", Copayment: "0.2", ValidFrom: "2020-04-01",
					ValidUntil: "2024-03-31"},
			},
			Missing: []*Section{{Provider: "https://slow.example.jp", Institution: Name{Ja: "おそい共済", En: "Slow Mutual Aid"}, Problem: wsc.Slow}},
		},
		Records: []*Section{
			{Provider: "https://hosp-a.example.jp", Institution: Name{Ja: "みなと病院", En: "Minato Hospital"}, ServiceType: dst.Clinical,
				Items: map[string][]dst.Item{
					"LabResult":    {lab("2026-11-20T09:30:00+09:00", "HbA1c", "7.2", "%", "4.6", "6.2"), lab("2026-11-20T09:30:00+09:00", "AST", "25", "U/L", "13", "30")},
					"Prescription": {rx},
				}},
			{Provider: "https://hosp-b.example.jp", Institution: Name{Ja: "やまて医院", En: "Yamate Clinic"}, ServiceType: dst.Clinical, Problem: wsc.Down},
		},
	}
}

func TestStaffPhases(t *testing.T) {
	k := newStaffKit(t)
	cases := []struct {
		name   string
		screen Screen
		phase  string
		want   map[string][]string // by language
		ids    []string
	}{
		{"idle", Screen{Phase: Idle, TriesLeft: -1}, "idle",
			map[string][]string{"ja": {"カードを挿入してください"}, "en": {"Insert the card"}}, nil},
		{"pin", Screen{Phase: NeedPIN, TriesLeft: -1}, "pin",
			map[string][]string{"ja": {"暗証番号を入力してください", `<label for="pin">`}, "en": {"Enter the PIN", "Card PIN"}}, nil},
		{"pin-wrong", Screen{Phase: NeedPIN, Message: "pin.wrong", TriesLeft: 2}, "pin",
			map[string][]string{"ja": {"暗証番号が違います", "残りの入力回数: 2 回"}, "en": {"Wrong PIN.", "Tries left: 2"}}, []string{`id="message"`}},
		{"working", Screen{Phase: Working, TriesLeft: -1}, "working",
			map[string][]string{"ja": {"確認しています"}, "en": {"Checking"}}, nil},
		{"ready", staffReadyScreen(), "ready",
			map[string][]string{"ja": {"資格あり", "資格なし"}, "en": {"Insured", "NOT insured"}},
			[]string{`id="eligibility"`, `id="records"`, `id="enrol"`}},
		{"stopped", Screen{Phase: Stopped, Message: "card.refused", Detail: "<revoked & gone>", TriesLeft: -1}, "stopped",
			map[string][]string{"ja": {"受付を続けられません", "カードでのログインを認めませんでした", "&lt;revoked &amp; gone&gt;"},
				"en": {"Reception cannot go on", "refused the card&#39;s login", "&lt;revoked &amp; gone&gt;"}},
			[]string{`id="message"`}},
	}
	for _, c := range cases {
		k.show(c.screen)
		for _, lang := range Langs {
			res, body := k.get("/?lang=" + lang)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s/%s: status %d\n%s", c.name, lang, res.StatusCode, body)
			}
			if got := staffPhaseOf(t, body); got != c.phase {
				t.Errorf("%s/%s: data-phase %q, want %q", c.name, lang, got, c.phase)
			}
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s/%s: no html lang", c.name, lang)
			}
			for _, w := range append(c.want[lang], c.ids...) {
				if !strings.Contains(body, w) {
					t.Errorf("%s/%s: page misses %q", c.name, lang, w)
				}
			}
			if strings.Contains(body, "<script>") || strings.Contains(body, "<revoked") || strings.Contains(body, " style=") {
				t.Errorf("%s/%s: inline script or style, or unescaped text", c.name, lang)
			}
			switch c.phase {
			case "pin":
				for _, a := range []string{`type="password"`, `inputmode="numeric"`, `autocomplete="off"`, `name="pin"`, "autofocus"} {
					if !strings.Contains(body, a) {
						t.Errorf("%s/%s: PIN input without %s", c.name, lang, a)
					}
				}
			case "idle", "working":
				if strings.Contains(body, "<form") || strings.Contains(body, "<input") {
					t.Errorf("%s/%s: a form in phase %s", c.name, lang, c.phase)
				}
			}
		}
	}
	// The language switch leads to the other language.
	k.show(Screen{Phase: Idle, TriesLeft: -1})
	if _, body := k.get("/"); !strings.Contains(body, `<html lang="ja">`) || !strings.Contains(body, `href="/?lang=en"`) {
		t.Errorf("default: not Japanese with a link to English")
	}
	if _, body := k.get("/", "Accept-Language", "en-GB,en;q=0.9"); !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, `href="/?lang=ja"`) {
		t.Errorf("Accept-Language en: not English with a link to Japanese")
	}
	if _, body := k.get("/?lang=ja", "Accept-Language", "en"); !strings.Contains(body, `<html lang="ja">`) {
		t.Errorf("?lang=ja does not win over Accept-Language")
	}
}

func TestStaffReadyShowsEligibilityAndRecords(t *testing.T) {
	k := newStaffKit(t)
	sc := staffReadyScreen()
	sc.RecordsPending = true
	k.show(sc)
	_, body := k.get("/?lang=ja")
	for _, w := range []string{"あおば健康保険組合", "06139876", "青葉記号", "87654321", "01", "30%", "2025-04-01", "2027-03-31",
		"資格あり", "みどり市", "資格なし", "有効期間外です", "20%", "回答のなかった保険者", "おそい共済", "時間内に応答がありませんでした",
		"他院の記録を取得しています", `id="number"`, "この病院の患者番号"} {
		if !strings.Contains(body, w) {
			t.Errorf("pending: page misses %q", w)
		}
	}
	if strings.Contains(body, "HbA1c") {
		t.Errorf("pending: records shown while pending")
	}
	// The eligibility comes before the records and the enrolment.
	if e, r, n := strings.Index(body, `id="eligibility"`), strings.Index(body, `id="records"`), strings.Index(body, `id="enrol"`); !(e < r && r < n) {
		t.Errorf("order of the parts: eligibility %d, records %d, enrol %d", e, r, n)
	}

	sc.RecordsPending = false
	sc.Enrolled = "P-0042"
	k.show(sc)
	_, body = k.get("/?lang=en")
	for _, w := range []string{"Minato Hospital", "Lab results", "HbA1c", "7.2", "4.6–6.2", "High", "2026-11-20", "メトホルミン塩酸塩錠250mg",
		"1日2回朝夕食後", "28", "Yamate Clinic", "Could not be reached.", "Linked. Patient number:", "P-0042", "Aoba Health Insurance"} {
		if !strings.Contains(body, w) {
			t.Errorf("ready: page misses %q", w)
		}
	}
	if strings.Contains(body, `id="number"`) {
		t.Errorf("ready: enrolment form shown once enrolled")
	}
	if strings.Contains(body, "T09:30") {
		t.Errorf("ready: lab date shown with its time")
	}

	// A refused enrolment, and the eligibility or records missing.
	sc.Enrolled, sc.EnrolMessage, sc.EnrolDetail = "", "idp.denied", "NewID too late"
	sc.Eligibility, sc.EligibilityMessage = nil, "ds.down"
	sc.Records, sc.RecordsMessage = nil, "ds.refused"
	k.show(sc)
	_, body = k.get("/?lang=en")
	for _, w := range []string{"The identity provider denied the request.", "NewID too late", `id="number"`,
		`id="eligibility-message"`, "The discovery service could not be reached.", "The discovery service refused the request."} {
		if !strings.Contains(body, w) {
			t.Errorf("refused: page misses %q", w)
		}
	}

	// An insurer that says not insured.
	sc.Eligibility = &Eligibility{Coverages: []Coverage{{Provider: "https://kenpo.example.jp", InsurerName: "あおば健康保険組合",
		InsurerNumber: "06139876", Number: "87654321", Copayment: "0.3", ValidFrom: "2025-04-01"}}}
	sc.EligibilityMessage = ""
	k.show(sc)
	for lang, want := range map[string]string{"ja": "✗</span> 資格なし</p>", "en": "✗</span> NOT insured</p>"} {
		if _, body = k.get("/?lang=" + lang); !strings.Contains(body, want) || strings.Contains(body, "✓") || !strings.Contains(body, `class="coverage no"`) {
			t.Errorf("not insured/%s: not shown as such", lang)
		}
	}

	// No insurer at all is not "insured".
	sc.Eligibility, sc.EligibilityMessage = &Eligibility{}, ""
	k.show(sc)
	if _, body = k.get("/?lang=en"); !strings.Contains(body, `id="eligibility-none"`) || strings.Contains(body, ">Insured<") {
		t.Errorf("no coverage: not said so")
	}
}

func TestStaffIdleShowsNothingOfThePatient(t *testing.T) {
	k := newStaffKit(t)
	sc := staffReadyScreen()
	sc.Enrolled = "P-0042"
	k.show(sc)
	if _, body := k.get("/"); !strings.Contains(body, "87654321") || !strings.Contains(body, "P-0042") {
		t.Fatal("ready: the patient is not shown")
	}
	// The desk clears the screen when the card leaves (leave); a stale
	// screen with data and phase Idle must not show it either.
	stale := staffReadyScreen()
	stale.Phase = Idle
	for _, idle := range []Screen{{Phase: Idle, TriesLeft: -1}, stale} {
		k.show(idle)
		for _, lang := range Langs {
			_, body := k.get("/?lang=" + lang)
			for _, w := range []string{"87654321", "青葉記号", "あおば", "Aoba", "P-0042", "HbA1c", "みなと", "Minato", "csrf"} {
				if strings.Contains(body, w) {
					t.Errorf("idle/%s: page still shows %q", lang, w)
				}
			}
		}
	}
}

func TestStaffPIN(t *testing.T) {
	k := newStaffKit(t)
	k.show(Screen{Phase: NeedPIN, TriesLeft: -1})
	_, body := k.get("/")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil || m[1] != k.staff.token {
		t.Fatalf("no token in the PIN form")
	}
	tok := m[1]
	visit := regexp.MustCompile(`name="visit" value="([0-9]+)"`).FindStringSubmatch(body)
	version := regexp.MustCompile(`name="version" value="([0-9]+)"`).FindStringSubmatch(body)
	if visit == nil || version == nil {
		t.Fatalf("the PIN form names no prompt (visit, version)")
	}
	got := make(chan string, 1)
	go func() { e := <-k.desk.pins; got <- e.pin }()

	refused := []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no-token", url.Values{"pin": {"123456"}}, nil},
		{"wrong-token", url.Values{"pin": {"123456"}, "csrf": {strings.ToUpper(tok[:1]) + strings.ToLower(tok[1:]) + "x"}}, nil},
		{"foreign-origin", url.Values{"pin": {"123456"}, "csrf": {tok}}, []string{"Origin", "https://evil.example"}},
		{"null-origin", url.Values{"pin": {"123456"}, "csrf": {tok}}, []string{"Origin", "null"}},
		{"cross-site", url.Values{"pin": {"123456"}, "csrf": {tok}}, []string{"Origin", "", "Sec-Fetch-Site", "cross-site"}},
	}
	for _, c := range refused {
		if res, _ := k.post("/pin", c.form, c.header...); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", c.name, res.StatusCode)
		}
	}
	big := url.Values{"pin": {"123456"}, "csrf": {tok}, "pad": {strings.Repeat("x", 5000)}}
	if res, _ := k.post("/pin", big); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("large body: status %d, want 413", res.StatusCode)
	}
	// A PIN the card cannot take is asked again here.
	for _, bad := range []string{"", "1234", "123456789", "12a456"} {
		res, _ := k.post("/pin", url.Values{"pin": {bad}, "csrf": {tok}, "lang": {"en"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?e=form.pin&lang=en" {
			t.Errorf("PIN %q: %d to %q, want 303 to the form.pin flash", bad, res.StatusCode, res.Header.Get("Location"))
		}
	}
	select {
	case p := <-got:
		t.Fatalf("PIN %q reached the card", p)
	default:
	}
	if _, body := k.get("/?e=form.pin&lang=en"); !strings.Contains(body, "The PIN is 6 to 8 digits") {
		t.Errorf("form.pin flash not shown")
	}
	if _, body := k.get("/?e=internal"); strings.Contains(body, `id="flash"`) {
		t.Errorf("a flash not of the forms shown")
	}

	// A PIN typed at an earlier prompt (sent twice, or for the previous
	// card) never reaches the card.
	res, _ := k.post("/pin", url.Values{"pin": {"135790"}, "csrf": {tok}, "visit": visit[1:], "version": {"0"}}, "Origin", "")
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "form.nopatient") {
		t.Fatalf("a stale prompt's PIN: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// Without Origin (some browsers), and with its own: the PIN goes to
	// the card.
	res, _ = k.post("/pin", url.Values{"pin": {"246810"}, "csrf": {tok}, "visit": visit[1:], "version": version[1:]}, "Origin", "")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?lang=ja" {
		t.Fatalf("good PIN: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	select {
	case p := <-got:
		if p != "246810" {
			t.Errorf("card got %q", p)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the PIN did not reach the card")
	}

	// No card waiting.
	k.show(Screen{Phase: Idle, TriesLeft: -1})
	if res, _ := k.post("/pin", url.Values{"pin": {"246810"}, "csrf": {tok}}); res.Header.Get("Location") != "/?e=form.nopatient&lang=ja" {
		t.Errorf("PIN without a card: to %q", res.Header.Get("Location"))
	}
}

func TestStaffEnrol(t *testing.T) {
	k := newStaffKit(t)
	k.show(staffReadyScreen())
	tok := k.staff.token
	if res, _ := k.post("/enrol", url.Values{"number": {"P-1"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("no token: status %d", res.StatusCode)
	}
	if res, _ := k.post("/enrol", url.Values{"number": {"P-1"}, "csrf": {tok}}, "Origin", "http://localhost.evil.example"); res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: status %d", res.StatusCode)
	}
	for _, bad := range []string{"", "  ", "P 1", "P_1", "番号", strings.Repeat("9", 33), "1;DROP"} {
		res, _ := k.post("/enrol", url.Values{"number": {bad}, "csrf": {tok}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?e=form.number&lang=ja" {
			t.Errorf("number %q: %d to %q", bad, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// A good number (trimmed) with no visit behind the screen.
	res, _ := k.post("/enrol", url.Values{"number": {"  " + strings.Repeat("A", 31) + "-  "}, "csrf": {tok}, "lang": {"en"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?e=form.nopatient&lang=en" {
		t.Errorf("good number: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestStaffWait(t *testing.T) {
	k := newStaffKit(t)
	k.show(Screen{Phase: Idle, TriesLeft: -1})
	v := k.desk.Screen().Version

	// An old version answers at once.
	start := time.Now()
	res, _ := k.get("/wait?v=" + strconv.FormatUint(v-1, 10))
	if res.StatusCode != http.StatusNoContent || res.Header.Get("X-Desk-Version") != strconv.FormatUint(v, 10) || time.Since(start) > time.Second {
		t.Errorf("old version: %d, version %q", res.StatusCode, res.Header.Get("X-Desk-Version"))
	}

	// The current one waits for the change.
	type answer struct {
		res  *http.Response
		took time.Duration
	}
	done := make(chan answer, 1)
	go func() {
		start := time.Now()
		res, err := k.c.Get(k.srv.URL + "/wait?v=" + strconv.FormatUint(v, 10))
		if err != nil {
			t.Error(err)
			done <- answer{}
			return
		}
		res.Body.Close()
		done <- answer{res, time.Since(start)}
	}()
	select {
	case <-done:
		t.Fatal("/wait answered before the change")
	case <-time.After(200 * time.Millisecond):
	}
	k.show(Screen{Phase: NeedPIN, Visit: 3, TriesLeft: -1})
	select {
	case a := <-done:
		if a.res == nil {
			return
		}
		if a.res.StatusCode != http.StatusNoContent || a.res.Header.Get("X-Desk-Version") != strconv.FormatUint(v+1, 10) ||
			a.res.Header.Get("X-Desk-Phase") != "pin" || a.res.Header.Get("X-Desk-Visit") != "3" {
			t.Errorf("after the change: %d %v", a.res.StatusCode, a.res.Header)
		}
		if a.res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("/wait cacheable")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("/wait did not answer the change")
	}

	// Without a change it answers anyway when the wait is over.
	k.staff.wait = 100 * time.Millisecond
	res, _ = k.get("/wait?v=" + strconv.FormatUint(v+1, 10))
	if res.StatusCode != http.StatusNoContent || res.Header.Get("X-Desk-Version") != strconv.FormatUint(v+1, 10) {
		t.Errorf("timeout: %d, version %q", res.StatusCode, res.Header.Get("X-Desk-Version"))
	}
}

func TestStaffHeaders(t *testing.T) {
	k := newStaffKit(t)
	k.show(staffReadyScreen())
	check := func(name string, res *http.Response) {
		t.Helper()
		want := map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
		for h, v := range want {
			if got := res.Header.Get(h); got != v {
				t.Errorf("%s: %s = %q, want %q", name, h, got, v)
			}
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", name, csp)
		}
	}
	res, body := k.get("/")
	check("page", res)
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, `<script src="/desk.js" defer></script>`) {
		t.Errorf("page: type %q or no script file", res.Header.Get("Content-Type"))
	}
	for path, typ := range map[string]string{"/style.css": "text/css", "/desk.js": "text/javascript"} {
		res, body := k.get(path)
		check(path, res)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), typ) || body == "" {
			t.Errorf("%s: %d %q", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	res, _ = k.get("/wait?v=x")
	check("wait", res)
	res, _ = k.get("/nothing")
	check("404", res)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/nothing: %d", res.StatusCode)
	}
	for path, allow := range map[string]string{"/pin": "POST", "/enrol": "POST"} {
		res, _ := k.get(path)
		check("405 "+path, res)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != allow {
			t.Errorf("GET %s: %d, Allow %q", path, res.StatusCode, res.Header.Get("Allow"))
		}
	}
	res, _ = k.post("/", url.Values{})
	if res.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(res.Header.Get("Allow"), "GET") {
		t.Errorf("POST /: %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
	// Another host name (DNS rebinding) gets nothing.
	req, _ := http.NewRequest(http.MethodGet, k.srv.URL+"/", nil)
	req.Host = "rebind.evil.example"
	res, body = k.do(req)
	check("host", res)
	if res.StatusCode != http.StatusMisdirectedRequest || strings.Contains(body, "87654321") {
		t.Errorf("foreign host: %d", res.StatusCode)
	}
	for host, ok := range map[string]bool{"127.0.0.1:8080": true, "[::1]:80": true, "localhost:1": true, "LOCALHOST": true,
		"127.1.2.3": true, "10.0.0.1:80": false, "localhost.evil.example": false, "": false} {
		if got := k.staff.hostAllowed(host); got != ok {
			t.Errorf("hostAllowed(%q) = %v", host, got)
		}
	}
}

func TestStaffHandlerNeedsDesk(t *testing.T) {
	if _, err := (&Staff{}).Handler(); err == nil {
		t.Error("Handler without a Desk")
	}
}

func TestStaffFormats(t *testing.T) {
	for in, want := range map[string]string{"0.3": "30%", "0.1": "10%", "0.2": "20%", "1": "100%", "0": "0%", "0.15": "15%", "0.333": "33.3%", "三割": "三割", "3": "3"} {
		if got := copayPercent(in); got != want {
			t.Errorf("copayPercent(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range [][3]string{{"3.5", "5.0", "3.5–5.0"}, {"3.5", "", "≥ 3.5"}, {"", "5", "≤ 5"}, {"", "", ""}} {
		if got := refRange(c[0], c[1]); got != c[2] {
			t.Errorf("refRange(%q, %q) = %q", c[0], c[1], got)
		}
	}
	for n, ok := range map[string]bool{"P-0042": true, "12345": true, strings.Repeat("a", 32): true, strings.Repeat("a", 33): false, "": false, "a b": false, "ａ": false} {
		if validNumber(n) != ok {
			t.Errorf("validNumber(%q) = %v", n, !ok)
		}
	}
}

// TestStaffWords checks the catalogue: the same keys in both languages,
// every key explain (desk.go) and the desk produce, every key the page
// and its Go side use.
func TestStaffWords(t *testing.T) {
	ja, en := staffKeys(words["ja"]), staffKeys(words["en"])
	if !slices.Equal(ja, en) {
		t.Errorf("the languages differ:\nja only %v\nen only %v", staffMinus(ja, en), staffMinus(en, ja))
	}
	for _, lang := range Langs {
		for k, s := range words[lang] {
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
		}
	}

	need := map[string]bool{}
	// The desk's messages: every dotted literal of desk.go (explain and
	// unlock), every hop's ".down", and the list of the desk's keys.
	fs := token.NewFileSet()
	f, err := parser.ParseFile(fs, "desk.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	hops := staffHopValues(t)
	key := regexp.MustCompile(`^[a-z]+(\.[a-z]+)+$`)
	var explain *ast.FuncDecl
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Name.Name == "explain" {
				explain = n
			}
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				if s, err := strconv.Unquote(n.Value); err == nil && key.MatchString(s) {
					need[s] = true
				}
			}
		}
		return true
	})
	if explain == nil {
		t.Fatal("no explain in desk.go")
	}
	ast.Inspect(explain, func(n ast.Node) bool {
		ret, ok := n.(*ast.ReturnStmt)
		if !ok || len(ret.Results) == 0 {
			return true
		}
		switch r := ret.Results[0].(type) {
		case *ast.BasicLit:
			s, _ := strconv.Unquote(r.Value)
			need[s] = true
		case *ast.BinaryExpr:
			lit, ok := r.Y.(*ast.BasicLit)
			if !ok {
				t.Errorf("explain returns %T + %T: teach the test", r.X, r.Y)
				return true
			}
			suffix, _ := strconv.Unquote(lit.Value)
			for _, h := range hops {
				need[h+suffix] = true
			}
		default:
			t.Errorf("explain returns a %T: teach the test", r)
		}
		return true
	})
	for _, k := range []string{"pin.wrong", "pin.blocked", "card.removed", "card.refused", "idp.denied", "idp.unknown", "idp.refused",
		"ds.refused", "idp.down", "ds.down", "visit.ended", "card.unreadable", "internal"} {
		if !need[k] {
			t.Errorf("desk.go no longer says %q: is the test still right?", k)
		}
	}
	// The page's own keys.
	page, err := os.ReadFile("pages/desk.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\.T "([^"]+)"`).FindAllStringSubmatch(string(page), -1) {
		need[m[1]] = true
	}
	for _, k := range staffFlashKeys {
		need[k] = true
	}
	for p := wsc.NoProblem; p <= wsc.Refused; p++ {
		if k := problemWords(p); k != "" {
			need[k] = true
		}
	}
	for _, k := range []string{"pin.tries", "forbidden", "badrequest", "toolarge", "host", "error", "labs.high", "labs.low"} {
		need[k] = true
	}
	if len(need) < 40 {
		t.Errorf("only %d keys found: the test lost its way", len(need))
	}
	for k := range need {
		for _, lang := range Langs {
			if _, ok := words[lang][k]; !ok {
				t.Errorf("%s: no word %q", lang, k)
			}
		}
	}
	for _, lang := range Langs {
		if strings.Count(words[lang]["pin.tries"], "%d") != 1 {
			t.Errorf("%s: pin.tries needs one %%d", lang)
		}
	}
}

// staffHopValues are the values of the Hop constants (terminal.go).
func staffHopValues(t *testing.T) []string {
	t.Helper()
	fs := token.NewFileSet()
	f, err := parser.ParseFile(fs, "terminal.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Hop" {
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, s)
				}
			}
		}
		return true
	})
	if len(out) < 2 {
		t.Fatalf("Hop constants: %v", out)
	}
	return out
}

func staffKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func staffMinus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
