// Package obs is what every role's assembly shares to be operated: its
// Prometheus metrics (one registry per assembly, so that several roles in
// one process never collide), the handler that gives each HTTP request a
// request ID, one JSON log line and its counts, and the health and
// readiness endpoints of the admin listener.
package obs

import (
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
)

// Metrics are one role's metrics, in its own registry with the Go and
// process collectors. Every series carries the constant label role.
type Metrics struct {
	Registry *prometheus.Registry

	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	errors     *prometheus.CounterVec
	tokens     *prometheus.CounterVec
	signatures *prometheus.CounterVec
	store      *prometheus.HistogramVec
}

var (
	_ wsf.Meter         = (*Metrics)(nil)
	_ sqlstore.Observer = (*Metrics)(nil).ObserveStore
)

// NewMetrics returns the metrics of role ("idp", "ds", "wsp", "portal",
// "terminal") in a new registry.
func NewMetrics(role string) *Metrics {
	reg := prometheus.NewRegistry()
	f := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "renkei", Name: name, Help: help, ConstLabels: prometheus.Labels{"role": role}}
	}
	h := func(name, help string) prometheus.HistogramOpts {
		o := f(name, help)
		return prometheus.HistogramOpts{Namespace: o.Namespace, Name: o.Name, Help: o.Help, ConstLabels: o.ConstLabels,
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}
	}
	m := &Metrics{Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts(f("http_requests_total",
			"HTTP requests served, by listener, route template, method and status code.")), []string{"listener", "route", "method", "code"}),
		duration: prometheus.NewHistogramVec(h("http_request_duration_seconds",
			"Time to serve an HTTP request, by listener, route template and method."), []string{"listener", "route", "method"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts(f("http_request_errors_total",
			"HTTP requests answered with a status of 400 or more (SOAP faults are 500), by listener, route template, method and status code.")),
			[]string{"listener", "route", "method", "code"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts(f("tokens_minted_total",
			"ID-WSF tokens minted, by kind: bootstrap (the IdP's DS token), ds (a DS token for a WSP).")), []string{"kind"}),
		signatures: prometheus.NewCounterVec(prometheus.CounterOpts(f("signatures_total",
			"XML signatures made (op sign) and signed messages checked (op verify), by result ok or error.")), []string{"op", "result"}),
		store: prometheus.NewHistogramVec(h("store_operation_duration_seconds",
			"Time of a store call, by operation (the store method) and result ok, not_found or error."), []string{"op", "result"}),
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.errors, m.tokens, m.signatures, m.store)
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Signature counts a signature made or a signed message checked
// (wsf.Meter).
func (m *Metrics) Signature(op string, err error) {
	m.signatures.WithLabelValues(op, result(err)).Inc()
}

// Minted counts a token minted (wsf.Meter).
func (m *Metrics) Minted(kind string) { m.tokens.WithLabelValues(kind).Inc() }

// ObserveStore records a store call (sqlstore.Observer).
func (m *Metrics) ObserveStore(op string, d time.Duration, err error) {
	m.store.WithLabelValues(op, result(err)).Observe(d.Seconds())
}

// request records one HTTP request served.
func (m *Metrics) request(listener, route, method string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(listener, route, method, code).Inc()
	m.duration.WithLabelValues(listener, route, method).Observe(d.Seconds())
	if status >= 400 {
		m.errors.WithLabelValues(listener, route, method, code).Inc()
	}
}

func result(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, sql.ErrNoRows), errors.Is(err, store.ErrNotFound):
		return "not_found"
	}
	return "error"
}
