package dst_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// selectScope parses a Select element nested in an ancestor that binds
// more prefixes, as a message would: cl on the Select itself, anc on the
// ancestor (both the clinical namespace) and ck to another service's
// namespace. ParseSelect resolves prefixes in the Select's scope.
func selectScope(t testing.TB) *etree.Element {
	t.Helper()
	root, err := xmlsec.ParseElement([]byte(`<cl:Query xmlns:cl="urn:renkei:svc:clinical:1.0"`+
		` xmlns:anc="urn:renkei:svc:clinical:1.0" xmlns:ck="urn:renkei:svc:checkup:1.0">`+
		`<cl:QueryItem><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem></cl:Query>`), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return root.ChildElements()[0].ChildElements()[0]
}

func TestParseSelectAccepts(t *testing.T) {
	clinical := dst.Lookup(dst.Clinical)
	el := selectScope(t)
	for _, tc := range []struct {
		name, text string
		want       dst.Select
	}{
		{"ok/all", "/cl:LabResult", dst.Select{Item: "LabResult"}},
		{"ok/other-item-type", "/cl:Prescription", dst.Select{Item: "Prescription"}},
		{"ok/id-single-quotes", "/cl:LabResult[@id='r-17']", dst.Select{Item: "LabResult", ID: "r-17"}},
		{"ok/id-double-quotes", `/cl:LabResult[@id="r-17"]`, dst.Select{Item: "LabResult", ID: "r-17"}},
		{"ok/id-double-quotes-holding-single", `/cl:LabResult[@id="O'Neil"]`, dst.Select{Item: "LabResult", ID: "O'Neil"}},
		{"ok/id-single-quotes-holding-double", `/cl:LabResult[@id='say "a"']`, dst.Select{Item: "LabResult", ID: `say "a"`}},
		{"ok/field-single-quotes", "/cl:LabResult[cl:Code='3D010000001926101']",
			dst.Select{Item: "LabResult", Field: "Code", Value: "3D010000001926101"}},
		{"ok/field-double-quotes", `/cl:LabResult[cl:Code="3D010"]`, dst.Select{Item: "LabResult", Field: "Code", Value: "3D010"}},
		{"ok/field-empty-value", "/cl:LabResult[cl:Code='']", dst.Select{Item: "LabResult", Field: "Code", Value: ""}},
		{"ok/surrounding-whitespace", " \t\n/cl:LabResult[@id='r-17']\r\n ", dst.Select{Item: "LabResult", ID: "r-17"}},
		{"ok/whitespace-in-predicate", "/cl:LabResult[ cl:Code \t=\n 'x' ]", dst.Select{Item: "LabResult", Field: "Code", Value: "x"}},
		{"ok/whitespace-kept-in-literal", "/cl:LabResult[cl:Code=' x y ']", dst.Select{Item: "LabResult", Field: "Code", Value: " x y "}},
		{"ok/prefix-from-ancestor", "/anc:LabResult[anc:Code='x']", dst.Select{Item: "LabResult", Field: "Code", Value: "x"}},
		{"ok/two-prefixes-one-namespace", "/anc:LabResult[cl:Code='x']", dst.Select{Item: "LabResult", Field: "Code", Value: "x"}},
		{"ok/literal-with-brackets-and-equals", "/cl:LabResult[@id='a]=[b']", dst.Select{Item: "LabResult", ID: "a]=[b"}},
		{"ok/literal-like-a-second-predicate", `/cl:LabResult[cl:Code="x'][cl:Code='y"]`,
			dst.Select{Item: "LabResult", Field: "Code", Value: `x'][cl:Code='y`}},
		{"ok/kanji", "/cl:LabResult[@id='検査-1']", dst.Select{Item: "LabResult", ID: "検査-1"}},
		{"ok/at-the-limit", "/cl:LabResult[@id='" + strings.Repeat("a", dst.MaxSelectLen-len("/cl:LabResult[@id='']")) + "']",
			dst.Select{Item: "LabResult", ID: strings.Repeat("a", dst.MaxSelectLen-len("/cl:LabResult[@id='']"))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dst.ParseSelect(el, clinical, tc.text)
			if err != nil {
				t.Fatalf("ParseSelect(%q): %v", tc.text, err)
			}
			if *got != tc.want {
				t.Fatalf("ParseSelect(%q) = %+v, want %+v", tc.text, *got, tc.want)
			}
			// String renders what ParseSelect reads back the same.
			again, err := dst.ParseSelect(el, clinical, got.String("cl"))
			if err != nil || *again != *got {
				t.Fatalf("%q renders as %q, which reads back as %+v, %v", tc.text, got.String("cl"), again, err)
			}
		})
	}
}

func TestParseSelectRefuses(t *testing.T) {
	clinical := dst.Lookup(dst.Clinical)
	el := selectScope(t)
	for _, tc := range []struct {
		name, text, why string
	}{
		{"fail/empty", "", "not an absolute path"},
		{"fail/relative", "cl:LabResult", "not an absolute path"},
		{"fail/unbound-prefix", "/zz:LabResult", `prefix "zz" is not bound`},
		{"fail/prefix-of-another-namespace", "/ck:LabResult", `prefix "ck" is not bound to ` + dst.Clinical},
		{"fail/unbound-prefix-in-predicate", "/cl:LabResult[zz:Code='x']", `prefix "zz" is not bound`},
		{"fail/other-namespace-in-predicate", "/cl:LabResult[ck:Code='x']", `prefix "ck" is not bound`},
		{"fail/no-prefix", "/LabResult", "not a prefixed name"},
		{"fail/unknown-item-type", "/cl:Checkup", "no item type Checkup in " + dst.Clinical},
		{"fail/non-filter-field", "/cl:LabResult[cl:Name='HbA1c']", "Name is not a field of LabResult one may select by"},
		{"fail/unknown-field", "/cl:LabResult[cl:Colour='red']", "Colour is not a field of LabResult"},
		{"fail/two-steps", "/cl:LabResult/cl:Code", "not a prefixed name"},
		{"fail/two-steps-after-predicate", "/cl:LabResult[@id='x']/cl:Code", "predicate not closed"},
		{"fail/function", "count(/cl:LabResult)", "not an absolute path"},
		{"fail/function-in-predicate", "/cl:LabResult[count(cl:Code)='1']", "not a prefixed name"},
		{"fail/function-as-value", "/cl:LabResult[@id=concat('a','b')]", "not a quoted literal"},
		{"fail/descendant-axis", "//cl:LabResult", "is not bound"},
		{"fail/wildcard", "/*", "not a prefixed name"},
		{"fail/prefixed-wildcard", "/cl:*", "not a prefixed name"},
		{"fail/wildcard-in-predicate", "/cl:LabResult[*='x']", "not a prefixed name"},
		{"fail/other-attribute", "/cl:LabResult[@other='x']", "not a prefixed name"},
		{"fail/qualified-id", "/cl:LabResult[@cl:id='x']", "is not bound"},
		{"fail/unterminated-literal", "/cl:LabResult[@id='x]", "not a quoted literal"},
		{"fail/mixed-quotes", `/cl:LabResult[@id='x"]`, "not a quoted literal"},
		{"fail/literal-holding-its-quote", "/cl:LabResult[@id='O'Neil']", "not a quoted literal"},
		{"fail/literal-holding-its-double-quote", `/cl:LabResult[@id="say "a""]`, "not a quoted literal"},
		{"fail/two-predicates", "/cl:LabResult[@id='a'][@id='b']", "not a quoted literal"},
		{"fail/or", "/cl:LabResult[@id='a' or @id='b']", "not a quoted literal"},
		{"fail/not-equal", "/cl:LabResult[cl:Code!='x']", "not a field of LabResult"},
		{"fail/no-comparison", "/cl:LabResult[cl:Code]", "not a comparison"},
		{"fail/empty-predicate", "/cl:LabResult[]", "not a comparison"},
		{"fail/unclosed-predicate", "/cl:LabResult[@id='x'", "predicate not closed"},
		{"fail/unquoted-value", "/cl:LabResult[@id=x]", "not a quoted literal"},
		{"fail/union", "/cl:LabResult|/cl:Prescription", "not a prefixed name"},
		// An empty id names no item; read as no predicate it would select
		// every item, and String would render it as "/cl:LabResult".
		{"fail/empty-id", "/cl:LabResult[@id='']", "empty"},
		{"fail/empty-id-double-quotes", `/cl:LabResult[@id=""]`, "empty"},
		{"fail/over-the-limit", "/cl:LabResult[@id='" + strings.Repeat("a", dst.MaxSelectLen) + "']", "longer than the limit"},
		{"fail/whitespace-over-the-limit", "/cl:LabResult" + strings.Repeat(" ", dst.MaxSelectLen), "longer than the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := dst.ParseSelect(el, clinical, tc.text)
			var se *dst.SelectError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSelect(%q) = %+v, %v; want a *SelectError", tc.text, sel, err)
			}
			if sel != nil {
				t.Errorf("ParseSelect(%q) returned %+v beside its error", tc.text, sel)
			}
			if se.Text != tc.text || !strings.Contains(se.Why, tc.why) {
				t.Errorf("ParseSelect(%q): %v; want the text and a reason holding %q", tc.text, se, tc.why)
			}
		})
	}
}

// TestParseSelectEveryService: each service's Select forms resolve against
// its own namespace only, for every item type and filter field of the
// catalog.
func TestParseSelectEveryService(t *testing.T) {
	for _, s := range dst.Services() {
		el := etree.NewElement("x:Select")
		el.CreateAttr("xmlns:x", s.NS)
		for _, it := range s.Items {
			want := dst.Select{Item: it.Name}
			if got, err := dst.ParseSelect(el, s, "/x:"+it.Name); err != nil || !reflect.DeepEqual(*got, want) {
				t.Errorf("%s /x:%s = %+v, %v", s.Prefix, it.Name, got, err)
			}
			for _, f := range it.Fields {
				text := "/x:" + it.Name + "[x:" + f.Name + "='v']"
				got, err := dst.ParseSelect(el, s, text)
				switch {
				case f.Filter && (err != nil || *got != dst.Select{Item: it.Name, Field: f.Name, Value: "v"}):
					t.Errorf("%s %s = %+v, %v", s.Prefix, text, got, err)
				case !f.Filter && err == nil:
					t.Errorf("%s %s selects by a field that is not a filter", s.Prefix, text)
				}
			}
			for _, other := range dst.Services() {
				if other != s {
					if _, err := dst.ParseSelect(el, other, "/x:"+it.Name); err == nil {
						t.Errorf("/x:%s with x bound to %s is accepted by %s", it.Name, s.NS, other.NS)
					}
				}
			}
		}
	}
}
