package wsp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

const (
	entityID = "https://hospital-a.renkei.test/metadata"
	portal   = "https://portal.renkei.test/metadata"
	terminal = "https://reception.hospital-b.renkei.test/metadata"
	dsID     = "https://ds.renkei.test/metadata"
	patient  = "A-0001"
	timeout  = 300 * time.Millisecond
)

// fixture is a WSP engine on the in-memory back office, auditing to
// SQLite, at a fixed time.
type fixture struct {
	w     *wsp.WSP
	be    *memBackend
	db    *sqlstore.DB
	audit *auditLog
	now   time.Time

	mu   sync.Mutex
	logs []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "wsp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{be: newBackend(), db: db, audit: &auditLog{AuditLog: db}, now: time.Date(2026, 12, 7, 0, 30, 0, 0, time.UTC)}
	f.w, err = wsp.New(wsp.Config{
		EntityID: entityID,
		Backend:  f.be,
		Services: []wsp.ServiceConfig{
			{Type: dst.Clinical, Items: []string{"LabResult", "Prescription"}},
			{Type: dst.Checkup, Items: []string{"Checkup"}},
			{Type: dst.Appointment, Items: []string{"Slot", "Appointment"}, Writable: []string{"Appointment"}},
			{Type: dst.Pension, Items: []string{"Contribution"}},
		},
		Audit:        f.audit,
		AuditReaders: []string{portal},
		Timeout:      timeout,
		Now:          func() time.Time { return f.now },
		Logf: func(format string, args ...any) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.logs = append(f.logs, fmt.Sprintf(format, args...))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// auditLog is the SQLite log, with what the engine appended.
type auditLog struct {
	store.AuditLog
	mu       sync.Mutex
	appended []store.AuditEvent
}

func (l *auditLog) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	l.mu.Lock()
	l.appended = append(l.appended, e)
	l.mu.Unlock()
	return l.AuditLog.AppendAudit(ctx, e)
}

func (l *auditLog) AppendAudits(ctx context.Context, es []store.AuditEvent) ([]int64, error) {
	l.mu.Lock()
	l.appended = append(l.appended, es...)
	l.mu.Unlock()
	return l.AuditLog.AppendAudits(ctx, es)
}

func (l *auditLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.appended)
}

// invoker is the portal reading for the citizen, as the receiver proves
// it: a token whose subject names the patient's number here.
func invoker() *wsp.Invoker {
	return &wsp.Invoker{Provider: portal, Proven: true, Mechanism: wsf.ClientTLSSAMLV2,
		Subject:     &saml.NameID{Value: "pairwise", SPProvidedID: patient},
		TokenIssuer: dsID, TokenID: "_token-1", Purpose: wsf.PurposeSelf, MessageID: "urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c04"}
}

// message decodes a request of svc written as its children, the way the
// receiver hands it to the engine.
func message(t *testing.T, svc *dst.Service, op, body string) *etree.Element {
	t.Helper()
	el, err := xmlsec.ParseElement([]byte(fmt.Sprintf(`<%[1]s:%[2]s xmlns:%[1]s="%[3]s" xmlns:dst="%[4]s">%[5]s</%[1]s:%[2]s>`,
		svc.Prefix, op, svc.NS, wsf.NSDST, body)), xmlsec.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// valid checks that an answer of the engine is schema-valid, as a strict
// WSC checks it.
func valid(t *testing.T, what string, el *etree.Element) {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Validate(b); err != nil {
		t.Errorf("%s is not schema-valid: %v\n%s", what, err, b)
	}
}

// query sends a Query of svc holding body.
func (f *fixture) query(t *testing.T, inv *wsp.Invoker, ns, body string) *dst.QueryResponse {
	t.Helper()
	svc := dst.Lookup(ns)
	q, err := svc.DecodeQuery(message(t, svc, "Query", body))
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.w.Query(context.Background(), inv, ns, q)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	valid(t, "QueryResponse", svc.QueryResponseElement(r))
	return r
}

func (f *fixture) create(t *testing.T, inv *wsp.Invoker, body string) *dst.WriteResponse {
	t.Helper()
	svc := dst.Lookup(dst.Appointment)
	c, err := svc.DecodeCreate(message(t, svc, "Create", body))
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.w.Create(context.Background(), inv, svc.NS, c)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	valid(t, "CreateResponse", svc.WriteResponseElement(r))
	return r
}

func (f *fixture) modify(t *testing.T, inv *wsp.Invoker, body string) *dst.WriteResponse {
	t.Helper()
	svc := dst.Lookup(dst.Appointment)
	m, err := svc.DecodeModify(message(t, svc, "Modify", body))
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.w.Modify(context.Background(), inv, svc.NS, m)
	if err != nil {
		t.Fatalf("Modify: %v", err)
	}
	valid(t, "ModifyResponse", svc.WriteResponseElement(r))
	return r
}

func (f *fixture) delete(t *testing.T, inv *wsp.Invoker, body string) *dst.DeleteResponse {
	t.Helper()
	svc := dst.Lookup(dst.Appointment)
	d, err := svc.DecodeDelete(message(t, svc, "Delete", body))
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.w.Delete(context.Background(), inv, svc.NS, d)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	valid(t, "DeleteResponse", svc.DeleteResponseElement(r))
	return r
}

// show writes a status as a client reads it: each code, @ref when it has
// one, the nested statuses in parentheses.
func show(st wsf.Status) string {
	s := string(st.Code)
	if st.Ref != "" {
		s += "@" + st.Ref
	}
	if len(st.Sub) > 0 {
		var subs []string
		for _, c := range st.Sub {
			subs = append(subs, show(c))
		}
		s += "(" + strings.Join(subs, " ") + ")"
	}
	return s
}

func wantStatus(t *testing.T, got wsf.Status, want string) {
	t.Helper()
	if show(got) != want {
		t.Fatalf("status %s, want %s (%+v)", show(got), want, got)
	}
}

// chain is a status as the audit log keeps it: the first code of each
// level.
func chain(st wsf.Status) string {
	out := string(st.Code)
	for len(st.Sub) > 0 {
		st = st.Sub[0]
		out += "/" + string(st.Code)
	}
	return out
}

// audited checks that the request just answered left exactly one event,
// stored under principal and newest in its log, saying who asked, what,
// why and what was answered.
func (f *fixture) audited(t *testing.T, before int, inv *wsp.Invoker, principal, action, serviceType string, st wsf.Status) store.AuditEvent {
	t.Helper()
	if n := f.audit.count() - before; n != 1 {
		t.Fatalf("%d audit events for one request", n)
	}
	page, err := f.db.AuditEvents(context.Background(), store.AuditQuery{PrincipalID: principal, Limit: 1})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("audit events of %s: %+v, %v", principal, page, err)
	}
	e := page.Events[0]
	var det wsp.AuditDetail
	if err := json.Unmarshal(e.Detail, &det); err != nil || e.DetailType != "application/json" {
		t.Fatalf("audit detail %s %q: %v", e.DetailType, e.Detail, err)
	}
	want := wsp.AuditDetail{ServiceType: serviceType, Items: det.Items, Status: chain(st), Mechanism: string(inv.Mechanism),
		TokenIssuer: inv.TokenIssuer, TokenID: inv.TokenID, MessageID: inv.MessageID}
	if e.Actor != inv.Provider || e.ProviderID != entityID || e.Action != action || e.Purpose != inv.Purpose ||
		!e.Time.Equal(f.now) || fmt.Sprint(det) != fmt.Sprint(want) {
		t.Fatalf("audit event %+v with detail %+v; want actor %s, action %s, purpose %q, detail %+v",
			e, det, inv.Provider, action, inv.Purpose, want)
	}
	return e
}

// itemsOf returns the items of the audit detail of e.
func itemsOf(t *testing.T, e store.AuditEvent) []string {
	var det wsp.AuditDetail
	if err := json.Unmarshal(e.Detail, &det); err != nil {
		t.Fatal(err)
	}
	return det.Items
}
