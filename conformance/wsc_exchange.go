package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// wscSuite is the suite's running DS and WSP: how the case under way told
// them to answer, and what they received.
type wscSuite struct {
	t      *WSCTarget
	now    func() time.Time
	schema wsf.Validator

	mu  sync.Mutex
	b   wscBehaviour
	log wscLog
}

// wscBehaviour is what the DS and WSP do in one visit; the zero value
// (with a marker) answers as a conforming DS and WSP do.
type wscBehaviour struct {
	marker   string // the value the WSP's answer carries
	tampered string // what a tampered answer carries instead
	ds, wsp  answerOpts
	// firstWSP, when set, answers the WSP's first call of the visit
	// instead (a fault); the later calls are answered as wsp says.
	firstWSP *wsf.Fault
	// moveTo, with firstWSP, is the address of its sb:EndpointUpdate.
	moveTo string
}

// answerOpts change one signed answer of the DS or the WSP.
type answerOpts struct {
	tamper    bool       // a signed text changes after signing
	impostor  *SuitePeer // signs with a key no metadata lists
	relatesTo string     // "" means the request's MessageID
	created   time.Time  // of the Timestamp; zero means now
}

// wscLog is what the DS and WSP received in one visit.
type wscLog struct {
	ds, wsp []wscReceived
	tokens  []string // IDs of the WSP tokens the DS gave
}

// wscReceived is one request of the WSC.
type wscReceived struct {
	Path   string
	Err    error  // why it failed verification; nil when it passed
	Token  string // the ID of its verified token
	Action string
}

// Serve starts the suite's IdP (the SP role's) and its TLS listener of
// the DS and the WSP, until stop is called.
func (t *WSCTarget) Serve() (stop func(), err error) {
	if t.suite == nil {
		t.suite = &wscSuite{t: t}
	}
	if t.suite.schema, err = xsd.Default(); err != nil {
		return nil, err
	}
	stopIdP, err := t.SP.ServeIdP()
	if err != nil {
		return nil, err
	}
	ln := t.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", t.Listen); err != nil {
			stopIdP()
			return nil, err
		}
	}
	mux := http.NewServeMux()
	s := t.suite
	mux.HandleFunc("POST "+PathSuiteDS, s.handle(PathSuiteDS, s.discover))
	mux.HandleFunc("POST "+PathSuiteWSP, s.handle(PathSuiteWSP, s.query))
	mux.HandleFunc("POST "+PathSuiteWSPMoved, s.handle(PathSuiteWSPMoved, s.query))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{t.TLS}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}}
	go srv.ServeTLS(ln, "", "")
	return func() { srv.Close(); stopIdP() }, nil
}

// begin sets the behaviour of a visit and clears the log.
func (s *wscSuite) begin(b wscBehaviour, now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b, s.log, s.now = b, wscLog{}, now
}

// take returns the log of the visit.
func (s *wscSuite) take() wscLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log
}

// answerer answers a verified request: the payload and the options of
// the answer, or a fault.
type answerer func(req *received) (payload *etree.Element, o answerOpts, h *wsf.Header, err error)

// received is a verified request.
type received struct {
	header *wsf.Header
	body   *etree.Element
	token  string
	self   SuitePeer
	path   string
}

func (s *wscSuite) handle(path string, answer answerer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(io.LimitReader(r.Body, MaxSOAPAnswer))
		if err != nil {
			return
		}
		s.mu.Lock()
		now := time.Now
		if s.now != nil {
			now = s.now
		}
		s.mu.Unlock()
		self := s.t.WSP
		if path == PathSuiteDS {
			self = s.t.DS
		}
		req, verr := s.verify(r, raw, self, now())
		rec := wscReceived{Path: path, Err: verr}
		if req != nil {
			req.self, req.path = self, path
			rec.Token, rec.Action = req.token, req.header.Action
		}
		s.mu.Lock()
		if path == PathSuiteDS {
			s.log.ds = append(s.log.ds, rec)
		} else {
			s.log.wsp = append(s.log.wsp, rec)
		}
		s.mu.Unlock()
		if verr != nil {
			http.Error(w, "Renkei conformance: the request did not verify: "+verr.Error(), http.StatusBadRequest)
			return
		}
		payload, o, extra, err := answer(req)
		status := http.StatusOK
		if err != nil {
			var f *wsf.Fault
			if !errors.As(err, &f) {
				f = wsf.FaultFor(err)
			}
			payload, status = f.Element(), http.StatusInternalServerError
		}
		action := req.header.Action + "Response"
		if status != http.StatusOK {
			action = wsf.NSSOAP + "/fault"
		}
		body, err := s.respond(req, action, payload, o, extra, now())
		if err != nil {
			http.Error(w, "Renkei conformance: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", wsf.ContentType)
		w.WriteHeader(status)
		w.Write(body)
	}
}

// verify checks a request of the WSC as a receiver does (IDWSF2 §2.3-2.4,
// §3.5): schema-valid, sbf:Framework 2.0, sb:Sender the WSC, wsa:MessageID
// and wsa:Action present, wsa:To the endpoint when sent, signed by the
// WSC's metadata key over the body, Timestamp, headers and token, fresh,
// and carrying a holder-of-key token for self issued by the suite's DS and
// confirmed by the WSC's key (ClientTLS:SAMLV2).
func (s *wscSuite) verify(r *http.Request, raw []byte, self SuitePeer, now time.Time) (*received, error) {
	t := s.t
	env, err := wsf.ParseEnvelope(raw, xmlsec.Limits{MaxBytes: MaxSOAPAnswer})
	if err != nil {
		return nil, err
	}
	if err := wsf.ValidateParsed(s.schema, raw); err != nil {
		return nil, fmt.Errorf("not schema-valid: %w", err)
	}
	blocks, err := wsf.CheckMustUnderstand(env.Header)
	if err != nil {
		return nil, err
	}
	h, err := wsf.DecodeHeader(blocks)
	if err != nil {
		return nil, err
	}
	switch {
	case h.Framework.Version != wsf.FrameworkVersion:
		return nil, fmt.Errorf("sbf:Framework version %q, not %s (IDWSF2 §2.2)", h.Framework.Version, wsf.FrameworkVersion)
	case h.Sender == nil || h.Sender.ProviderID != t.EntityID:
		return nil, fmt.Errorf("sb:Sender is not the WSC %s (IDWSF2 §2.2)", t.EntityID)
	case h.MessageID == "" || h.Action == "":
		return nil, errors.New("no wsa:MessageID or wsa:Action (IDWSF2 §2.2)")
	}
	in := &secmech.Inbound{Envelope: env, Blocks: blocks, Sender: wsf.NewPeer(t.EntityID, t.Keys...), TLS: r.TLS != nil,
		Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2}}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		in.ClientCert = r.TLS.PeerCertificates[0]
	}
	ds := wsf.NewPeer(t.DS.EntityID, t.DS.Cert)
	ds.TokenIssuer = true
	ck := secmech.Checker{MaxAge: 5 * time.Minute, Tokens: secmech.TokenChecker{Self: self.EntityID, Skew: 3 * time.Minute,
		Directory: wsf.StaticDirectory{t.EntityID: in.Sender, t.DS.EntityID: ds}}}
	p, err := ck.VerifyMessage(in, now)
	if err != nil {
		return nil, err
	}
	if to := p.Header.To; to != "" && !strings.HasSuffix(to, r.URL.Path) {
		return nil, fmt.Errorf("wsa:To %q is not the endpoint called (IDWSF2 §2.2)", to)
	}
	inv, err := ck.VerifyToken(r.Context(), in, p, now)
	if err != nil {
		return nil, err
	}
	rec := &received{header: p.Header, body: p.Payload}
	if inv.Token != nil {
		rec.token = inv.Token.Assertion.ID
	}
	return rec, nil
}

// respond signs the answer as the suite's provider (or the impostor o
// names), its Timestamp created at o.created, RelatesTo the request's
// MessageID unless o says otherwise, and tampers with it after signing
// when o says so.
func (s *wscSuite) respond(req *received, action string, payload *etree.Element, o answerOpts, extra *wsf.Header, now time.Time) ([]byte, error) {
	mid, err := wsf.NewMessageID(nil)
	if err != nil {
		return nil, err
	}
	h := &wsf.Header{Framework: wsf.Framework{Version: wsf.FrameworkVersion}, Sender: &wsf.Sender{ProviderID: req.self.EntityID},
		MessageID: mid, RelatesTo: orString(o.relatesTo, req.header.MessageID), Action: action}
	if extra != nil {
		h.EndpointUpdate = extra.EndpointUpdate
	}
	signer := req.self
	if o.impostor != nil {
		signer = *o.impostor
	}
	created := o.created
	if created.IsZero() {
		created = now.Add(-time.Second)
	}
	b, err := secmech.Secure(wsf.NewEnvelope(h, payload), &secmech.Credentials{Key: signer.Key, Certificate: signer.Cert}, created)
	if err != nil || !o.tamper {
		return b, err
	}
	s.mu.Lock()
	from, to := s.b.marker, s.b.tampered
	s.mu.Unlock()
	if req.path == PathSuiteDS {
		from, to = wscAbstract, wscAbstract+" (altered)"
	}
	if !bytes.Contains(b, []byte(from)) {
		return nil, fmt.Errorf("conformance: nothing to tamper with in the answer")
	}
	return bytes.ReplaceAll(b, []byte(from), []byte(to)), nil
}

// wscAbstract is the Abstract of the WSP's EPR the DS gives.
const wscAbstract = "Renkei conformance WSP"

// discover answers a disco:Query (IDWSF2 §4.2) with the EPR of the
// suite's WSP, its token minted for the WSP, for every RequestedService
// that asks for the WSP's service type or for any.
func (s *wscSuite) discover(req *received) (*etree.Element, answerOpts, *wsf.Header, error) {
	s.mu.Lock()
	o := s.b.ds
	s.mu.Unlock()
	q, err := disco.DecodeQuery(req.body)
	if err != nil {
		return nil, o, nil, err
	}
	t := s.t
	want := len(q.RequestedServices) == 0
	for _, rs := range q.RequestedServices {
		want = want || len(rs.ServiceTypes) == 0 || slices.Contains(rs.ServiceTypes, t.serviceType())
	}
	resp := &disco.QueryResponse{Status: wsf.Status{Code: wsf.OK}}
	if want {
		now := time.Now()
		if s.now != nil {
			now = s.now()
		}
		tok, err := t.token(t.WSP.EntityID, now)
		if err != nil {
			return nil, o, nil, err
		}
		s.mu.Lock()
		s.log.tokens = append(s.log.tokens, tok.SelectAttrValue("ID", ""))
		s.mu.Unlock()
		resp.EPRs = []*wsf.EPR{{Address: t.WSPAddress(), Metadata: &wsf.EPRMetadata{Abstract: wscAbstract, ProviderID: t.WSP.EntityID,
			ServiceType: t.serviceType(), Framework: wsf.FrameworkVersion,
			SecurityContexts: []wsf.SecurityContext{{Mechanisms: []string{string(wsf.ClientTLSSAMLV2)},
				Tokens: []wsf.Token{{Usage: wsf.UsageSecurityToken, Element: tok}}}}}}}
	}
	return resp.Element(), o, nil, nil
}

// query answers a DST Query (IDWSF2 §5) with one item carrying the
// visit's marker for every QueryItem, or the first call's fault.
func (s *wscSuite) query(req *received) (*etree.Element, answerOpts, *wsf.Header, error) {
	s.mu.Lock()
	b := s.b
	first := b.firstWSP != nil
	s.b.firstWSP = nil
	s.mu.Unlock()
	if first {
		var h *wsf.Header
		if b.moveTo != "" {
			h = &wsf.Header{EndpointUpdate: &wsf.EndpointUpdate{EPR: wsf.EPR{Address: b.moveTo}}}
			b.firstWSP.EndpointUpdate = h.EndpointUpdate
		}
		return b.firstWSP.Element(), answerOpts{}, h, nil
	}
	svc := dst.Lookup(s.t.serviceType())
	q, err := svc.DecodeQuery(req.body)
	if err != nil {
		return nil, b.wsp, nil, err
	}
	resp := &dst.QueryResponse{Status: wsf.Status{Code: wsf.OK}, TimeStamp: time.Now().UTC()}
	for _, qi := range q.Items {
		resp.Data = append(resp.Data, dst.Data{ItemIDRef: qi.ItemID, Items: []dst.Item{markedItem(svc, qi, b.marker)}, Remaining: -1})
	}
	return svc.QueryResponseElement(resp), b.wsp, nil, nil
}

// markedItem is an item of the type qi selects (else the service's first)
// with every required field set, the marker in its required strings.
func markedItem(svc *dst.Service, qi dst.QueryItem, marker string) dst.Item {
	it := &svc.Items[0]
	for i := range svc.Items {
		if strings.HasSuffix(qi.Select, ":"+svc.Items[i].Name) {
			it = &svc.Items[i]
		}
	}
	item := dst.Item{Type: it.Name, ID: "conformance-1"}
	for _, f := range it.Fields {
		if !f.Required {
			continue
		}
		v := map[dst.FieldType]string{dst.String: marker, dst.Date: "2024-04-01", dst.DateTime: "2024-04-01T09:00:00Z",
			dst.Integer: "1", dst.Decimal: "0.3", dst.GYearMonth: "2024-04", dst.Boolean: "true"}[f.Type]
		item.Set(f.Name, v)
	}
	return item
}

// wscVisit is one login at the WSC and a visit of its page.
type wscVisit struct {
	Shown, TamperedShown bool
	Log                  wscLog
	Page                 *Landing
}

// visit logs a fresh browser in at the WSC through the suite's IdP and
// GETs the page, the suite's DS and WSP behaving as b.
func (e *Env) visit(ctx context.Context, b wscBehaviour, label string) (*wscVisit, error) {
	t := e.WSCT
	if t == nil || t.suite == nil {
		return nil, fmt.Errorf("no WSC target served")
	}
	if e.SPT == nil {
		e.SPT = t.SP
	}
	m := make([]byte, 8)
	if _, err := rand.Read(m); err != nil {
		return nil, err
	}
	b.marker, b.tampered = "CONF"+hex.EncodeToString(m), "TAMP"+hex.EncodeToString(m)
	t.suite.begin(b, e.Now)
	l, err := e.beginLogin(ctx)
	if err != nil {
		return nil, err
	}
	r, _, err := e.buildResponse(l, respOpts{})
	if err != nil {
		return nil, fmt.Errorf("building the Response: %v", err)
	}
	a, err := e.post(ctx, l, r, "a conforming Response with the suite DS's bootstrap")
	if err != nil {
		return nil, err
	}
	if !a.Accepted {
		return nil, errTarget("the WSC refused a conforming login: %s", a)
	}
	land, err := l.b.Get(ctx, t.Page, label)
	if err != nil {
		return nil, errTarget("the page %s: %v", t.Page, err)
	}
	v := &wscVisit{Page: land, Log: t.suite.take()}
	v.Shown, v.TamperedShown = bytes.Contains(land.Body, []byte(b.marker)), bytes.Contains(land.Body, []byte(b.tampered))
	e.Record(Message{Direction: "received", Label: fmt.Sprintf("page (marker shown: %v)", v.Shown || v.TamperedShown), URL: land.URL, Status: land.Status})
	return v, nil
}
