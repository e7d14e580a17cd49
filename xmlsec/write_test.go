package xmlsec

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// etreeSerialize is what Serialize wrote before it had its own writer:
// etree's writer, with writeSettings, on DetachCopy(el) as it was then. Serialize must
// write the same bytes.
func etreeSerialize(t testing.TB, el *etree.Element) []byte {
	c := copyTree(el, nil, false)
	declareInheritedAsBefore(c, el)
	doc := etree.NewDocument()
	doc.SetRoot(c)
	doc.WriteSettings = writeSettings()
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// declareInheritedAsBefore is DetachCopy's declaration of inherited
// bindings as it was before Serialize and DetachCopy shared inherited:
// the reference keeps its own walk, so that the test checks that one.
func declareInheritedAsBefore(c, orig *etree.Element) {
	scope := ancestorScope(orig, nil)
	own := appendDecls(nil, orig)
	for i := len(scope) - 1; i >= 0; i-- {
		b := scope[i]
		if _, shadowed := lookupNS(own, b.prefix); shadowed {
			continue
		}
		own = append(own, b)
		if b.prefix == "" {
			if b.uri != "" {
				c.CreateAttr("xmlns", b.uri)
			}
			continue
		}
		c.CreateAttr("xmlns:"+b.prefix, b.uri)
	}
}

// etreeSerializeDocument is etree's writer on doc, with writeSettings.
func etreeSerializeDocument(t testing.TB, doc *etree.Document) []byte {
	saved := doc.WriteSettings
	doc.WriteSettings = writeSettings()
	defer func() { doc.WriteSettings = saved }()
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writesAsEtree checks Serialize on every element of doc, and
// SerializeDocument on doc, against etree's writer.
func writesAsEtree(t testing.TB, name string, doc *etree.Document) {
	t.Helper()
	got, err := SerializeDocument(doc)
	if err != nil {
		t.Fatal(err)
	}
	if want := etreeSerializeDocument(t, doc); !bytes.Equal(got, want) {
		t.Fatalf("%s: SerializeDocument\n got %q\nwant %q", name, got, want)
	}
	if doc.Root() == nil {
		return
	}
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		got, err := Serialize(el)
		if err != nil {
			t.Fatal(err)
		}
		if want := etreeSerialize(t, el); !bytes.Equal(got, want) {
			t.Fatalf("%s: Serialize(<%s>)\n got %q\nwant %q", name, el.FullTag(), got, want)
		}
		for _, c := range el.ChildElements() {
			walk(c)
		}
	}
	walk(doc.Root())
}

// tricky are documents whose writing needs each escape and each rule of
// etree's writer: references in text and attributes, characters XML does
// not allow, invalid UTF-8 and a literal U+FFFD, CDATA holding "]]>",
// comments, processing instructions, a directive, inherited and
// undeclared default namespaces, non-ASCII names and text.
var tricky = []string{
	"<a x=\"&lt;&gt;&amp;&quot;'\t\n\r\" y='&#x9;&#xA;&#xD;'>&lt;&gt;&amp;\"'\t\n&#xD;</a>",
	"<a><![CDATA[x]]]]><![CDATA[>y <&>]]>tail</a>",
	"<?xml version=\"1.0\"?><!DOCTYPE a><!--c--><a><?pi some data?><!-- in - side --><b/></a><!--after-->",
	`<p:a xmlns:p="urn:p" xmlns="urn:d" xmlns:q="urn:q"><b xmlns=""><p:c q:x="1"><d/></p:c></b><q:e xmlns:p="urn:p2"><f>t</f></q:e></p:a>`,
	"<r xmlns:名=\"urn:名\"><名:要素 属性=\"値 ✓ 𝄞\">本文 🍣 &amp; ｶﾅ</名:要素></r>",
	"<a>" + string(bytes.Repeat([]byte("QUJDRA+/="), 4000)) + "</a>",
}

func TestSerializeAsEtree(t *testing.T) {
	for i, s := range tricky {
		doc := etree.NewDocument()
		if err := doc.ReadFromString(s); err != nil {
			t.Fatalf("tricky %d: %v", i, err)
		}
		writesAsEtree(t, "tricky "+string(rune('0'+i)), doc)
	}
	for _, file := range corpus(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(b); err != nil {
			continue
		}
		writesAsEtree(t, file, doc)
	}
	// A tree built in code: text and attributes with CR, characters XML
	// does not allow, invalid UTF-8 and a literal U+FFFD, which a parser
	// never yields, and an inherited default namespace undeclared below.
	root := etree.NewElement("r")
	root.CreateAttr("xmlns", "urn:d")
	mid := root.CreateElement("m")
	mid.CreateAttr("xmlns", "")
	leaf := mid.CreateElement("l")
	leaf.SetText("a\rb\x00c\x01\x1f\x7f text \xff\xfe mid \xef\xbf\xbd end \xed\xa0\x80 > \"")
	leaf.CreateAttr("v", "x\ry\x01\xff\xef\xbf\xbd\t\n'>")
	doc := etree.NewDocument()
	doc.SetRoot(root)
	writesAsEtree(t, "built", doc)

	// CDATA (which etree's reader turns into text unless told otherwise)
	// and directives inside elements, which Serialize leaves out as
	// DetachCopy does: an element holding only a directive is written
	// empty, one holding text around a directive keeps the text.
	r := etree.NewElement("r")
	r.AddChild(etree.NewCData("a]]>b<&>]]>"))
	only := r.CreateElement("only")
	only.AddChild(etree.NewDirective("x"))
	mixed := r.CreateElement("mixed")
	mixed.AddChild(etree.NewText("before "))
	mixed.AddChild(etree.NewDirective("y"))
	mixed.AddChild(etree.NewCData("in"))
	mixed.AddChild(etree.NewText(" after"))
	doc = etree.NewDocument()
	doc.SetRoot(r)
	writesAsEtree(t, "cdata-and-directives", doc)
	if got, _ := Serialize(only); string(got) != "<only/>" {
		t.Fatalf("an element holding only a directive: %q", got)
	}
}

// FuzzSerialize checks Serialize and SerializeDocument against etree's
// writer on whatever Parse reads, and on what etree's own reader makes of
// the input with CDATA kept. Seeds are the shared examples and
// captures and the tricky documents.
func FuzzSerialize(f *testing.F) {
	for _, file := range corpus(f) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range tricky {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return
		}
		if doc, err := Parse(b, Limits{MaxBytes: 64 << 10}); err == nil {
			writesAsEtree(t, "parsed", doc)
		}
		// etree's reader, keeping CDATA, reaches what Parse refuses:
		// directives, CDATA sections. Names with a colon in the local
		// part are left out: DetachCopy, the reference, splits them.
		doc := etree.NewDocument()
		doc.ReadSettings.PreserveCData = true
		if doc.ReadFromBytes(b) != nil || oddNames(doc.Root()) {
			return
		}
		writesAsEtree(t, "read", doc)
	})
}

// oddNames reports whether a name in el's subtree has a colon in its local
// part, which etree's reader makes of "<:/>" or "<a:b:c/>".
func oddNames(el *etree.Element) bool {
	if el == nil {
		return false
	}
	if strings.Contains(el.Tag, ":") {
		return true
	}
	for _, a := range el.Attr {
		if strings.Contains(a.Key, ":") {
			return true
		}
	}
	for _, c := range el.ChildElements() {
		if oddNames(c) {
			return true
		}
	}
	return false
}

func BenchmarkSerialize(b *testing.B) {
	for _, file := range corpus(b) {
		raw, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		if len(raw) < 8<<10 {
			continue
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			b.Fatal(err)
		}
		b.Run("etree", func(b *testing.B) {
			for range b.N {
				etreeSerialize(b, doc.Root())
			}
		})
		b.Run("wire", func(b *testing.B) {
			for range b.N {
				if _, err := Serialize(doc.Root()); err != nil {
					b.Fatal(err)
				}
			}
		})
		return
	}
}

// TestSerializeAllocatesOnce: the size hint covers the interop documents,
// so that their bytes are written into one buffer, never grown and copied.
func TestSerializeAllocatesOnce(t *testing.T) {
	for _, file := range corpus(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Parse(raw, Limits{})
		if err != nil {
			continue
		}
		if n := testing.AllocsPerRun(5, func() { Serialize(doc.Root()) }); n > 1 {
			t.Errorf("%s: Serialize made %.0f allocations, want 1", file, n)
		}
		// A declaration or comment beside the root goes through etree's
		// writer, with buffers of its own: a SOAP envelope has none.
		bare := etree.NewDocument()
		bare.SetRoot(doc.Root().Copy())
		if n := testing.AllocsPerRun(5, func() { SerializeDocument(bare) }); n > 1 {
			t.Errorf("%s: SerializeDocument made %.0f allocations, want 1", file, n)
		}
	}
}
