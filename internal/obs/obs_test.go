package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/wsf"
)

// TestServe: a request is counted and logged under its route template,
// not its path, with the request ID the handler saw in its context and
// the response header gave; an unmatched path is one series.
func TestServe(t *testing.T) {
	m := NewMetrics("test")
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	var seen string
	r := mux.NewRouter()
	r.Use(httpx.MarkRoute)
	r.HandleFunc("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		seen = wsf.RequestID(r.Context())
		http.Error(w, "gone", http.StatusGone)
	})
	h := Serve(m, log, "main", r)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/items/42", nil))
	id := rec.Header().Get(HeaderRequestID)
	if id == "" || id != seen {
		t.Fatalf("ok/request-id: header %q, context %q", id, seen)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/nothing/here", nil))
	first, _, _ := strings.Cut(logs.String(), "\n")
	var line map[string]any
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Fatal(err)
	}
	if line["msg"] != "request" || line["route"] != "/items/{id}" || line["status"] != float64(http.StatusGone) ||
		line["request_id"] != id || line["method"] != "GET" || line["duration_ms"] == nil {
		t.Fatalf("ok/logged: %v", line)
	}
	body := scrape(t, m)
	for _, want := range []string{
		`renkei_http_requests_total{code="410",listener="main",method="GET",role="test",route="/items/{id}"} 1`,
		`renkei_http_request_errors_total{code="410",listener="main",method="GET",role="test",route="/items/{id}"} 1`,
		`renkei_http_requests_total{code="404",listener="main",method="GET",role="test",route="unmatched"} 1`,
		`go_goroutines`, `process_`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("ok/metrics: no %s in\n%s", want, body)
		}
	}
	if strings.Contains(body, "/items/42") || strings.Contains(body, "/nothing/here") {
		t.Error("fail/raw-path: a raw path is a label")
	}
	for i := range 20 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(fmt.Sprintf("MADEUP%d", i), "/items/42", nil))
	}
	body = scrape(t, m)
	if strings.Contains(body, "MADEUP") || !strings.Contains(body, `method="other"`) {
		t.Error("fail/method-label: a client's made-up method is a label of its own")
	}
}

// TestAdmin: /healthz answers 200, /readyz 200 when every check passes
// and 503 naming the one that does not.
func TestAdmin(t *testing.T) {
	m := NewMetrics("test")
	m.Minted(wsf.TokenDS)
	m.Signature(wsf.SigVerify, errors.New("bad"))
	var broken error
	h := Admin(m, slog.New(slog.NewTextHandler(io.Discard, nil)),
		Check{Name: "store", Run: func(context.Context) error { return broken }},
		Check{Name: "keys", Run: func(context.Context) error { return nil }})
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get(PathHealth); code != http.StatusOK {
		t.Fatalf("ok/healthz: %d", code)
	}
	if code, body := get(PathReady); code != http.StatusOK || !strings.Contains(body, `"ready"`) {
		t.Fatalf("ok/ready: %d %s", code, body)
	}
	broken = errors.New("database is closed")
	if code, body := get(PathReady); code != http.StatusServiceUnavailable || !strings.Contains(body, "database is closed") || !strings.Contains(body, `"keys":"ok"`) {
		t.Fatalf("fail/store-closed: %d %s", code, body)
	}
	_, body := get(PathMetrics)
	for _, want := range []string{`renkei_tokens_minted_total{kind="ds",role="test"} 1`, `renkei_signatures_total{op="verify",result="error",role="test"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("ok/metrics: no %s", want)
		}
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathMetrics, nil))
	return rec.Body.String()
}
