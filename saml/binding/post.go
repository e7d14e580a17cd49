package binding

import (
	"bytes"
	"encoding/base64"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FormOptions shape the auto-submitting page of the HTTP-POST binding.
type FormOptions struct {
	// Nonce, when set, goes on the inline script as its CSP nonce
	// (Content-Security-Policy: script-src 'nonce-...').
	Nonce string
	// ScriptURL, when set, replaces the inline script by
	// <script src=ScriptURL>: a page for a CSP without inline scripts. The
	// server serves AutoSubmitScript at that URL.
	ScriptURL string
}

// AutoSubmitScript submits the first form of the page. A CSP-strict
// deployment serves it as a static JavaScript file named by
// FormOptions.ScriptURL.
const AutoSubmitScript = "document.forms[0].submit();\n"

// EncodePOST returns the HTML page of the HTTP-POST binding (SAML Bindings
// §3.5.4): a form with method POST to action holding msg base64-encoded in
// SAMLRequest or SAMLResponse and RelayState when not empty, submitted by
// script, with a submit button inside <noscript> for browsers without
// script. Every value is HTML-escaped. msg is sent with its enveloped
// signature, which is what protects it on this binding.
func EncodePOST(action string, msg *etree.Element, relayState string, opt FormOptions) ([]byte, error) {
	param, err := paramFor(msg)
	if err != nil {
		return nil, err
	}
	if err := checkRelayState(relayState); err != nil {
		return nil, err
	}
	b, err := xmlsec.Serialize(msg)
	if err != nil {
		return nil, err
	}
	var sb bytes.Buffer
	sb.Grow(len(formHead) + len(action) + base64.StdEncoding.EncodedLen(len(b)) + len(relayState) + 512)
	sb.WriteString(formHead)
	sb.WriteString("<form method=\"post\" action=\"" + html.EscapeString(action) + "\">\n")
	// The base64 alphabet has nothing HTML escapes: the message is
	// encoded into the page as it is.
	sb.WriteString("<input type=\"hidden\" name=\"" + html.EscapeString(param) + "\" value=\"")
	enc := base64.NewEncoder(base64.StdEncoding, &sb)
	enc.Write(b) // writing to memory never fails
	enc.Close()
	sb.WriteString("\">\n")
	if relayState != "" {
		hidden(&sb, ParamRelayState, relayState)
	}
	sb.WriteString("<noscript><p>Your browser does not run scripts: press Continue.</p><input type=\"submit\" value=\"Continue\"></noscript>\n</form>\n")
	writeScript(&sb, opt)
	sb.WriteString("</body></html>\n")
	return sb.Bytes(), nil
}

const formHead = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>SAML POST</title></head><body>\n"

func hidden(sb *bytes.Buffer, name, value string) {
	sb.WriteString("<input type=\"hidden\" name=\"" + html.EscapeString(name) + "\" value=\"" + html.EscapeString(value) + "\">\n")
}

func writeScript(sb *bytes.Buffer, opt FormOptions) {
	if opt.ScriptURL != "" {
		sb.WriteString("<script src=\"" + html.EscapeString(opt.ScriptURL) + "\"></script>\n")
		return
	}
	sb.WriteString("<script")
	if opt.Nonce != "" {
		sb.WriteString(" nonce=\"" + html.EscapeString(opt.Nonce) + "\"")
	}
	sb.WriteString(">" + AutoSubmitScript + "</script>\n")
}

// POSTDecoder reads HTTP-POST messages. The zero value uses the default
// limits.
type POSTDecoder struct {
	MaxBody int           // bytes of the form body; 0 means DefaultMaxBody
	Limits  xmlsec.Limits // for xmlsec.Parse of the message
}

// POSTMessage is a received HTTP-POST message. Element is unverified: the
// caller checks its XML signature (samlp.VerifyResponse, saml.VerifyAssertion)
// or reads it with samlp.Peek for the key lookup only.
type POSTMessage struct {
	Param      string
	RelayState string
	Element    *etree.Element
}

// DecodeRequest reads the form of an HTTP POST request: the method must be
// POST and the body application/x-www-form-urlencoded.
func (d *POSTDecoder) DecodeRequest(r *http.Request) (*POSTMessage, error) {
	if r.Method != http.MethodPost {
		return nil, errorf(KindParameter, "method %s", r.Method)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errorf(KindParameter, "content type %q", r.Header.Get("Content-Type"))
	}
	return d.Decode(r.Body)
}

// Decode reads an application/x-www-form-urlencoded body, holding at most
// MaxBody+1 bytes of it: a longer body is xmlsec.ErrTooLarge. Exactly one of
// SAMLRequest and SAMLResponse must be present, once; base64 may carry
// line breaks (SAML Bindings §3.5.4 lets senders wrap it).
func (d *POSTDecoder) Decode(body io.Reader) (*POSTMessage, error) {
	max := orDefault(d.MaxBody, DefaultMaxBody)
	b, err := io.ReadAll(io.LimitReader(body, int64(max)+1))
	if err != nil {
		return nil, &Error{Kind: KindEncoding, Detail: "reading the body", Err: err}
	}
	if len(b) > max {
		return nil, xmlsec.Errorf(xmlsec.KindTooLarge, "form body over %d bytes", max)
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, &Error{Kind: KindEncoding, Detail: "form", Err: err}
	}
	m, value, err := postParams(form)
	if err != nil {
		return nil, err
	}
	raw, err := xmlsec.DecodeBase64(value)
	if err != nil {
		return nil, &Error{Kind: KindEncoding, Detail: "base64", Err: err}
	}
	if m.Element, err = parse(raw, d.Limits); err != nil {
		return nil, err
	}
	return m, checkParam(m.Param, m.Element)
}

func postParams(form url.Values) (*POSTMessage, string, error) {
	for _, p := range []string{ParamRequest, ParamResponse, ParamRelayState} {
		if len(form[p]) > 1 {
			return nil, "", errorf(KindParameter, "%s given twice", p)
		}
	}
	req, resp := form[ParamRequest], form[ParamResponse]
	m := &POSTMessage{RelayState: form.Get(ParamRelayState)}
	if err := checkRelayState(m.RelayState); err != nil {
		return nil, "", err
	}
	switch {
	case req != nil && resp != nil:
		return nil, "", errorf(KindParameter, "both SAMLRequest and SAMLResponse")
	case req != nil:
		m.Param = ParamRequest
		return m, req[0], nil
	case resp != nil:
		m.Param = ParamResponse
		return m, resp[0], nil
	}
	return nil, "", errorf(KindParameter, "neither SAMLRequest nor SAMLResponse")
}
