package browser

import (
	"errors"
	"fmt"
	"html"
	"net/url"
	"strings"
)

// Form is one HTML form of a page: its resolved action, its method and the
// values a browser would submit (hidden, text and the like; not the submit
// buttons, which a script-run submit() leaves out).
type Form struct {
	Action *url.URL
	Method string
	Values url.Values
}

// maxTags bounds the tags one page may hold for the form scanner.
const maxTags = 100000

// ErrHTML reports a page the form scanner could not read.
var ErrHTML = errors.New("browser: unreadable HTML")

// ParseForms returns the forms of an HTML page, resolving actions against
// base (an empty action is the page itself, HTML 4.01 §17.3 as browsers
// do). The scanner is small and strict about what it reads: start tags and
// their attributes (quoted or bare, entity-decoded), comments and the raw
// text of script and style elements skipped; it is meant for the forms of
// SAML POST-binding pages, not for arbitrary HTML.
func ParseForms(body []byte, base *url.URL) ([]Form, error) {
	s := scanner{src: string(body)}
	var forms []Form
	var cur *Form
	for n := 0; n < maxTags; n++ {
		t, ok, err := s.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return forms, nil
		}
		switch {
		case t.name == "form" && !t.end:
			f, err := newForm(t.attrs, base)
			if err != nil {
				return nil, err
			}
			forms = append(forms, f)
			cur = &forms[len(forms)-1]
		case t.name == "form" && t.end:
			cur = nil
		case t.name == "input" && cur != nil:
			addInput(cur, t.attrs)
		}
	}
	return nil, fmt.Errorf("%w: more than %d tags", ErrHTML, maxTags)
}

func newForm(attrs map[string]string, base *url.URL) (Form, error) {
	action, err := base.Parse(attrs["action"])
	if err != nil {
		return Form{}, fmt.Errorf("%w: form action %q: %v", ErrHTML, attrs["action"], err)
	}
	method := strings.ToUpper(attrs["method"])
	if method == "" {
		method = "GET"
	}
	return Form{Action: action, Method: method, Values: url.Values{}}, nil
}

// addInput adds a named input's value unless it is a button or an
// unchecked box.
func addInput(f *Form, attrs map[string]string) {
	name, ok := attrs["name"]
	if !ok || name == "" {
		return
	}
	switch strings.ToLower(attrs["type"]) {
	case "submit", "button", "reset", "image", "file":
		return
	case "checkbox", "radio":
		if _, checked := attrs["checked"]; !checked {
			return
		}
	}
	f.Values.Add(name, attrs["value"])
}

// tag is one start or end tag.
type tag struct {
	name  string
	end   bool
	attrs map[string]string
}

type scanner struct {
	src string
	pos int
}

// next returns the next tag, skipping text, comments, doctypes and the raw
// text of script and style.
func (s *scanner) next() (tag, bool, error) {
	for {
		i := strings.IndexByte(s.src[s.pos:], '<')
		if i < 0 {
			return tag{}, false, nil
		}
		s.pos += i
		rest := s.src[s.pos:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			if err := s.skipPast("-->"); err != nil {
				return tag{}, false, err
			}
		case strings.HasPrefix(rest, "<!") || strings.HasPrefix(rest, "<?"):
			if err := s.skipPast(">"); err != nil {
				return tag{}, false, err
			}
		default:
			t, err := s.tag()
			if err != nil || t.name == "" {
				if err != nil {
					return tag{}, false, err
				}
				continue
			}
			if !t.end && (t.name == "script" || t.name == "style") {
				err = s.skipRawText(t.name)
			}
			return t, true, err
		}
	}
}

func (s *scanner) skipPast(end string) error {
	i := strings.Index(s.src[s.pos:], end)
	if i < 0 {
		return fmt.Errorf("%w: unterminated %q at byte %d", ErrHTML, s.src[s.pos:min(s.pos+4, len(s.src))], s.pos)
	}
	s.pos += i + len(end)
	return nil
}

// skipRawText moves past the matching end tag of a raw-text element.
func (s *scanner) skipRawText(name string) error {
	i := strings.Index(strings.ToLower(s.src[s.pos:]), "</"+name)
	if i < 0 {
		return fmt.Errorf("%w: unterminated <%s>", ErrHTML, name)
	}
	s.pos += i
	return nil
}

// tag reads a tag at s.pos ("<" is there). A "<" not followed by a letter
// or "/letter" is text: the name comes back empty.
func (s *scanner) tag() (tag, error) {
	s.pos++
	var t tag
	if s.pos < len(s.src) && s.src[s.pos] == '/' {
		t.end = true
		s.pos++
	}
	t.name = strings.ToLower(s.word())
	if t.name == "" {
		return tag{}, nil
	}
	attrs, err := s.attributes()
	t.attrs = attrs
	return t, err
}

// attributes reads name[=value] pairs up to ">" (first occurrence wins,
// as in HTML).
func (s *scanner) attributes() (map[string]string, error) {
	attrs := map[string]string{}
	for n := 0; n < maxTags; n++ {
		s.space()
		if s.pos >= len(s.src) {
			return nil, fmt.Errorf("%w: unterminated tag", ErrHTML)
		}
		switch s.src[s.pos] {
		case '>':
			s.pos++
			return attrs, nil
		case '/':
			s.pos++
			continue
		}
		name := strings.ToLower(s.word())
		if name == "" {
			return nil, fmt.Errorf("%w: bad attribute at byte %d", ErrHTML, s.pos)
		}
		val, err := s.value()
		if err != nil {
			return nil, err
		}
		if _, seen := attrs[name]; !seen {
			attrs[name] = html.UnescapeString(val)
		}
	}
	return nil, fmt.Errorf("%w: too many attributes", ErrHTML)
}

// value reads an optional "=value", quoted or bare.
func (s *scanner) value() (string, error) {
	s.space()
	if s.pos >= len(s.src) || s.src[s.pos] != '=' {
		return "", nil
	}
	s.pos++
	s.space()
	if s.pos < len(s.src) && (s.src[s.pos] == '"' || s.src[s.pos] == '\'') {
		q := s.src[s.pos]
		end := strings.IndexByte(s.src[s.pos+1:], q)
		if end < 0 {
			return "", fmt.Errorf("%w: unterminated attribute value", ErrHTML)
		}
		v := s.src[s.pos+1 : s.pos+1+end]
		s.pos += end + 2
		return v, nil
	}
	start := s.pos
	for s.pos < len(s.src) && !strings.ContainsRune(" \t\r\n\f>", rune(s.src[s.pos])) {
		s.pos++
	}
	return s.src[start:s.pos], nil
}

// word reads a tag or attribute name.
func (s *scanner) word() string {
	start := s.pos
	for s.pos < len(s.src) && !strings.ContainsRune(" \t\r\n\f/>=\"'<", rune(s.src[s.pos])) {
		s.pos++
	}
	return s.src[start:s.pos]
}

func (s *scanner) space() {
	for s.pos < len(s.src) && strings.ContainsRune(" \t\r\n\f", rune(s.src[s.pos])) {
		s.pos++
	}
}
