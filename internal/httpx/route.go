package httpx

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
)

// A route is the template a router matched a request by ("/labs",
// "/disco", "GET /wait"): what the metrics and the request log name an
// endpoint by, never the raw path, whose values are unbounded. The
// outermost handler of a listener opens a cell in the request's context
// (WithRouteCell); the router, deeper down, fills it (MarkRoute,
// SetRoute); the outer handler reads it once the request is served.

type routeKey struct{}

type routeCell struct{ route string }

// WithRouteCell returns ctx with an empty route cell.
func WithRouteCell(ctx context.Context) context.Context {
	return context.WithValue(ctx, routeKey{}, &routeCell{})
}

// SetRoute records the route r was matched by, when r's context has a
// cell.
func SetRoute(r *http.Request, route string) {
	if c, ok := r.Context().Value(routeKey{}).(*routeCell); ok {
		c.route = route
	}
}

// Route returns the route recorded in ctx's cell, "" when none.
func Route(ctx context.Context) string {
	if c, ok := ctx.Value(routeKey{}).(*routeCell); ok {
		return c.route
	}
	return ""
}

// MarkRoute is a gorilla/mux middleware (Router.Use) that records the
// path template of the route the router matched.
func MarkRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt := mux.CurrentRoute(r); rt != nil {
			if tpl, err := rt.GetPathTemplate(); err == nil {
				SetRoute(r, tpl)
			}
		}
		next.ServeHTTP(w, r)
	})
}
