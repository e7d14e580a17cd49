package conformance

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// recorder logs each HTTP exchange of a wsf/client in the case's log.
type recorder struct {
	e    *Env
	next http.RoundTripper
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, MaxSOAPAnswer))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.e.Record(Message{Direction: "sent", Label: "ID-WSF request " + req.Header.Get("SOAPAction"), URL: req.URL.String(), Body: string(b)})
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxSOAPAnswer))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	r.e.Record(Message{Direction: "received", Label: "ID-WSF response", URL: req.URL.String(), Status: resp.StatusCode, Body: string(b)})
	return resp, nil
}

// dsClient is a WSC or WSP of the suite calling the DS as p: p's key
// signs and authenticates TLS, responses must verify with the DS's keys.
func (e *Env) dsClient(p Party) (*client.Client, error) { return e.wsfClient(p, e.DS.peer()) }

// wsfClient is the suite calling target as p: p's key signs and
// authenticates TLS, responses must validate against the schemas and
// verify with the target's metadata keys, and every exchange is recorded.
func (e *Env) wsfClient(p Party, target *wsf.Peer) (*client.Client, error) {
	tr, err := e.transport()
	if err != nil {
		return nil, err
	}
	tr.TLSClientConfig.Certificates = []tls.Certificate{{Certificate: [][]byte{p.Cert.Raw}, PrivateKey: p.Key, Leaf: p.Cert}}
	s, err := xsd.Default()
	if err != nil {
		return nil, err
	}
	return client.New(client.Config{EntityID: p.EntityID, Key: p.Key, Certificate: p.Cert,
		Directory: wsf.StaticDirectory{target.EntityID: target}, HTTP: &http.Client{Transport: recorder{e, tr}, Timeout: time.Minute},
		Schema: s, Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2, wsf.ClientTLSX509}, Now: e.Now, Rand: e.Rand})
}

// dsEPR is the DS's EPR: with a DS token under ClientTLS:SAMLV2 (on
// behalf of its principal), or without under ClientTLS:X509 (a provider
// as itself).
func (e *Env) dsEPR(token *etree.Element) *wsf.EPR {
	sc := wsf.SecurityContext{Mechanisms: []string{string(wsf.ClientTLSX509)}}
	if token != nil {
		sc = wsf.SecurityContext{Mechanisms: []string{string(wsf.ClientTLSSAMLV2)},
			Tokens: []wsf.Token{{Usage: wsf.UsageSecurityToken, Element: token}}}
	}
	return &wsf.EPR{Address: e.DS.Address, Metadata: &wsf.EPRMetadata{Abstract: "Discovery Service", ProviderID: e.DS.EntityID,
		ServiceType: wsf.ServiceTypeDisco, Framework: wsf.FrameworkVersion, SecurityContexts: []wsf.SecurityContext{sc}}}
}

// dsToken is the IdP's DS token naming p, holder-of-key for holder.
func (e *Env) dsToken(p DSPrincipal, holder Party) (*etree.Element, error) {
	return e.token(tokenSpec{audience: e.DS.EntityID, subject: e.DS.nameID(p), holder: holder.Cert})
}

type elementer interface{ Element() *etree.Element }

// errFault is a call the target answered with a SOAP fault: the
// target's answer, not the suite's trouble.
type errFault struct{ err error }

func (f *errFault) Error() string { return "SOAP fault: " + f.err.Error() }
func (f *errFault) Unwrap() error { return f.err }

// callDS sends op as party p, on behalf of principal (when not nil, with
// a DS token bound to p) and returns the verified payload. A SOAP fault
// is an *errFault.
func (e *Env) callDS(ctx context.Context, p Party, principal *DSPrincipal, op string, payload elementer, h wsf.Header) (*etree.Element, error) {
	c, err := e.dsClient(p)
	if err != nil {
		return nil, err
	}
	var tok *etree.Element
	if principal != nil {
		if tok, err = e.dsToken(*principal, p); err != nil {
			return nil, err
		}
	}
	return e.callWith(ctx, c, e.dsEPR(tok), disco.Action(op), payload.Element(), h)
}

// callWith sends action with payload to epr through c and returns the
// verified payload. A SOAP fault is an *errFault; an answer c refused
// (schema, signature, RelatesTo) is an *errAnswer.
func (e *Env) callWith(ctx context.Context, c *client.Client, epr *wsf.EPR, action string, payload *etree.Element, h wsf.Header) (*etree.Element, error) {
	seen := len(e.messages)
	res, err := c.Call(ctx, &client.Call{EPR: epr, Action: action, Payload: payload, Header: h})
	var f *wsf.Fault
	var r *client.RedirectError
	switch {
	case errors.As(err, &f) || errors.As(err, &r):
		return nil, &errFault{err}
	case err != nil && e.answeredSince(seen):
		return nil, &errAnswer{err}
	case err != nil:
		return nil, err
	}
	return res.Payload, nil
}

// answeredSince reports whether a response was recorded after the first
// n messages of the case.
func (e *Env) answeredSince(n int) bool {
	for _, m := range e.messages[n:] {
		if m.Direction == "received" {
			return true
		}
	}
	return false
}

// errAnswer is a response the suite, as a WSC, could not accept: not
// schema-valid, not signed by the target's metadata key, not related to
// the request, or not the operation's answer. It is the target's doing.
type errAnswer struct{ err error }

func (a *errAnswer) Error() string { return "unacceptable response: " + a.err.Error() }
func (a *errAnswer) Unwrap() error { return a.err }

// isFault reports whether err is the target's SOAP fault.
func isFault(err error) bool {
	var f *errFault
	return errors.As(err, &f)
}

// isAnswer reports whether err is a response the suite could not accept.
func isAnswer(err error) bool {
	var a *errAnswer
	return errors.As(err, &a)
}

// consent is the sb:Consent header of a principal's consent obtained now.
func (e *Env) consent() wsf.Header {
	return wsf.Header{Consent: &wsf.Consent{URI: wsf.ConsentObtained, Timestamp: e.now().Add(-time.Second)}}
}

// newSvcMD is a fresh service description of w: one service type and
// options, one endpoint of its own under w's host, holder-of-key
// mechanisms.
func (e *Env) newSvcMD(w Party, serviceType string, options ...string) *disco.SvcMD {
	host := "https://wsp.invalid"
	if u, err := url.Parse(w.EntityID); err == nil && u.Host != "" {
		host = "https://" + u.Host
	}
	sc := disco.ServiceContext{ServiceTypes: []string{serviceType},
		EndpointContexts: []disco.EndpointContext{{Addresses: []string{host + "/conformance/" + e.newID()},
			Frameworks:      []disco.Framework{{Version: wsf.FrameworkVersion}},
			SecurityMechIDs: []string{string(wsf.ClientTLSSAMLV2), string(wsf.TLSSAMLV2)}}}}
	if len(options) > 0 {
		sc.Options = []disco.Options{options}
	}
	return &disco.SvcMD{Abstract: "Renkei conformance service " + serviceType, ProviderID: w.EntityID, ServiceContexts: []disco.ServiceContext{sc}}
}

// svcType is a service type no other case uses.
func (e *Env) svcType() string { return nsConformance + ":svc:" + e.newID() }

// register registers m as w and returns its SvcMDID.
func (e *Env) register(ctx context.Context, w Party, m *disco.SvcMD) (string, error) {
	pl, err := e.callDS(ctx, w, nil, "SvcMDRegister", &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{m}}, wsf.Header{})
	if err != nil {
		return "", err
	}
	r, err := disco.DecodeSvcMDRegisterResponse(pl)
	switch {
	case err != nil:
		return "", fmt.Errorf("SvcMDRegisterResponse: %w", err)
	case r.Status.Code != disco.OK:
		return "", errStatusOf("SvcMDRegister", r.Status.Code)
	case len(r.SvcMDIDs) != 1:
		return "", errStatus(fmt.Sprintf("SvcMDRegister answered OK with %d SvcMDIDs for one SvcMD", len(r.SvcMDIDs)))
	}
	return r.SvcMDIDs[0], nil
}

// svcMDQuery reads SvcMDs as w.
func (e *Env) svcMDQuery(ctx context.Context, w Party, ids ...string) (*disco.SvcMDQueryResponse, error) {
	pl, err := e.callDS(ctx, w, nil, "SvcMDQuery", &disco.SvcMDQuery{SvcMDIDs: ids}, wsf.Header{})
	if err != nil {
		return nil, err
	}
	return disco.DecodeSvcMDQueryResponse(pl)
}

// statusOf calls an operation and returns the code of its response's
// lu:Status (the response must be the operation's).
func (e *Env) statusOf(ctx context.Context, p Party, principal *DSPrincipal, op string, payload elementer, h wsf.Header) (wsf.Code, error) {
	pl, err := e.callDS(ctx, p, principal, op, payload, h)
	if err != nil {
		return "", err
	}
	m, err := disco.Decode(pl, wsf.Strict)
	if err != nil {
		return "", err
	}
	st, ok := disco.StatusOf(m)
	if !ok || m.Action() != disco.Action(op+"Response") {
		return "", fmt.Errorf("%s answered %s", op, m.Action())
	}
	return st.Code, nil
}

// associate associates the SvcMDs with p, as their provider w with the
// principal's consent (IDWSF2 §4.3: the WSP at enrolment).
func (e *Env) associate(ctx context.Context, w Party, p DSPrincipal, ids ...string) error {
	code, err := e.statusOf(ctx, w, &p, "SvcMDAssociationAdd", &disco.SvcMDAssociationAdd{SvcMDIDs: ids}, e.consent())
	if err == nil && code != disco.OK {
		err = errStatusOf("SvcMDAssociationAdd", code)
	}
	return err
}

// associations lists the SvcMDIDs the DS says are associated with p, as w
// sees them.
func (e *Env) associations(ctx context.Context, w Party, p DSPrincipal, ids ...string) ([]string, error) {
	pl, err := e.callDS(ctx, w, &p, "SvcMDAssociationQuery", &disco.SvcMDAssociationQuery{SvcMDIDs: ids}, wsf.Header{})
	if err != nil {
		return nil, err
	}
	r, err := disco.DecodeSvcMDAssociationQueryResponse(pl)
	if err != nil {
		return nil, err
	}
	if r.Status.Code != disco.OK {
		return nil, errStatusOf("SvcMDAssociationQuery", r.Status.Code)
	}
	return r.SvcMDIDs, nil
}

// query sends disco:Query as the WSC for the principal.
func (e *Env) query(ctx context.Context, p DSPrincipal, rs ...disco.RequestedService) (*disco.QueryResponse, error) {
	pl, err := e.callDS(ctx, e.DS.WSC, &p, "Query", &disco.Query{RequestedServices: rs}, wsf.Header{})
	if err != nil {
		return nil, err
	}
	return disco.DecodeQueryResponse(pl)
}

// readToken reads an EPR's token as the WSP as would: the DS's signature,
// the token issuer, audience self, validity, and the subject decrypted
// with as's key.
func (e *Env) readToken(ctx context.Context, epr *wsf.EPR, self string, as Party) (*secmech.Token, error) {
	tok := eprToken(epr)
	if tok == nil {
		return nil, fmt.Errorf("the EPR of %s carries no token", providerOf(epr))
	}
	ds := e.DS.peer()
	ds.TokenIssuer = true
	tc := secmech.TokenChecker{Self: self, Directory: wsf.StaticDirectory{e.DS.EntityID: ds}, Decrypter: as.decrypter(), Skew: 3 * time.Minute}
	return tc.Check(ctx, tok, e.now(), true)
}

func eprToken(epr *wsf.EPR) *etree.Element {
	if epr.Metadata == nil {
		return nil
	}
	for _, sc := range epr.Metadata.SecurityContexts {
		for _, t := range sc.Tokens {
			if t.Element != nil {
				return t.Element
			}
		}
	}
	return nil
}

func providerOf(epr *wsf.EPR) string {
	if epr.Metadata == nil {
		return "(no metadata)"
	}
	return epr.Metadata.ProviderID
}

func sameKey(a crypto.PublicKey, keys []crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	for _, k := range keys {
		if ok && e.Equal(k) {
			return true
		}
	}
	return false
}

// fixture is the SvcMDs one case registered, deleted again by cleanup.
type fixture struct {
	e     *Env
	owner map[string]Party
}

func (e *Env) fixture() *fixture { return &fixture{e: e, owner: map[string]Party{}} }

// add registers m as w; the case's failure to register is the target's
// unless the suite could not send.
func (f *fixture) add(ctx context.Context, w Party, m *disco.SvcMD) (string, error) {
	id, err := f.e.register(ctx, w, m)
	if err == nil {
		f.owner[id] = w
	}
	return id, err
}

// cleanup deletes every SvcMD of the fixture, each as its owner.
func (f *fixture) cleanup(ctx context.Context) {
	for id, w := range f.owner {
		f.e.statusOf(ctx, w, nil, "SvcMDDelete", &disco.SvcMDDelete{SvcMDIDs: []string{id}}, wsf.Header{})
	}
}
