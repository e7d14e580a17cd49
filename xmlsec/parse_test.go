package xmlsec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

func TestParse(t *testing.T) {
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>`
	cases := []struct {
		name string
		in   string
		lim  Limits
		want error
	}{
		{"ok/plain", `<a xmlns="urn:x"><b>t</b></a>`, Limits{}, nil},
		{"ok/utf8-decl", `<?xml version="1.0" encoding="UTF-8"?><a/>`, Limits{}, nil},
		{"ok/comment-mentions-doctype", `<a><!-- <!DOCTYPE x> --></a>`, Limits{}, nil},
		{"fail/billion-laughs", laughs, Limits{}, ErrDoctype},
		{"fail/xxe", `<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`, Limits{}, ErrDoctype},
		{"fail/doctype-public", `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "http://127.0.0.1/x.dtd"><a/>`, Limits{}, ErrDoctype},
		{"fail/undeclared-entity", `<a>&x;</a>`, Limits{}, ErrMalformed},
		{"fail/oversized", `<a>` + strings.Repeat("x", 100) + `</a>`, Limits{MaxBytes: 64}, ErrTooLarge},
		{"fail/too-deep", strings.Repeat("<a>", 50) + strings.Repeat("</a>", 50), Limits{}, ErrTooDeep},
		{"fail/too-many-elements", "<a>" + strings.Repeat("<b/>", 30) + "</a>", Limits{MaxElements: 20}, ErrTooLarge},
		{"fail/latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, Limits{}, ErrMalformed},
		{"fail/unclosed", `<a><b></a>`, Limits{}, ErrMalformed},
		{"fail/end-tag-other-prefix", `<p:a xmlns:p="urn:p" xmlns:q="urn:p"></q:a>`, Limits{}, ErrMalformed},
		{"fail/end-tag-before-start", `</a><a/>`, Limits{}, ErrMalformed},
		{"fail/truncated", `<a><b>`, Limits{}, ErrMalformed},
		{"fail/empty", ``, Limits{}, ErrMalformed},
		{"fail/attr-name-colon", `<Root :="value"/>`, Limits{}, ErrMalformed},
		{"fail/attr-name-empty-local", `<Root x:="value"/>`, Limits{}, ErrMalformed},
		{"fail/xmlns-empty-prefix", `<Root xmlns:="urn:a"/>`, Limits{}, ErrMalformed},
		{"ok/xml-prefix-undeclared", `<a xml:lang="ja"/>`, Limits{}, nil},
		{"ok/xml-prefix-declared-right", `<a xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="ja"/>`, Limits{}, nil},
		{"ok/prefix-rebound-in-child", `<a xmlns:b="urn:b"><b:c xmlns:b="urn:d"/></a>`, Limits{}, nil},
		{"ok/same-local-other-ns", `<a xmlns:p="urn:p" xmlns:q="urn:q" p:b="1" q:b="2" b="3"/>`, Limits{}, nil},
		{"fail/duplicate-attribute", `<a ID="1" ID="2"/>`, Limits{}, ErrMalformed},
		{"fail/duplicate-expanded-attribute", `<a xmlns:p="urn:x" p:b="1" xmlns:q="urn:x" q:b="2"/>`, Limits{}, ErrMalformed},
		{"fail/duplicate-default-ns", `<a xmlns="urn:1" xmlns="urn:2"/>`, Limits{}, ErrMalformed},
		{"fail/undeclared-element-prefix", `<b:a/>`, Limits{}, ErrMalformed},
		{"fail/undeclared-attribute-prefix", `<a b:c="1"/>`, Limits{}, ErrMalformed},
		{"fail/prefix-out-of-scope", `<a><b xmlns:p="urn:p"/><p:c/></a>`, Limits{}, ErrMalformed},
		{"fail/declare-xmlns", `<a xmlns:xmlns="urn:x"/>`, Limits{}, ErrMalformed},
		{"fail/rebind-xml", `<a xmlns:xml="urn:x"/>`, Limits{}, ErrMalformed},
		{"fail/bind-xml-namespace", `<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>`, Limits{}, ErrMalformed},
		{"fail/bind-xmlns-namespace", `<a xmlns:p="http://www.w3.org/2000/xmlns/"/>`, Limits{}, ErrMalformed},
		{"fail/undeclare-prefix", `<a xmlns:b=""/>`, Limits{}, ErrMalformed},
		{"fail/element-prefix-xmlns", `<xmlns:a/>`, Limits{}, ErrMalformed},
		{"ok/attr-prefix-from-ancestor", `<e:E xmlns:e="urn:e"><M xmlns:w="urn:w" w:Id="x" e:mu="1"/></e:E>`, Limits{}, nil},
		{"fail/double-colon-element", `<Root><x::Element></::Element></Root>`, Limits{}, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse([]byte(c.in), c.lim)
			if c.want == nil {
				if err != nil || doc.Root() == nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Parse error = %v, want %v", err, c.want)
			}
		})
	}
}

// TestAttributeNormalization checks XML 1.0 §3.3.3 as libxml2 applies it:
// literal whitespace in attribute values becomes spaces, character
// references stay, text content is untouched.
func TestAttributeNormalization(t *testing.T) {
	in := "<a x=\"1\t2\n3\r\n4\r5\" y='&#10;&#9;' z=\"p\"><b c=\"q\nr\">t\nu</b></a>"
	doc, err := Parse([]byte(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	for _, c := range []struct{ got, want string }{
		{root.SelectAttrValue("x", ""), "1 2 3 4 5"},
		{root.SelectAttrValue("y", ""), "\n\t"},
		{root.SelectAttrValue("z", ""), "p"},
		{root.SelectElement("b").SelectAttrValue("c", ""), "q r"},
		{root.SelectElement("b").Text(), "t\nu"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// FuzzParse checks that Parse never panics, returns only typed errors, and
// that what it accepts survives a round trip: written out by etree and
// parsed again (SerializeDocument), the document canonicalizes to the same bytes, so what a
// signature covers is what any later reader of the tree sees.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<a xmlns="urn:x"><b c="d">t</b></a>`, `<!DOCTYPE a><a/>`, `<a><![CDATA[x]]><!--c--><?p q?></a>`,
		`<e:E xmlns:e="urn:e"><M xmlns:w="urn:w" w:Id="x" e:mu="1"/></e:E>`, "<a x=\"1\r\n2\t\" y='&#10;'>&amp;&lt;\r\n</a>",
		`<p:a xmlns:p="urn:p" xmlns:q="urn:q"><q:b p:c="1" q:c="2" c="3"/></p:a>`,
		`<a></b>`, `<p:a xmlns:p="urn:p"></q:a>`, `<a/><b/>`, "<a/>\n<!--x-->", `</a>`, "<?xml version=\"1.0\"?>\n<a> <b/> </a>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := Parse(b, Limits{})
		if err != nil {
			var xe *Error
			if !errors.As(err, &xe) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		sameAsEtree(t, b, doc)
		out, err := SerializeDocument(doc)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(out, Limits{})
		if err != nil {
			t.Fatalf("accepted %q, but not its own serialization %q: %v", b, out, err)
		}
		c1, err1 := C14N{}.Canonicalize(doc.Root())
		c2, err2 := C14N{}.Canonicalize(again.Root())
		if (err1 == nil) != (err2 == nil) || !bytes.Equal(c1, c2) {
			t.Fatalf("round trip changed the document:\n%q (%v)\n%q (%v)", c1, err1, c2, err2)
		}
	})
}

// TestSerializeRoundTrip checks that Serialize keeps what etree's default
// writer loses: whitespace in attribute values, CR in text, and the
// namespaces an inner element inherits.
func TestSerializeRoundTrip(t *testing.T) {
	doc, err := Parse([]byte(`<p:a xmlns:p="urn:p" y='&#10;&#9;&#13;'><p:b z="&#10;">x&#13;y</p:b></p:a>`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	inner := doc.Root().SelectElement("b")
	out, err := Serialize(inner)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseElement(out, Limits{})
	if err != nil {
		t.Fatalf("Serialize wrote what Parse refuses: %s: %v", out, err)
	}
	if again.NamespaceURI() != "urn:p" || again.SelectAttrValue("z", "") != "\n" || again.Text() != "x\ry" {
		t.Fatalf("round trip changed the element: %s", out)
	}
	if doc.Root().SelectAttrValue("y", "") != "\n\t\r" {
		t.Fatalf("character references in attributes not kept: %q", doc.Root().SelectAttrValue("y", ""))
	}
	if _, err := SerializeDocument(doc); err != nil || doc.WriteSettings.CanonicalAttrVal {
		t.Fatalf("SerializeDocument changed the document's own settings or failed: %v", err)
	}
}

// sameAsEtree checks that the tree Parse built from b in its one pass is
// the tree etree's own reader builds from b with its attribute values
// normalized, as Parse read two passes before.
func sameAsEtree(t *testing.T, b []byte, doc *etree.Document) {
	t.Helper()
	ref := etree.NewDocument()
	ref.ReadSettings = etree.ReadSettings{}
	if err := ref.ReadFromBytes(normalizedDoc(b)); err != nil {
		t.Fatalf("Parse accepted %q, etree refuses it: %v", b, err)
	}
	if got, want := dumpTree(&doc.Element), dumpTree(&ref.Element); got != want {
		t.Fatalf("tree of %q differs from etree's:\n%s\n%s", b, got, want)
	}
}

// normalizedDoc is b with every start tag passed through normalizeTag.
func normalizedDoc(b []byte) []byte {
	d := xml.NewDecoder(bytes.NewReader(b))
	var out []byte
	last := int64(0)
	for {
		at := d.InputOffset()
		tok, err := d.RawToken()
		if err != nil {
			return append(out, b[last:]...)
		}
		if _, ok := tok.(xml.StartElement); ok {
			if fixed := normalizeTag(b[at:d.InputOffset()]); fixed != nil {
				out = append(append(out, b[last:at]...), fixed...)
				last = d.InputOffset()
			}
		}
	}
}

// dumpTree writes every token under e with each field a reader can see.
func dumpTree(e *etree.Element) string {
	var sb strings.Builder
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		fmt.Fprintf(&sb, "<%q:%q", e.Space, e.Tag)
		for _, a := range e.Attr {
			fmt.Fprintf(&sb, " %q:%q=%q(%v)", a.Space, a.Key, a.Value, a.Element() == e)
		}
		sb.WriteString(">")
		for i, c := range e.Child {
			if c.Index() != i || c.Parent() != e {
				fmt.Fprintf(&sb, "[index %d parent %p]", c.Index(), c.Parent())
			}
			switch c := c.(type) {
			case *etree.Element:
				walk(c)
			case *etree.CharData:
				fmt.Fprintf(&sb, "text(%q,%v,%v)", c.Data, c.IsWhitespace(), c.IsCData())
			case *etree.Comment:
				fmt.Fprintf(&sb, "comment(%q)", c.Data)
			case *etree.ProcInst:
				fmt.Fprintf(&sb, "pi(%q,%q)", c.Target, c.Inst)
			default:
				fmt.Fprintf(&sb, "%T", c)
			}
		}
		sb.WriteString("</>")
	}
	walk(e)
	return sb.String()
}

func TestParseSpans(t *testing.T) {
	b := []byte("<?xml version=\"1.0\"?>\n<a:r xmlns:a=\"urn:a\"><a:h x=\"1\t2\"><a:t>text</a:t><!-- c --><a:e/></a:h><a:b>x<a:deep>y<a:deeper/></a:deep></a:b></a:r>")
	doc, spans, err := ParseSpans(b, Limits{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := doc.Root()
	h, body := r.ChildElements()[0], r.ChildElements()[1]
	tt, e, deep := h.ChildElements()[0], h.ChildElements()[1], body.ChildElements()[0]
	want := map[*etree.Element][2]string{
		r:    {string(b[22:]), `<a:h x="1` + "\t" + `2"><a:t>text</a:t><!-- c --><a:e/></a:h><a:b>x<a:deep>y<a:deeper/></a:deep></a:b>`},
		h:    {`<a:h x="1` + "\t" + `2"><a:t>text</a:t><!-- c --><a:e/></a:h>`, `<a:t>text</a:t><!-- c --><a:e/>`},
		body: {`<a:b>x<a:deep>y<a:deeper/></a:deep></a:b>`, `x<a:deep>y<a:deeper/></a:deep>`},
		tt:   {`<a:t>text</a:t>`, `text`},
		e:    {`<a:e/>`, ``},
		deep: {`<a:deep>y<a:deeper/></a:deep>`, `y<a:deeper/>`},
	}
	if len(spans) != len(want) {
		t.Errorf("%d spans, want %d (depth 3 and above only)", len(spans), len(want))
	}
	for el, w := range want {
		s, ok := spans[el]
		if !ok {
			t.Errorf("no span for %s", el.Tag)
			continue
		}
		if got := string(b[s.Start:s.End]); got != w[0] {
			t.Errorf("%s: element %q, want %q", el.Tag, got, w[0])
		}
		if got := string(b[s.Inner:s.InnerEnd]); got != w[1] {
			t.Errorf("%s: content %q, want %q", el.Tag, got, w[1])
		}
	}
	if _, spans, _ := ParseSpans(b, Limits{}, 0); spans != nil {
		t.Errorf("depth 0 recorded spans")
	}
}
