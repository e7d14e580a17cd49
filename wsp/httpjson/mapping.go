// Package httpjson is a wsp.Backend over a back office that offers a REST
// API answering in JSON, driven by a mapping file: which path lists the
// records of an item type, where in the answer they are, which keys hold
// the catalog's fields, and the query parameters that page, filter and
// select changed records. Bringing on such a back office is a mapping
// file, never Go code. The pension service's mapping (wsp/sample writes
// it as pension-mapping.json beside the data PensionOffice serves):
//
//	{"base": "http://127.0.0.1:8090", "timeout": "2s",
//	 "services": {"urn:renkei:svc:pension:1.0": {
//	   "subject": "/persons/{subject}",
//	   "items": {
//	     "Contribution": {
//	       "path": "/persons/{subject}/contributions",
//	       "item": "/persons/{subject}/contributions/{id}",
//	       "list": "items", "total": "total", "id": "id", "modified": "updated_at",
//	       "limit": "limit", "offset": "offset", "maxLimit": 200, "changedSince": "changed_since",
//	       "filters": {"Kind": "kind", "Status": "status"},
//	       "fields": {"Month": "month", "Kind": "kind", "Amount": "amount", "Status": "status"}},
//	     "Summary": {
//	       "path": "/persons/{subject}", "object": "summary",
//	       "fields": {"Months": "months", "PaidMonths": "paid_months", "ExemptMonths": "exempt_months",
//	                  "ExpectedAnnual": "expected_annual", "PensionAge": "pension_age"}}}}}}
//
// The keys of the file:
//
//   - base: the back office's absolute http or https URL; paths are
//     appended to it. timeout bounds every call (Go duration, default 2s).
//   - services: by service type URN (wsf/dst). subject is the path that
//     answers 200 for a subject the back office knows and 404 for one it
//     does not; {subject} in any path is the local identifier, escaped as
//     one path segment (url.PathEscape).
//   - items: by item type name. path is the GET whose JSON answer holds
//     the records: an array at list, or one object at object (an item
//     type with at most one record a subject, such as a summary). A key
//     (list, object, total, id, modified and every field's) is a dotted
//     path into a JSON object; "." is the answer itself.
//   - fields: catalog field name to key within a record. Every Required
//     field of the catalog must be mapped. JSON strings are strings,
//     numbers int64 when integral and float64 otherwise, true and false
//     bools, null or an absent key nil (absent).
//   - id: the key of the record's identifier (a string or a number),
//     required for a list. modified: the key of its modification time
//     (RFC 3339), optional.
//   - limit and offset: the query parameters that page the list, given
//     together, with maxLimit (default 100) the largest page the back
//     office serves. total: the key of the count of every record the
//     query selects; without it the adapter asks for one record more than
//     the page to learn whether more follow. Without limit and offset the
//     list is one answer, paged by the adapter.
//   - filters: catalog field to the query parameter selecting records whose
//     field equals the value. Every field the catalog lets a Select
//     filter on must have one.
//   - changedSince: the query parameter selecting records changed after an
//     RFC 3339 time (UTC). Without it a lookup that asks for changed
//     records gets every record, marked NoHistory.
//   - item: the path of one record, with {id} its identifier, answering
//     the record's object or 404. Without it a lookup by identifier walks
//     the list, a page at a time.
//
// The mapping has no writes: Write refuses every write with
// ActionNotAuthorized. Load and Parse report every problem of a file at
// once, each named by where it is.
package httpjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// Mapping is a parsed mapping file.
type Mapping struct {
	// Base is the back office's URL; tests point it at their own server.
	Base     string
	Timeout  time.Duration
	Services map[string]*Service
}

// Service maps one service type.
type Service struct {
	Subject string
	Items   map[string]*Item
}

// Item maps one item type; the fields are the file's keys (package doc).
type Item struct {
	Path, ItemPath  string
	List, Object    string
	Total, ID       string
	Modified        string
	Limit, Offset   string
	MaxLimit        int
	ChangedSince    string
	Filters, Fields map[string]string
}

// The defaults of a mapping.
const (
	DefaultTimeout  = 2 * time.Second
	DefaultMaxLimit = 100
)

// file is the JSON form of a mapping.
type file struct {
	Base     string                  `json:"base"`
	Timeout  string                  `json:"timeout"`
	Services map[string]*fileService `json:"services"`
}

type fileService struct {
	Subject string               `json:"subject"`
	Items   map[string]*fileItem `json:"items"`
}

type fileItem struct {
	Path         string            `json:"path"`
	Item         string            `json:"item"`
	List         string            `json:"list"`
	Object       string            `json:"object"`
	Total        string            `json:"total"`
	ID           string            `json:"id"`
	Modified     string            `json:"modified"`
	Limit        string            `json:"limit"`
	Offset       string            `json:"offset"`
	MaxLimit     int               `json:"maxLimit"`
	ChangedSince string            `json:"changedSince"`
	Filters      map[string]string `json:"filters"`
	Fields       map[string]string `json:"fields"`
}

// Load reads and parses the mapping file path.
func Load(path string) (*Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse parses a mapping file, refusing unknown keys, and reports every
// problem of it at once.
func Parse(data []byte) (*Mapping, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("httpjson: mapping: %w", err)
	}
	c := &checker{}
	m := &Mapping{Base: f.Base, Timeout: DefaultTimeout, Services: map[string]*Service{}}
	c.check(checkBase(f.Base), "base")
	if f.Timeout != "" {
		d, err := time.ParseDuration(f.Timeout)
		c.check(err, "timeout")
		if err == nil && d <= 0 {
			c.add("timeout: %s is not positive", f.Timeout)
		}
		m.Timeout = d
	}
	if len(f.Services) == 0 {
		c.add("services: none")
	}
	for _, ns := range slices.Sorted(maps.Keys(f.Services)) {
		if s := c.service(ns, f.Services[ns]); s != nil {
			m.Services[ns] = s
		}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return m, nil
}

// checker gathers the problems of a mapping.
type checker struct {
	where []string
	errs  []error
}

func (c *checker) add(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("httpjson: %s"+format, append([]any{c.at()}, args...)...))
}

// at names where the checker is, services["ns"].items["Item"]: .
func (c *checker) at() string {
	if len(c.where) == 0 {
		return ""
	}
	return strings.Join(c.where, ".") + ": "
}

func (c *checker) check(err error, what string) {
	if err != nil {
		c.add("%s: %v", what, err)
	}
}

func (c *checker) err() error { return errors.Join(c.errs...) }

func (c *checker) enter(format string, args ...any) func() {
	c.where = append(c.where, fmt.Sprintf(format, args...))
	return func() { c.where = c.where[:len(c.where)-1] }
}

// service checks and converts one service of the file.
func (c *checker) service(ns string, fs *fileService) *Service {
	defer c.enter("services[%q]", ns)()
	cat := dst.Lookup(ns)
	if cat == nil {
		c.add("no such service type in the catalog")
		return nil
	}
	if fs == nil {
		c.add("empty")
		return nil
	}
	s := &Service{Subject: fs.Subject, Items: map[string]*Item{}}
	c.path("subject", fs.Subject, "subject")
	if len(fs.Items) == 0 {
		c.add("items: none")
	}
	for _, name := range slices.Sorted(maps.Keys(fs.Items)) {
		if it := c.item(cat, name, fs.Items[name]); it != nil {
			s.Items[name] = it
		}
	}
	return s
}

// item checks and converts one item of the file.
func (c *checker) item(cat *dst.Service, name string, fi *fileItem) *Item {
	defer c.enter("items[%q]", name)()
	t := cat.Item(name)
	if t == nil {
		c.add("no such item type in the catalog")
		return nil
	}
	if fi == nil {
		c.add("empty")
		return nil
	}
	it := &Item{Path: fi.Path, ItemPath: fi.Item, List: fi.List, Object: fi.Object, Total: fi.Total, ID: fi.ID,
		Modified: fi.Modified, Limit: fi.Limit, Offset: fi.Offset, MaxLimit: fi.MaxLimit, ChangedSince: fi.ChangedSince,
		Filters: fi.Filters, Fields: fi.Fields}
	c.path("path", fi.Path, "subject")
	c.fields(t, fi.Fields)
	for _, k := range []struct{ what, key string }{{"list", fi.List}, {"object", fi.Object}, {"total", fi.Total},
		{"id", fi.ID}, {"modified", fi.Modified}} {
		if k.key != "" {
			c.check(checkKey(k.key), k.what)
		}
	}
	switch {
	case (fi.List == "") == (fi.Object == ""):
		c.add("give one of list and object")
	case fi.List != "":
		c.list(t, it)
	default:
		c.object(fi)
	}
	return it
}

// fields checks that every field is the catalog's and every required one
// is mapped.
func (c *checker) fields(t *dst.ItemType, fields map[string]string) {
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if t.Field(name) == nil {
			c.add("fields[%q]: no such field of %s in the catalog", name, t.Name)
		} else {
			c.check(checkKey(fields[name]), fmt.Sprintf("fields[%q]", name))
		}
	}
	for _, f := range t.Fields {
		if _, ok := fields[f.Name]; f.Required && !ok {
			c.add("fields: required field %s unmapped", f.Name)
		}
	}
}

// list checks the keys of a list item and fills its defaults.
func (c *checker) list(t *dst.ItemType, it *Item) {
	if it.ID == "" {
		c.add("id: a list needs the key of its records' identifier")
	}
	if (it.Limit == "") != (it.Offset == "") {
		c.add("limit and offset: give both or neither")
	}
	switch {
	case it.MaxLimit < 0 || (it.MaxLimit > 0 && it.Limit == ""):
		c.add("maxLimit: %d without limit, or negative", it.MaxLimit)
	case it.MaxLimit == 0:
		it.MaxLimit = DefaultMaxLimit
	case it.MaxLimit < 2 && it.Total == "":
		c.add("maxLimit: %d leaves no room to ask for one more", it.MaxLimit)
	}
	if it.ItemPath != "" {
		c.path("item", it.ItemPath, "subject", "id")
	}
	for _, name := range slices.Sorted(maps.Keys(it.Filters)) {
		if f := t.Field(name); f == nil || !f.Filter || it.Filters[name] == "" {
			c.add("filters[%q]: %s has no such filter field in the catalog", name, t.Name)
		}
	}
	for _, f := range t.Fields {
		if _, ok := it.Filters[f.Name]; f.Filter && !ok {
			c.add("filters: the catalog's filter field %s unmapped", f.Name)
		}
	}
}

// object checks that an object item has none of a list's keys.
func (c *checker) object(fi *fileItem) {
	for _, k := range []struct {
		what string
		set  bool
	}{{"item", fi.Item != ""}, {"total", fi.Total != ""}, {"limit", fi.Limit != ""}, {"offset", fi.Offset != ""},
		{"maxLimit", fi.MaxLimit != 0}, {"changedSince", fi.ChangedSince != ""}, {"filters", len(fi.Filters) > 0}} {
		if k.set {
			c.add("%s: only a list has it", k.what)
		}
	}
}

var placeholder = regexp.MustCompile(`\{[^}]*\}`)

// path checks a path template: absolute, holding the placeholders
// required and no others.
func (c *checker) path(what, p string, required ...string) {
	if !strings.HasPrefix(p, "/") {
		c.add("%s: %q is not a path starting with /", what, p)
		return
	}
	seen := map[string]bool{}
	for _, ph := range placeholder.FindAllString(p, -1) {
		name := ph[1 : len(ph)-1]
		if !slices.Contains(required, name) {
			c.add("%s: unknown placeholder %s", what, ph)
		}
		seen[name] = true
	}
	for _, r := range required {
		if !seen[r] {
			c.add("%s: %q lacks {%s}", what, p, r)
		}
	}
	if strings.ContainsAny(p, "?#") {
		c.add("%s: %q holds a query or fragment", what, p)
	}
}

// checkBase checks the back office's URL.
func checkBase(base string) error {
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("%q is not an absolute http or https URL", base)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%q holds a query, fragment or user", base)
	}
	return nil
}

// checkKey checks a dotted path into a JSON object.
func checkKey(key string) error {
	if key == "." {
		return nil
	}
	for _, part := range strings.Split(key, ".") {
		if part == "" {
			return fmt.Errorf("%q has an empty part", key)
		}
	}
	return nil
}
