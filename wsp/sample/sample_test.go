package sample

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
)

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// generated generates the default sample into a directory of the test's
// own.
func generated(t *testing.T) (string, *Manifest) {
	t.Helper()
	dir := t.TempDir()
	m, err := Generate(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// generatedFiles are the files Generate writes.
var generatedFiles = []string{"hospital-a.db", "hospital-a.json", "hospital-b.db", "hospital-b.json", "insurer.db",
	"insurer.json", "manifest.json", "pension-data.json", "pension-mapping.json"}

// TestGenerateIsDeterministic: two runs write the same bytes, and a run
// over an earlier one replaces it with the same bytes again.
func TestGenerateIsDeterministic(t *testing.T) {
	a, ma := generated(t)
	b, mb := generated(t)
	if !reflect.DeepEqual(ma, mb) {
		t.Fatal("the manifests differ")
	}
	if _, err := Generate(b, Options{}); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, generatedFiles) {
		t.Fatalf("files %v, want %v", names, generatedFiles)
	}
	for _, name := range names {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s: %d and %d bytes, not the same", name, len(x), len(y))
		}
	}
	for _, db := range []string{HospitalA, HospitalB, Insurer} {
		x, err := GenerateSQL(db, PostgreSQL, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if y, _ := GenerateSQL(db, PostgreSQL, Options{}); x != y {
			t.Errorf("%s: the SQL scripts differ", db)
		}
	}
}

// TestOptionsMoveTheSample: another reference date moves the slots with
// it, another seed draws other numbers.
func TestOptionsMoveTheSample(t *testing.T) {
	_, m := generated(t)
	later, err := Generate(t.TempDir(), Options{Reference: time.Date(2027, 3, 1, 12, 0, 0, 0, jst)})
	if err != nil {
		t.Fatal(err)
	}
	if later.Reference != "2027-03-01" || !strings.HasPrefix(later.Institution(HospitalA).LastPlaceSlot, "202703") {
		t.Errorf("reference %s, last-place slot %s", later.Reference, later.Institution(HospitalA).LastPlaceSlot)
	}
	reseeded, err := Generate(t.TempDir(), Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if reseeded.People[0].Local[HospitalA] == m.People[0].Local[HospitalA] {
		t.Error("another seed drew the same patient number")
	}
}

// TestManifest checks the people: a dozen, four at both hospitals and
// four at each alone, every identifier in its institution's form and
// unique there, and the marked slots.
func TestManifest(t *testing.T) {
	dir, m := generated(t)
	read, err := ReadManifest(filepath.Join(dir, ManifestFile))
	if err != nil || !reflect.DeepEqual(read, m) {
		t.Fatalf("manifest.json does not read back: %v", err)
	}
	if len(m.People) != 12 {
		t.Fatalf("%d people", len(m.People))
	}
	forms := map[string]*regexp.Regexp{
		HospitalA: regexp.MustCompile(`^A-[0-9]{6}$`),
		HospitalB: regexp.MustCompile(`^2[0-9]{7}$`),
		Insurer:   regexp.MustCompile(`^` + insurerNumber + `:港国保:[0-9]{7}:0[1-9]$`),
		Pension:   regexp.MustCompile(`^[0-9]{4}-[0-9]{6}$`),
	}
	name := regexp.MustCompile(`^\p{Han}+ [\p{Han}\p{Hiragana}]+$`)
	kana := regexp.MustCompile(`^\p{Katakana}+ \p{Katakana}+$`)
	seen := map[string]bool{}
	both, onlyA, onlyB := 0, 0, 0
	for _, p := range m.People {
		if !name.MatchString(p.Name) || !kana.MatchString(p.Kana) || (p.Sex != "female" && p.Sex != "male") {
			t.Errorf("%s: %q %q %q", p.Key, p.Name, p.Kana, p.Sex)
		}
		if _, err := time.Parse(time.DateOnly, p.BirthDate); err != nil {
			t.Error(err)
		}
		for key, local := range p.Local {
			if !forms[key].MatchString(local) || !norm.NFC.IsNormalString(local) || seen[key+local] {
				t.Errorf("%s at %s: %q", p.Key, key, local)
			}
			seen[key+local] = true
		}
		_, a := p.Local[HospitalA]
		_, b := p.Local[HospitalB]
		switch {
		case a && b:
			both++
		case a:
			onlyA++
		case b:
			onlyB++
		default:
			t.Errorf("%s is at no hospital", p.Key)
		}
		if p.Local[Insurer] == "" || p.Local[Pension] == "" {
			t.Errorf("%s has no insurer or pension identifier", p.Key)
		}
	}
	if both != 4 || onlyA != 4 || onlyB != 4 {
		t.Errorf("%d at both hospitals, %d at A alone, %d at B alone", both, onlyA, onlyB)
	}
	if a, b := m.Person("p01").Local[Insurer], m.Person("p02").Local[Insurer]; a[:len(a)-2] != b[:len(b)-2] ||
		!strings.HasSuffix(a, ":01") || !strings.HasSuffix(b, ":02") {
		t.Errorf("the household's members %s and %s do not share a number", a, b)
	}
	for _, key := range []string{HospitalA, HospitalB} {
		in := m.Institution(key)
		marks := []string{in.LastPlaceSlot, in.FullSlot, in.OpenSlot}
		if slices.Contains(marks, "") || marks[0] == marks[1] || marks[1] == marks[2] || marks[0] == marks[2] {
			t.Errorf("%s: marked slots %v", key, marks)
		}
	}
}

func TestInsurerLocalID(t *testing.T) {
	for _, c := range []struct{ number, symbol, no, branch, want string }{
		{"13810304", "港国保", "1234567", "01", "13810304:港国保:1234567:01"},
		{"13810304", "a:b%c", "1", "01", "13810304:a%3Ab%25c:1:01"},
		{"13810304", "カ\u3099", "1", "01", "13810304:ガ:1:01"}, // NFD in, NFC out
	} {
		if got := InsurerLocalID(c.number, c.symbol, c.no, c.branch); got != c.want {
			t.Errorf("InsurerLocalID(%q) = %q, want %q", c.symbol, got, c.want)
		}
	}
}

// TestInsurerCheckDigit checks the check digit on a real insurer number,
// 全国健康保険協会 東京支部.
func TestInsurerCheckDigit(t *testing.T) {
	if d := insurerCheckDigit("0113001"); d != '2' {
		t.Errorf("check digit of 0113001 = %c, want 2", d)
	}
	if len(insurerNumber) != 8 || insurerNumber[7] != insurerCheckDigit(insurerNumber[:7]) {
		t.Errorf("insurer number %s", insurerNumber)
	}
}

// TestGenerateSQLMatchesTheDatabases runs each SQLite script and finds
// the rows Generate wrote; the PostgreSQL script differs only in the
// generated keys.
func TestGenerateSQLMatchesTheDatabases(t *testing.T) {
	dir, _ := generated(t)
	for _, db := range []string{HospitalA, HospitalB, Insurer} {
		lite, err := GenerateSQL(db, SQLite, Options{})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), db+".db")
		conn, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(lite); err != nil {
			t.Fatalf("%s: %v", db, err)
		}
		conn.Close()
		if a, b := tableCounts(t, path), tableCounts(t, filepath.Join(dir, db+".db")); !reflect.DeepEqual(a, b) || len(a) < 2 {
			t.Errorf("%s: the script gives %v, the database holds %v", db, a, b)
		}
		post, err := GenerateSQL(db, PostgreSQL, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(lite, "\n") != strings.Count(post, "\n") || !strings.Contains(post, "GENERATED BY DEFAULT AS IDENTITY") && db != Insurer {
			t.Errorf("%s: the PostgreSQL script is not the SQLite one with identity keys", db)
		}
	}
	if _, err := GenerateSQL(Pension, SQLite, Options{}); err == nil {
		t.Error("an SQL script of the pension service")
	}
	if _, err := GenerateSQL(HospitalA, Dialect(9), Options{}); err == nil {
		t.Error("an SQL script in an unknown dialect")
	}
}

// tableCounts returns the number of rows of each table of a SQLite file.
func tableCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	out := map[string]int{}
	for _, n := range names {
		var c int
		if err := db.QueryRow("SELECT count(*) FROM " + n).Scan(&c); err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	return out
}
