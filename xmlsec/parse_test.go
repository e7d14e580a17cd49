package xmlsec

import (
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
