package conformance

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

func runNIMNewID(ctx context.Context, e *Env) Outcome {
	req, o := e.nimStart(ctx, md.BindingSOAP)
	if o != nil {
		return *o
	}
	dest, nid := req.Destination, req.NameID
	req.NewID = e.newLocalID()
	r, el, err := e.nimExchange(ctx, dest, req)
	if err != nil {
		return outcomeOf(err)
	}
	if !r.Status.Success() {
		return failed("status %s %s (%s), want Success", r.Status.Code.Value, r.Status.Second(), r.Status.Message)
	}
	ok, out, err := e.Oracle.VerifyEnveloped(ctx, el, samlp.NS, "ManageNameIDResponse", e.Target.IDP.SigningCertificates())
	switch {
	case err != nil:
		return broken("xmlsec1: %v", err)
	case !ok:
		return failed("xmlsec1 refuses the ManageNameIDResponse's signature: %s", out)
	}
	next, err := e.persistentNameID(ctx)
	if err != nil {
		return outcomeOf(err)
	}
	if next.Value != nid.Value || next.SPProvidedID != req.NewID {
		return failed("the next NameID is %q with SPProvidedID %q, want %q with %q (SAML Core §3.6.1)",
			next.Value, next.SPProvidedID, nid.Value, req.NewID)
	}
	return passed("Success, signed (xmlsec1 agrees); the next NameID carries SPProvidedID %q", req.NewID)
}

// nimRefusal is how a negative case breaks the request.
type nimRefusal int

const (
	nimUnsigned nimRefusal = iota
	nimUnknown
	nimReplayed
)

// runNIMRefused logs in, sends a broken request (after a good one, for a
// replay) and passes when the IdP does not answer it with Success.
func runNIMRefused(ctx context.Context, e *Env, how nimRefusal) Outcome {
	req, o := e.nimStart(ctx, md.BindingSOAP)
	if o != nil {
		return *o
	}
	dest, nid := req.Destination, req.NameID
	req.NewID = e.newLocalID()
	el, err := samlp.Sign(req, e.spSigner())
	if err != nil {
		return broken("sign: %v", err)
	}
	switch how {
	case nimUnsigned:
		el = req.Element()
	case nimUnknown:
		req.NameID = &saml.NameID{Value: e.newID(), Format: FormatPersistent, NameQualifier: nid.NameQualifier, SPNameQualifier: nid.SPNameQualifier}
		if el, err = samlp.Sign(req, e.spSigner()); err != nil {
			return broken("sign: %v", err)
		}
	case nimReplayed:
		first, _, err := e.nimSOAP(ctx, dest, el)
		if err != nil || first == nil {
			return broken("the first, conforming request did not get a response: %v", err)
		}
		if r, err := e.nimAnswer(first, req.ID); err != nil || !r.Status.Success() {
			return notApplicable("the first request was not answered with a verified Success, so a replay proves nothing")
		}
	}
	return judgeNIMRefusal(ctx, e, dest, el, how == nimUnknown)
}

func judgeNIMRefusal(ctx context.Context, e *Env, dest string, el *etree.Element, wantUnknown bool) Outcome {
	body, status, err := e.nimSOAP(ctx, dest, el)
	if err != nil {
		return outcomeOf(err)
	}
	if body == nil {
		return httpRefusal(status)
	}
	r, err := e.nimAnswer(body, "")
	if err != nil {
		return outcomeOf(err)
	}
	switch {
	case r.Status.Success():
		return failed("the IdP answered Success")
	case wantUnknown && r.Status.Second() != samlp.StatusUnknownPrincipal:
		return failedAt(LevelShould, "status %s %s, want second-level UnknownPrincipal (SAML Core §3.2.2.2)", r.Status.Code.Value, r.Status.Second())
	}
	return passed("refused: %s %s", r.Status.Code.Value, r.Status.Second())
}

func runNIMTerminate(ctx context.Context, e *Env) Outcome {
	req, o := e.nimStart(ctx, md.BindingSOAP)
	if o != nil {
		return *o
	}
	dest, nid := req.Destination, req.NameID
	req.Terminate = true
	r, _, err := e.nimExchange(ctx, dest, req)
	if err != nil {
		return outcomeOf(err)
	}
	if !r.Status.Success() {
		return failed("status %s %s (%s), want Success", r.Status.Code.Value, r.Status.Second(), r.Status.Message)
	}
	x, err := e.persistentLogin(ctx, false)
	if err != nil {
		return outcomeOf(err)
	}
	if x.Response == nil {
		return passed("terminated; the next login got no Response (HTTP %d)", x.Landing.Status)
	}
	if _, a, err := e.success(x); err == nil && a.Subject != nil && a.Subject.NameID != nil && a.Subject.NameID.Value == nid.Value {
		return failed("after Terminate the IdP still issues the terminated NameID")
	} else if err == nil {
		return failed("after Terminate, AllowCreate=false still got an assertion (NameID %q)", a.Subject.NameID.Value)
	}
	top, second, _ := x.status()
	return passed("terminated; the next login was answered %s %s", top, second)
}

// nimRedirectGet sends req over HTTP-Redirect (signed unless unsigned) and
// returns where the IdP sent the browser, without following it: our
// ManageNameIDService is never served.
func (e *Env) nimRedirectGet(ctx context.Context, dest string, req *samlp.ManageNameIDRequest, unsigned bool) (*url.URL, int, error) {
	var s *binding.RedirectSigner
	if !unsigned {
		s = &binding.RedirectSigner{Key: e.SP.Key}
	}
	u, err := binding.RedirectURL(dest, req.Element(), "nim-relay", s)
	if err != nil {
		return nil, 0, err
	}
	tr, err := e.transport()
	if err != nil {
		return nil, 0, err
	}
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	e.Record(Message{Direction: "sent", Label: "ManageNameIDRequest (HTTP-Redirect)", URL: u, Body: decodeQueryForLog(u)})
	resp, err := c.Do(hr)
	if err != nil {
		return nil, 0, err
	}
	page, _ := readPage(resp)
	loc := resp.Header.Get("Location")
	e.Record(Message{Direction: "received", Label: "ManageNameID answer (HTTP-Redirect)", URL: u, Status: resp.StatusCode, Body: decodeQueryForLog(loc) + string(page)})
	if loc == "" || resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil, resp.StatusCode, nil
	}
	l, err := url.Parse(loc)
	if err != nil {
		return nil, resp.StatusCode, errTarget("bad Location %q", loc)
	}
	return l, resp.StatusCode, nil
}

// nimRedirectAnswer verifies the query-signed response at our endpoint.
func (e *Env) nimRedirectAnswer(l *url.URL, reqID string) (*samlp.ManageNameIDResponse, string, error) {
	if base := l.Scheme + "://" + l.Host + l.Path; base != e.SP.NIMURL() {
		return nil, "", errTarget("the response goes to %s, not our ManageNameIDService %s", base, e.SP.NIMURL())
	}
	m, err := (&binding.RedirectDecoder{}).Decode(l.RawQuery)
	if err != nil || m.Param != binding.ParamResponse {
		return nil, "", errTarget("no acceptable SAMLResponse in the redirect (SAML Bindings §3.4.4): %v", err)
	}
	el, _, err := m.Verify(e.Target.IDP.TrustSet(), xmlsec.Policy{})
	if err != nil {
		return nil, "", errTarget("the query signature does not verify with the IdP's metadata keys: %v", err)
	}
	r, err := samlp.DecodeManageNameIDResponse(el)
	if err != nil {
		return nil, "", errTarget("not a ManageNameIDResponse: %v", err)
	}
	if r.Destination != e.SP.NIMURL() {
		return nil, "", errTarget("Destination %q, want %q (SAML Bindings §3.4.5.2)", r.Destination, e.SP.NIMURL())
	}
	return r, m.RelayState, e.nimHeader(&r.StatusResponseHeader, reqID)
}

func runNIMRedirect(ctx context.Context, e *Env) Outcome {
	req, o := e.nimStart(ctx, md.BindingHTTPRedirect)
	if o != nil {
		return *o
	}
	dest := req.Destination
	req.NewID = e.newLocalID()
	l, status, err := e.nimRedirectGet(ctx, dest, req, false)
	if err != nil {
		return outcomeOf(err)
	}
	if l == nil {
		return failed("a conforming request got HTTP %d, not a redirect to our ManageNameIDService", status)
	}
	r, relay, err := e.nimRedirectAnswer(l, req.ID)
	if err != nil {
		return outcomeOf(err)
	}
	switch {
	case relay != "nim-relay":
		return failed("RelayState %q, want ours back unchanged (SAML Bindings §3.4.3)", relay)
	case !r.Status.Success():
		return failed("status %s %s (%s), want Success", r.Status.Code.Value, r.Status.Second(), r.Status.Message)
	}
	return passed("Success, query-signed, at %s", e.SP.NIMURL())
}

func runNIMRedirectUnsigned(ctx context.Context, e *Env) Outcome {
	req, o := e.nimStart(ctx, md.BindingHTTPRedirect)
	if o != nil {
		return *o
	}
	dest := req.Destination
	req.NewID = e.newLocalID()
	l, status, err := e.nimRedirectGet(ctx, dest, req, true)
	if err != nil {
		return outcomeOf(err)
	}
	if l == nil || !strings.HasPrefix(l.String(), e.SP.NIMURL()) {
		return passed("refused with HTTP %d and no response to our endpoint", status)
	}
	r, _, err := e.nimRedirectAnswer(l, req.ID)
	if err != nil {
		return outcomeOf(err)
	}
	if r.Status.Success() {
		return failed("an unsigned request was answered with Success")
	}
	return passed("refused: %s %s", r.Status.Code.Value, r.Status.Second())
}
