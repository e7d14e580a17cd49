package obs

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/wsf"
)

// HeaderRequestID is the response header that names the request ID a
// role gave the request, for an operator matching a page to the logs.
const HeaderRequestID = "X-Request-ID"

// unmatched is the route of a request no route matched: the raw path
// would make a series of every path a scanner tries.
const unmatched = "unmatched"

// Serve wraps next, the handler of the listener named listener: each
// request gets a fresh request ID of the role's own (one from the request
// is never taken: it comes from the internet), carried in its context
// (wsf.WithRequestID, for the MessageIDs of the SOAP calls made while
// serving it) and in the X-Request-ID response header; once served, the
// request is counted in m (when set) and logged as one line: method,
// route template, status, duration and request ID.
func Serve(m *Metrics, log *slog.Logger, listener string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := wsf.NewRequestID()
		ctx := httpx.WithRouteCell(wsf.WithRequestID(r.Context(), id))
		w.Header().Set(HeaderRequestID, id)
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		d := time.Since(start)
		route := httpx.Route(ctx)
		if route == "" {
			route = unmatched
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		if m != nil {
			m.request(listener, route, methodLabel(r.Method), status, d)
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelWarn
		}
		log.LogAttrs(ctx, level, "request", slog.String("request_id", id), slog.String("listener", listener),
			slog.String("method", methodLabel(r.Method)), slog.String("route", route), slog.Int("status", status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000))
	})
}

// recorder keeps the status a handler writes.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush passes a flush on, for handlers that stream.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Verified returns the hook of wsf/server Config.Verified: it logs a
// SOAP request whose message verification passed, with its verified
// sender, its MessageID and the request ID the MessageID carries (the ID
// its caller gave this recipient for the caller's request, which the
// caller's log pairs with its own: wsf.RecipientRequestID), beside the
// request ID this role gave the request. The caller's ID is logged only, never trusted.
func Verified(log *slog.Logger) func(ctx context.Context, sender, messageID string) {
	return func(ctx context.Context, sender, messageID string) {
		log.LogAttrs(ctx, slog.LevelInfo, "message verified", slog.String("request_id", wsf.RequestID(ctx)),
			slog.String("sender", sender), slog.String("message_id", messageID),
			slog.String("caller_request_id", wsf.RequestIDOf(messageID)))
	}
}

// methodLabel is the request's method as a metric label and in the log:
// net/http takes any token as a method, and each new label value would be
// new series kept for good, so a client could grow the metrics without
// end. Methods no route serves are "other".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}
