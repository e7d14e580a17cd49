package sample

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// PensionOffice is the pension service's own REST back office over
// PensionRecords, read-only, for the HTTP/JSON adapter (wsp/httpjson) to
// wrap:
//
//	GET /persons/{number}                     the person and the summary of their record
//	GET /persons/{number}/contributions       their contributions, newest month first
//	GET /persons/{number}/contributions/{id}  one contribution
//
// The list takes limit (1 to MaxLimit, DefaultLimit when absent), offset,
// kind (national, employee), status (paid, unpaid, exempt) and
// changed_since (RFC 3339: changed after it), and answers
// {"items": [...], "total": N}, total counting every item the filters
// select. A parameter it does not know, or one given twice or malformed,
// is a 400 with {"error": "..."}; an unknown person or contribution a 404.
type PensionOffice struct {
	persons map[string]*PensionPerson
	mux     *http.ServeMux
}

// The list's page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// NewPensionOffice serves d, which it does not copy: d must not change
// while the office serves it.
func NewPensionOffice(d *PensionRecords) *PensionOffice {
	o := &PensionOffice{persons: map[string]*PensionPerson{}, mux: http.NewServeMux()}
	for i := range d.Persons {
		o.persons[d.Persons[i].Number] = &d.Persons[i]
	}
	o.mux.HandleFunc("GET /persons/{number}", o.person)
	o.mux.HandleFunc("GET /persons/{number}/contributions", o.contributions)
	o.mux.HandleFunc("GET /persons/{number}/contributions/{id}", o.contribution)
	return o
}

func (o *PensionOffice) ServeHTTP(w http.ResponseWriter, r *http.Request) { o.mux.ServeHTTP(w, r) }

// personView is a person as GET /persons/{number} shows them.
type personView struct {
	Number    string         `json:"number"`
	Name      string         `json:"name"`
	Kana      string         `json:"kana"`
	BirthDate string         `json:"birth_date"`
	Summary   PensionSummary `json:"summary"`
}

// page is the answer of the list.
type page struct {
	Items []Contribution `json:"items"`
	Total int            `json:"total"`
}

func (o *PensionOffice) person(w http.ResponseWriter, r *http.Request) {
	p := o.find(w, r)
	if p == nil {
		return
	}
	if len(r.URL.Query()) > 0 {
		writeError(w, http.StatusBadRequest, "no query parameters here")
		return
	}
	writeJSON(w, http.StatusOK, personView{p.Number, p.Name, p.Kana, p.BirthDate, p.Summary})
}

func (o *PensionOffice) contribution(w http.ResponseWriter, r *http.Request) {
	p := o.find(w, r)
	if p == nil {
		return
	}
	id := r.PathValue("id")
	for _, c := range p.Contributions {
		if c.ID == id {
			writeJSON(w, http.StatusOK, c)
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no contribution %q", id))
}

func (o *PensionOffice) contributions(w http.ResponseWriter, r *http.Request) {
	p := o.find(w, r)
	if p == nil {
		return
	}
	q, err := parseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := page{Items: []Contribution{}}
	for _, c := range p.Contributions {
		if !q.selects(c) {
			continue
		}
		if out.Total >= q.offset && len(out.Items) < q.limit {
			out.Items = append(out.Items, c)
		}
		out.Total++
	}
	writeJSON(w, http.StatusOK, out)
}

// find returns the person the path names, or answers 404.
func (o *PensionOffice) find(w http.ResponseWriter, r *http.Request) *PensionPerson {
	p := o.persons[r.PathValue("number")]
	if p == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no person %q", r.PathValue("number")))
	}
	return p
}

// listQuery is the list's parameters.
type listQuery struct {
	limit, offset int
	kind, status  string
	changedSince  time.Time
}

// parseListQuery reads the list's parameters, refusing any it does not
// know, any given twice and any malformed.
func parseListQuery(v url.Values) (listQuery, error) {
	q := listQuery{limit: DefaultLimit}
	for _, name := range slices.Sorted(maps.Keys(v)) {
		vals := v[name]
		if len(vals) != 1 {
			return q, fmt.Errorf("parameter %s given %d times", name, len(vals))
		}
		if err := q.set(name, vals[0]); err != nil {
			return q, err
		}
	}
	return q, nil
}

// set reads one parameter.
func (q *listQuery) set(name, val string) error {
	var err error
	switch name {
	case "limit":
		q.limit, err = boundedInt(name, val, 1, MaxLimit)
	case "offset":
		q.offset, err = boundedInt(name, val, 0, 1<<30)
	case "kind":
		q.kind, err = oneOf(name, val, national, employee)
	case "status":
		q.status, err = oneOf(name, val, statusPaid, statusUnpaid, statusExempt)
	case "changed_since":
		if q.changedSince, err = time.Parse(time.RFC3339, val); err != nil {
			err = fmt.Errorf("changed_since %q is not an RFC 3339 time", val)
		}
	default:
		err = fmt.Errorf("unknown parameter %s", name)
	}
	return err
}

// selects reports whether c passes the query's filters.
func (q listQuery) selects(c Contribution) bool {
	if (q.kind != "" && c.Kind != q.kind) || (q.status != "" && c.Status != q.status) {
		return false
	}
	if q.changedSince.IsZero() {
		return true
	}
	t, err := time.Parse(time.RFC3339, c.UpdatedAt)
	return err == nil && t.After(q.changedSince)
}

func boundedInt(name, val string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(val)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s %q is not an integer from %d to %d", name, val, lo, hi)
	}
	return n, nil
}

func oneOf(name, val string, allowed ...string) (string, error) {
	for _, a := range allowed {
		if val == a {
			return val, nil
		}
	}
	return "", fmt.Errorf("%s %q is not one of %v", name, val, allowed)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
