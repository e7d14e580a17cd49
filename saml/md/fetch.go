package md

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// DefaultMaxBytes bounds one metadata document: an aggregate of a few
// thousand entities fits.
const DefaultMaxBytes = 16 << 20

// SourceError says which source failed and why; Err is a *Error, an
// *xmlsec.Error or an I/O error, matched with errors.Is and errors.As.
type SourceError struct {
	Location string
	Err      error
}

// Error names the source and the cause.
func (e *SourceError) Error() string {
	return fmt.Sprintf("md: source %s: %v", e.Location, e.Err)
}

// Unwrap returns the cause.
func (e *SourceError) Unwrap() error { return e.Err }

func isURL(loc string) bool {
	return strings.HasPrefix(loc, "https://") || strings.HasPrefix(loc, "http://")
}

// fetch reads the bytes of a source, a file path or an https URL, refusing
// more than max bytes with xmlsec.ErrTooLarge.
func fetch(ctx context.Context, c *http.Client, loc string, max int) ([]byte, error) {
	if !isURL(loc) {
		f, err := os.Open(loc)
		if err != nil {
			return nil, &Error{Kind: KindFetch, Err: err}
		}
		defer f.Close()
		return readLimited(f, max)
	}
	if !strings.HasPrefix(loc, "https://") {
		return nil, Errorf(KindFetch, "metadata is fetched only over https (SAML2.md §11)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, &Error{Kind: KindFetch, Err: err}
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9")
	resp, err := c.Do(req)
	if err != nil {
		return nil, &Error{Kind: KindFetch, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, Errorf(KindFetch, "HTTP status %d", resp.StatusCode)
	}
	if resp.ContentLength > int64(max) {
		return nil, xmlsec.Errorf(xmlsec.KindTooLarge, "Content-Length %d over %d bytes", resp.ContentLength, max)
	}
	return readLimited(resp.Body, max)
}

func readLimited(r io.Reader, max int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, &Error{Kind: KindFetch, Err: err}
	}
	if len(b) > max {
		return nil, xmlsec.Errorf(xmlsec.KindTooLarge, "metadata over %d bytes", max)
	}
	return b, nil
}

// maxRedirects bounds the redirects one fetch follows.
const maxRedirects = 5

// httpsOnly returns a copy of c that follows at most maxRedirects
// redirects and none away from https, so that a redirect cannot downgrade
// a fetch to plain HTTP. The caller's client is not changed.
func httpsOnly(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return Errorf(KindFetch, "redirect to %s refused: https only", req.URL.Scheme)
		}
		if len(via) >= maxRedirects {
			return Errorf(KindFetch, "more than %d redirects", maxRedirects)
		}
		return nil
	}
	return &cp
}
