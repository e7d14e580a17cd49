package xmlsec

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
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

// TestRoundTripCheckFires proves the round-trip check can fail: the
// duplicate expanded attribute names below are what encoding/xml rewrites
// on output (the namespace checks before it refuse such a tag first).
func TestRoundTripCheckFires(t *testing.T) {
	tok := xml.StartElement{Name: xml.Name{Local: "a"}, Attr: []xml.Attr{
		{Name: xml.Name{Space: "xmlns", Local: "p"}, Value: "urn:x"}, {Name: xml.Name{Space: "p", Local: "b"}, Value: "1"},
		{Name: xml.Name{Space: "xmlns", Local: "q"}, Value: "urn:x"}, {Name: xml.Name{Space: "q", Local: "b"}, Value: "2"},
	}}
	if err := roundTrip(tok); !errors.Is(err, ErrRoundTrip) {
		t.Fatalf("roundTrip = %v, want ErrRoundTrip", err)
	}
	if err := roundTrip(xml.StartElement{Name: xml.Name{Local: "a"}}); err != nil {
		t.Fatalf("ok/plain start tag: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`<a xmlns="urn:x"><b c="d">t</b></a>`, `<!DOCTYPE a><a/>`, `<a><![CDATA[x]]><!--c--><?p q?></a>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := Parse(b, Limits{})
		if err == nil && doc.Root() == nil {
			t.Fatal("nil root without error")
		}
		var xe *Error
		if err != nil && !errors.As(err, &xe) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
	})
}
