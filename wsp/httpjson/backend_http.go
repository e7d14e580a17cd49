package httpjson

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp"
)

// Backend is a wsp.Backend over one REST back office, as its Mapping
// describes it. Every call is one or more GETs, each bounded by the
// mapping's timeout and by MaxBody.
type Backend struct {
	m      *Mapping
	base   string
	client *http.Client
	owned  bool
}

var _ wsp.Backend = (*Backend)(nil)

// MaxBody bounds an answer: a longer one fails the call.
const MaxBody = 4 << 20

// maxWalk bounds the pages a lookup by identifier walks when the mapping
// has no item path.
const maxWalk = 100

// Open returns the back office m maps, reached through client (nil: a
// client of its own, its idle connections closed by Close). It checks
// m.Base again, which a test may have pointed at its own server.
func Open(m *Mapping, client *http.Client) (*Backend, error) {
	if err := checkBase(m.Base); err != nil {
		return nil, fmt.Errorf("httpjson: base: %w", err)
	}
	if m.Timeout <= 0 {
		return nil, fmt.Errorf("httpjson: timeout %v is not positive", m.Timeout)
	}
	b := &Backend{m: m, base: strings.TrimSuffix(m.Base, "/"), client: client}
	if client == nil {
		b.client, b.owned = &http.Client{}, true
	}
	return b, nil
}

// Services returns the service types the mapping maps, in the catalog's
// order.
func (b *Backend) Services() []string {
	var out []string
	for _, s := range dst.Services() {
		if b.m.Services[s.NS] != nil {
			out = append(out, s.NS)
		}
	}
	return out
}

// Items returns the item types the mapping maps of service, in the
// catalog's order.
func (b *Backend) Items(service string) []string {
	s, cat := b.m.Services[service], dst.Lookup(service)
	if s == nil || cat == nil {
		return nil
	}
	var out []string
	for _, t := range cat.Items {
		if s.Items[t.Name] != nil {
			out = append(out, t.Name)
		}
	}
	return out
}

// Subject reports whether the back office knows local: its subject path
// answers 200, or 404 for a subject it does not know.
func (b *Backend) Subject(ctx context.Context, service, local string) (bool, error) {
	s := b.m.Services[service]
	if s == nil {
		return false, fmt.Errorf("httpjson: service %s is not mapped", service)
	}
	status, _, err := b.get(ctx, s.Subject, expand(s.Subject, local, ""), nil)
	return status == http.StatusOK, err
}

// Query returns one page of the records l selects. An item type whose
// path answers 404 for the subject has no records.
func (b *Backend) Query(ctx context.Context, l wsp.Lookup) (wsp.Page, error) {
	s := b.m.Services[l.Service]
	if s == nil || s.Items[l.Item] == nil {
		return wsp.Page{}, fmt.Errorf("httpjson: %s %s is not mapped", l.Service, l.Item)
	}
	it := s.Items[l.Item]
	switch {
	case it.Object != "":
		return b.queryObject(ctx, it, l)
	case l.ID != "":
		return b.queryID(ctx, it, l)
	}
	return b.queryList(ctx, it, l)
}

// queryObject reads the one record of an object item. Its ID is the
// value at id when the mapping names one, else the item type's name.
func (b *Backend) queryObject(ctx context.Context, it *Item, l wsp.Lookup) (wsp.Page, error) {
	r, found, err := b.one(ctx, it.Path, expand(it.Path, l.Subject, ""), it, it.Object)
	if it.ID == "" {
		r.ID = l.Item
	}
	return it.onePage(r, found && l.Offset == 0, l), err
}

// queryID reads the record l.ID of a list item: at the item path, or
// else by walking the list.
func (b *Backend) queryID(ctx context.Context, it *Item, l wsp.Lookup) (wsp.Page, error) {
	if it.ItemPath == "" {
		r, found, err := b.walk(ctx, it, l)
		return it.onePage(r, found, l), err
	}
	r, found, err := b.one(ctx, it.ItemPath, expand(it.ItemPath, l.Subject, l.ID), it, ".")
	return it.onePage(r, found, l), err
}

// one GETs path and reads the record at key of its answer; found is false
// for a 404.
func (b *Backend) one(ctx context.Context, tmpl, path string, it *Item, key string) (wsp.Record, bool, error) {
	answer, found, err := b.getJSON(ctx, tmpl, path, nil)
	if err != nil || !found {
		return wsp.Record{}, false, err
	}
	obj, err := object(answer, key)
	if err != nil {
		return wsp.Record{}, false, malformed(tmpl, err)
	}
	r, err := it.record(obj)
	if err != nil {
		return wsp.Record{}, false, malformed(tmpl, err)
	}
	return r, true, nil
}

// onePage is the page of at most one record r, kept when found and it
// passes l's conditions.
func (it *Item) onePage(r wsp.Record, found bool, l wsp.Lookup) wsp.Page {
	p := wsp.Page{NoHistory: !l.ChangedSince.IsZero() && it.Modified == ""}
	if found && matches(r, l, it.Modified != "") {
		p.Records = []wsp.Record{r}
	}
	return p
}

// walk pages through the list for the record l.ID.
func (b *Backend) walk(ctx context.Context, it *Item, l wsp.Lookup) (wsp.Record, bool, error) {
	offset := 0
	for range maxWalk {
		recs, more, err := b.fetch(ctx, it, l.Subject, url.Values{}, offset, pageSize(it, 0))
		if err != nil {
			return wsp.Record{}, false, err
		}
		for _, r := range recs {
			if r.ID == l.ID {
				return r, true, nil
			}
		}
		if !more || len(recs) == 0 {
			return wsp.Record{}, false, nil
		}
		offset += len(recs)
	}
	return wsp.Record{}, false, fmt.Errorf("httpjson: GET %s: %w: no record %s in %d pages",
		it.Path, wsp.ErrUnavailable, l.ID, maxWalk)
}

// queryList reads one page of a list item, the back office filtering by
// field and change time where the mapping names its parameters.
func (b *Backend) queryList(ctx context.Context, it *Item, l wsp.Lookup) (wsp.Page, error) {
	q := url.Values{}
	if l.Field != "" {
		p, ok := it.Filters[l.Field]
		if !ok {
			return wsp.Page{}, fmt.Errorf("httpjson: %s has no filter on %s", l.Item, l.Field)
		}
		q.Set(p, l.Value)
	}
	var page wsp.Page
	if !l.ChangedSince.IsZero() {
		if it.ChangedSince == "" {
			page.NoHistory = true
		} else {
			q.Set(it.ChangedSince, l.ChangedSince.UTC().Format(time.RFC3339Nano))
		}
	}
	var err error
	page.Records, page.More, err = b.fetch(ctx, it, l.Subject, q, l.Offset, pageSize(it, l.Count))
	return page, err
}

// pageSize is the number of records a page asks for: count, at most the
// back office's largest page; count ≤ 0 asks for the largest page, or the
// whole of a list the back office does not page.
func pageSize(it *Item, count int) int {
	switch {
	case it.Limit == "" && count <= 0:
		return math.MaxInt
	case it.Limit == "":
		return count
	case count <= 0:
		return it.MaxLimit
	}
	return min(count, it.MaxLimit)
}

// fetch reads count records of a list from offset on with the parameters
// q, and whether more follow: from total when the mapping names it, else
// by asking for one record more; a list the back office does not page is
// cut here.
func (b *Backend) fetch(ctx context.Context, it *Item, subject string, q url.Values, offset, count int) ([]wsp.Record, bool, error) {
	probe := it.Total == ""
	if it.Limit != "" {
		if probe && count >= it.MaxLimit {
			count = it.MaxLimit - 1
		}
		limit := count
		if probe {
			limit++
		}
		q.Set(it.Limit, strconv.Itoa(limit))
		q.Set(it.Offset, strconv.Itoa(offset))
	}
	answer, found, err := b.getJSON(ctx, it.Path, expand(it.Path, subject, ""), q)
	if err != nil || !found {
		return nil, false, err
	}
	objs, err := it.list(answer)
	if err != nil {
		return nil, false, malformed(it.Path, err)
	}
	if it.Limit == "" {
		objs = objs[min(offset, len(objs)):]
	}
	more := len(objs) > count
	if !probe && it.Limit != "" {
		total, err := it.total(answer)
		if err != nil {
			return nil, false, malformed(it.Path, err)
		}
		more = offset+min(len(objs), count) < total
	}
	objs = objs[:min(len(objs), count)]
	recs := make([]wsp.Record, len(objs))
	for i, obj := range objs {
		if recs[i], err = it.record(obj); err != nil {
			return nil, false, malformed(it.Path, fmt.Errorf("record %d: %w", i, err))
		}
	}
	return recs, more, nil
}

// Write refuses every write: the mapping format has none.
func (b *Backend) Write(ctx context.Context, ws []wsp.Write) ([]wsp.Record, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	return nil, &wsp.Refusal{Index: 0, Code: wsp.ActionNotAuthorized, Detail: "the back office's mapping offers no writes"}
}

// Close closes the idle connections of a client of the Backend's own.
func (b *Backend) Close() error {
	if b.owned {
		b.client.CloseIdleConnections()
	}
	return nil
}

// expand fills a path template, each value escaped as one path segment.
func expand(tmpl, subject, id string) string {
	return strings.NewReplacer("{subject}", url.PathEscape(subject), "{id}", url.PathEscape(id)).Replace(tmpl)
}

// getJSON GETs path and decodes its answer; found is false for a 404.
func (b *Backend) getJSON(ctx context.Context, tmpl, path string, q url.Values) (any, bool, error) {
	status, body, err := b.get(ctx, tmpl, path, q)
	if err != nil || status == http.StatusNotFound {
		return nil, false, err
	}
	v, err := decode(body)
	if err != nil {
		return nil, false, malformed(tmpl, err)
	}
	return v, true, nil
}

// get GETs path with the query q within the mapping's timeout and returns
// the status, 200 or 404, and the body. Any other status, a failed
// connection and a body over MaxBody wrap wsp.ErrUnavailable; a passed
// deadline is the context's error. Errors name the path template tmpl,
// never the subject's identifier.
func (b *Backend) get(ctx context.Context, tmpl, path string, q url.Values) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.m.Timeout)
	defer cancel()
	u := b.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("httpjson: GET %s: %w", tmpl, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, nil, failed(ctx, tmpl, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	switch {
	case err != nil:
		return 0, nil, failed(ctx, tmpl, err)
	case len(body) > MaxBody:
		return 0, nil, fmt.Errorf("httpjson: GET %s: %w: answer over %d bytes", tmpl, wsp.ErrUnavailable, MaxBody)
	case resp.StatusCode == http.StatusOK, resp.StatusCode == http.StatusNotFound:
		return resp.StatusCode, body, nil
	}
	return 0, nil, fmt.Errorf("httpjson: GET %s: %w: HTTP %d", tmpl, wsp.ErrUnavailable, resp.StatusCode)
}

// failed is the error of a request that got no complete answer: the
// context's when its deadline passed or it was cancelled, else the back
// office unavailable.
func failed(ctx context.Context, tmpl string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("httpjson: GET %s: %w", tmpl, ctx.Err())
	}
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err // without the URL, which holds the subject
	}
	return fmt.Errorf("httpjson: GET %s: %w: %v", tmpl, wsp.ErrUnavailable, err)
}

// malformed is the error of an answer the mapping cannot read.
func malformed(tmpl string, err error) error {
	return fmt.Errorf("httpjson: GET %s: %w: answer not as mapped: %v", tmpl, wsp.ErrUnavailable, err)
}
