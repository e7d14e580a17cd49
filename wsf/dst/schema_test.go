package dst_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// The schemas (xmlsec/xsd/schemas/renkei-svc-NAME-1.0.xsd) and the catalog
// are written apart; these tests build every message of every service by
// hand from the catalog and check that the schemas take it, and that they
// refuse what the catalog does not allow: a missing required field, a value
// not of the field's type, an element the catalog does not know.

// valid returns a valid lexical value of a field of type ft.
func valid(t *testing.T, ft dst.FieldType) string {
	t.Helper()
	switch ft {
	case dst.String:
		return "HbA1c (NGSP)"
	case dst.Date:
		return "2026-12-07"
	case dst.DateTime:
		return "2026-12-07T09:30:00+09:00"
	case dst.Integer:
		return "120"
	case dst.Decimal:
		return "0.3"
	case dst.GYearMonth:
		return "2026-11"
	case dst.Boolean:
		return "true"
	}
	t.Fatalf("field type %d has no sample value: add one", ft)
	return ""
}

// invalid returns a value that is not of type ft, or "" for xs:string,
// which takes any text.
func invalid(t *testing.T, ft dst.FieldType) string {
	t.Helper()
	switch ft {
	case dst.String:
		return ""
	case dst.Date:
		return "2026-13-45"
	case dst.DateTime:
		return "2026-12-07" // a date without a time
	case dst.Integer:
		return "1.5"
	case dst.Decimal:
		return "0,3"
	case dst.GYearMonth:
		return "2026-13"
	case dst.Boolean:
		return "yes"
	}
	t.Fatalf("field type %d has no invalid sample: add one", ft)
	return ""
}

// item builds an item of it holding the fields keep selects, each with the
// value value gives, in catalog order.
func item(s *dst.Service, it *dst.ItemType, keep func(dst.Field) bool, value func(dst.Field) string) *etree.Element {
	el := etree.NewElement(s.Prefix + ":" + it.Name)
	el.CreateAttr("id", "123") // back-office ids may be numbers
	el.CreateAttr("modificationTime", "2026-12-07T00:30:00Z")
	for _, f := range it.Fields {
		if keep(f) {
			el.CreateElement(s.Prefix + ":" + f.Name).SetText(value(f))
		}
	}
	return el
}

// full is item with every field, each of a valid value.
func full(t *testing.T, s *dst.Service, it *dst.ItemType) *etree.Element {
	return item(s, it, func(dst.Field) bool { return true }, func(f dst.Field) string { return valid(t, f.Type) })
}

// root starts a message of s named name.
func root(s *dst.Service, name string) *etree.Element {
	el := etree.NewElement(s.Prefix + ":" + name)
	el.CreateAttr("xmlns:"+s.Prefix, s.NS)
	el.CreateAttr("xmlns:lu", wsf.NSLU)
	return el
}

func status(parent *etree.Element) {
	parent.CreateElement("lu:Status").CreateAttr("code", "OK")
}

func selectAll(s *dst.Service, it *dst.ItemType) string { return "/" + s.Prefix + ":" + it.Name }

func selectOne(s *dst.Service, it *dst.ItemType) string {
	return "/" + s.Prefix + ":" + it.Name + "[@id='123']"
}

// queryResponse holds it in a QueryResponse's Data.
func queryResponse(s *dst.Service, it *etree.Element) *etree.Element {
	el := root(s, "QueryResponse")
	el.CreateAttr("timeStamp", "2026-12-07T00:30:00Z")
	status(el)
	data := el.CreateElement(s.Prefix + ":Data")
	data.CreateAttr("itemIDRef", "q1")
	data.CreateAttr("remaining", "0")
	data.CreateAttr("nextOffset", "1")
	data.AddChild(it)
	return el
}

// create holds it in a Create's NewData.
func create(s *dst.Service, name string, it *etree.Element) *etree.Element {
	el := root(s, "Create")
	ci := el.CreateElement(s.Prefix + ":CreateItem")
	ci.CreateAttr("objectType", name)
	ci.CreateAttr("itemID", "c1")
	ci.CreateElement(s.Prefix + ":NewData").AddChild(it)
	return el
}

// modify holds it in a Modify's NewData, after a Select of the item.
func modify(s *dst.Service, t *dst.ItemType, it *etree.Element) *etree.Element {
	el := root(s, "Modify")
	mi := el.CreateElement(s.Prefix + ":ModifyItem")
	mi.CreateAttr("objectType", t.Name)
	mi.CreateAttr("notChangedSince", "2026-12-07T00:30:00Z")
	mi.CreateElement(s.Prefix + ":Select").SetText(selectOne(s, t))
	mi.CreateElement(s.Prefix + ":NewData").AddChild(it)
	return el
}

func schema(t *testing.T) *xsd.Schema {
	t.Helper()
	sc, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func accept(t *testing.T, sc *xsd.Schema, what string, el *etree.Element) {
	t.Helper()
	if err := sc.ValidateElement(el); err != nil {
		t.Errorf("%s is not schema-valid: %v", what, err)
	}
}

// refuse checks that the schemas refuse el for a reason whose text holds
// want (an element name, a value).
func refuse(t *testing.T, sc *xsd.Schema, what string, el *etree.Element, want string) {
	t.Helper()
	err := sc.ValidateElement(el)
	var ve *xsd.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("%s: got %v, want a validation error", what, err)
		return
	}
	if !strings.Contains(ve.Error(), want) {
		t.Errorf("%s: refused as %v, want a message naming %s", what, ve, want)
	}
}

// TestSchemaAgreesWithCatalog: every message of every item type, with every
// field filled in catalog order, is valid; so is an item without any one of
// its optional fields, and none without a required field, with a value not
// of a field's type or with an element the catalog does not have.
func TestSchemaAgreesWithCatalog(t *testing.T) {
	sc := schema(t)
	if len(dst.Services()) != 5 {
		t.Fatalf("%d service types; the schema set has five", len(dst.Services()))
	}
	for _, s := range dst.Services() {
		for i := range s.Items {
			it := &s.Items[i]
			t.Run(s.Prefix+":"+it.Name, func(t *testing.T) {
				qn := func(local string) string { return "{" + s.NS + "}" + local }
				accept(t, sc, "QueryResponse", queryResponse(s, full(t, s, it)))
				accept(t, sc, "Create", create(s, it.Name, full(t, s, it)))
				accept(t, sc, "Modify", modify(s, it, full(t, s, it)))

				cr := root(s, "CreateResponse")
				status(cr)
				cr.CreateElement(s.Prefix + ":ItemData").AddChild(full(t, s, it))
				accept(t, sc, "CreateResponse", cr)

				q := root(s, "Query")
				qi := q.CreateElement(s.Prefix + ":QueryItem")
				qi.CreateAttr("itemID", "q1")
				qi.CreateAttr("count", "20")
				qi.CreateAttr("offset", "40")
				qi.CreateElement(s.Prefix + ":Select").SetText(selectAll(s, it))
				accept(t, sc, "Query", q)

				d := root(s, "Delete")
				d.CreateElement(s.Prefix + ":DeleteItem").CreateElement(s.Prefix + ":Select").SetText(selectOne(s, it))
				accept(t, sc, "Delete", d)

				dr := root(s, "DeleteResponse")
				status(dr)
				accept(t, sc, "DeleteResponse", dr)

				for _, f := range it.Fields {
					without := item(s, it, func(g dst.Field) bool { return g.Name != f.Name },
						func(g dst.Field) string { return valid(t, g.Type) })
					what := "QueryResponse without " + f.Name
					if f.Required {
						refuse(t, sc, what, queryResponse(s, without), qn(f.Name))
					} else {
						accept(t, sc, what, queryResponse(s, without))
					}
					if bad := invalid(t, f.Type); bad != "" {
						el := item(s, it, func(dst.Field) bool { return true }, func(g dst.Field) string {
							if g.Name == f.Name {
								return bad
							}
							return valid(t, g.Type)
						})
						refuse(t, sc, "QueryResponse with "+f.Name+" "+bad, queryResponse(s, el), "'"+bad+"'")
					}
				}

				el := full(t, s, it)
				el.CreateElement(s.Prefix + ":Unknown").SetText("x")
				refuse(t, sc, "QueryResponse with an unknown element", queryResponse(s, el), qn("Unknown"))
				el = full(t, s, it)
				el.InsertChildAt(0, etree.NewElement(s.Prefix+":Unknown"))
				refuse(t, sc, "Create with an unknown element", create(s, it.Name, el), qn("Unknown"))
			})
		}
	}
}

// TestSchemaNewDataInput: NewData of an item type a WSC writes needs only
// the catalog's input fields, the back office filling the others, and not
// without a required input field.
func TestSchemaNewDataInput(t *testing.T) {
	sc := schema(t)
	n := 0
	for _, s := range dst.Services() {
		for i := range s.Items {
			it := &s.Items[i]
			if !it.Create && !it.Modify {
				continue
			}
			n++
			value := func(f dst.Field) string { return valid(t, f.Type) }
			in := func(f dst.Field) bool { return f.Input }
			accept(t, sc, s.Prefix+":"+it.Name+" Create of its input fields", create(s, it.Name, item(s, it, in, value)))
			accept(t, sc, s.Prefix+":"+it.Name+" Modify of its input fields", modify(s, it, item(s, it, in, value)))
			for _, f := range it.Fields {
				if !f.Input || !f.Required {
					continue
				}
				el := item(s, it, func(g dst.Field) bool { return g.Input && g.Name != f.Name }, value)
				refuse(t, sc, s.Prefix+":"+it.Name+" Create without "+f.Name, create(s, it.Name, el), "{"+s.NS+"}")
			}
			// The item as the WSP answers it still needs every required field.
			refuse(t, sc, s.Prefix+":"+it.Name+" answered with its input fields only",
				queryResponse(s, item(s, it, in, value)), "{"+s.NS+"}")
		}
	}
	if n == 0 {
		t.Fatal("no item type takes a Create or Modify")
	}
}
