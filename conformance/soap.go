package conformance

import (
	"bytes"
	"context"
	"net/http"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// soapCall posts el in a SOAP 1.1 envelope to dest through b (SAML
// Bindings §3.2), records both messages under label, and decodes the
// answer with dec. A nil envelope means the IdP answered with an HTTP
// error, its code in the status. prepare, when not nil, adjusts the
// request (ECP's HTTP Basic login).
func (e *Env) soapCall(ctx context.Context, b *Browser, dest, label string, el *etree.Element, dec *binding.SOAPDecoder, prepare func(*http.Request)) (*binding.Envelope, int, error) {
	body, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	if err != nil {
		return nil, 0, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, dest, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	hr.Header.Set("Content-Type", binding.ContentTypeSOAP)
	hr.Header.Set("SOAPAction", binding.SOAPAction)
	if prepare != nil {
		prepare(hr)
	}
	e.Record(Message{Direction: "sent", Label: label + " (SOAP)", URL: dest, Body: string(body)})
	resp, err := b.client.Do(hr)
	if err != nil {
		return nil, 0, err
	}
	page, err := readPage(resp)
	if err != nil {
		return nil, 0, err
	}
	e.Record(Message{Direction: "received", Label: "answer to " + label + " (SOAP)", URL: dest, Status: resp.StatusCode, Body: string(page)})
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, nil
	}
	env, err := dec.Decode(bytes.NewReader(page))
	if err != nil {
		return nil, resp.StatusCode, errTarget("the answer to %s is not an acceptable SOAP envelope (SAML Bindings §3.2.3): %v", label, err)
	}
	return env, resp.StatusCode, nil
}
