package idp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/binding"
)

// soapClient sends the IdP's own SAML requests to a peer over the SOAP
// binding (SAML Bindings §3.2): ManageNameIDRequest Terminate and the
// back-channel LogoutRequest. It is the one place that does so.
//
// A signed request goes only to the endpoint the peer's metadata names:
// the client follows no redirect (SAML Bindings §3.2.3.2 has a SOAP
// responder answer in the HTTP response itself), so a 3xx is a failure and
// the request is never posted again elsewhere. The answer is read up to
// DefaultMaxBody bytes, and each exchange is bounded by timeout.
type soapClient struct {
	hc      *http.Client
	timeout time.Duration
	// encode checks and serializes the outgoing envelope
	// (SSO.envelopeBytes).
	encode func(*binding.Envelope) ([]byte, error)
}

// HTTPClient is the transport of the IdP's own SOAP requests
// (NIMConfig.Client, SLOConfig.Client): declared here so that the engine's
// configuration names it without the engine files touching HTTP.
type HTTPClient = http.Client

// newSOAPClient returns a soapClient over a copy of hc, whose transport
// (TLS configuration, client certificate), jar and own Timeout it keeps,
// with redirects refused; nil hc means http.DefaultTransport. Each exchange
// lasts at most timeout.
func newSOAPClient(hc *http.Client, timeout time.Duration, encode func(*binding.Envelope) ([]byte, error)) *soapClient {
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &soapClient{hc: c, timeout: timeout, encode: encode}
}

// call posts msg in a SOAP envelope to loc, an https endpoint from the
// peer's metadata, and returns the Body element of the answer. Header
// blocks the peer marks mustUnderstand are refused: the IdP understands
// none in an answer.
func (c *soapClient) call(ctx context.Context, loc string, msg *etree.Element) (*etree.Element, error) {
	if err := safeURL(loc); err != nil {
		return nil, err
	}
	b, err := c.encode(&binding.Envelope{Body: msg})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.post(ctx, loc, b)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	env, err := (&binding.SOAPDecoder{MaxBody: DefaultMaxBody, Understood: []string{}}).Decode(res.Body)
	if err != nil {
		return nil, Wrap(CodeInternal, err, fmt.Sprintf("SOAP answer of %s", loc))
	}
	return env.Body, nil
}

// post sends body to loc and returns a 200 response, whose body the caller
// closes; any other status, a redirect included, is an error.
func (c *soapClient) post(ctx context.Context, loc string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loc, bytes.NewReader(body))
	if err != nil {
		return nil, Wrap(CodeInternal, err, "SOAP request")
	}
	req.Header.Set("Content-Type", binding.ContentTypeSOAP)
	req.Header.Set("SOAPAction", binding.SOAPAction)
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, Wrap(CodeInternal, err, "SOAP exchange with "+loc)
	}
	if res.StatusCode == http.StatusOK {
		return res, nil
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, DefaultMaxBody))
		return nil, Errorf(CodeInternal, "SOAP exchange with %s: redirect (HTTP %d to %q) refused: a signed request goes only to the endpoint in metadata",
			loc, res.StatusCode, res.Header.Get("Location"))
	}
	return nil, Wrap(CodeInternal, peerFault(res.Body), fmt.Sprintf("SOAP exchange with %s: HTTP %d", loc, res.StatusCode))
}

// peerFault reads the SOAP fault a peer answered with, for the logs: the
// fault itself (its code and string, the peer's words), or nil when the
// body holds none.
func peerFault(body io.Reader) error {
	_, err := (&binding.SOAPDecoder{MaxBody: DefaultMaxBody, Understood: []string{}}).Decode(body)
	var f *binding.Fault
	if errors.As(err, &f) {
		return f
	}
	return nil
}
