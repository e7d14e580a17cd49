package obs

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Check is one condition of a role's readiness: Run returns why the role
// is not ready, nil when it is.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// checkTimeout bounds one readiness check (a store that hangs is not
// ready).
const checkTimeout = 2 * time.Second

// Paths of the admin listener.
const (
	PathMetrics = "/metrics"
	PathHealth  = "/healthz"
	PathReady   = "/readyz"
)

// Admin is the handler of a role's admin listener: /metrics (m's
// registry), /healthz (200 while the process serves) and /readyz (200
// when every check passes, else 503 naming each that failed). Its
// requests are neither counted nor logged: a scraper every few seconds
// would drown the role's own.
func Admin(m *Metrics, log *slog.Logger, checks ...Check) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+PathMetrics, m.Handler())
	mux.HandleFunc("GET "+PathHealth, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET "+PathReady, func(w http.ResponseWriter, r *http.Request) {
		ready(w, r, log, checks)
	})
	return mux
}

// Readiness is the body of /readyz: "ready" or "not ready", and each
// check's outcome, "ok" or why not.
type Readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func ready(w http.ResponseWriter, r *http.Request, log *slog.Logger, checks []Check) {
	out := Readiness{Status: "ready", Checks: map[string]string{}}
	for _, c := range checks {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		err := c.Run(ctx)
		cancel()
		out.Checks[c.Name] = "ok"
		if err != nil {
			out.Status, out.Checks[c.Name] = "not ready", err.Error()
			log.LogAttrs(r.Context(), slog.LevelWarn, "not ready", slog.String("check", c.Name), slog.String("error", err.Error()))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if out.Status != "ready" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(out)
}
