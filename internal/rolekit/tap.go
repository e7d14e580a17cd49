package rolekit

import (
	"bytes"
	"io"
	"net/http"
)

// maxTap bounds what a tap reads of one body.
const maxTap = 4 << 20

// TapTransport gives every response body base returns to tap, then
// hands it on unchanged: tests that prove what a role learns from its
// peers (the portal's and the terminal's Options.Tap).
func TapTransport(base http.RoundTripper, tap func([]byte)) http.RoundTripper {
	return tapTransport{base: base, tap: tap}
}

type tapTransport struct {
	base http.RoundTripper
	tap  func([]byte)
}

func (t tapTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxTap))
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	t.tap(b)
	res.Body = io.NopCloser(bytes.NewReader(b))
	return res, nil
}

// TapHandler gives every request's URL and body to tap before next
// serves it.
func TapHandler(next http.Handler, tap func([]byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxTap))
		if err != nil {
			http.Error(w, "body", http.StatusBadRequest)
			return
		}
		tap(append([]byte(r.URL.String()+"\n"), b...))
		r.Body = io.NopCloser(bytes.NewReader(b))
		next.ServeHTTP(w, r)
	})
}
