package discovery_test

import (
	"context"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// admin sends a SvcMD request to the DS as the WSP itself.
func admin(t *testing.T, f *dskit.Federation, w *dskit.WSP, payload interface {
	Element() *etree.Element
}, op string, h wsf.Header) *client.Result {
	t.Helper()
	res, err := f.Call(t, f.WSPClient(t, w), f.AdminEPR(), payload, op, h)
	if err != nil {
		t.Fatalf("%s by %s: %v", op, w.EntityID, err)
	}
	return res
}

func status(t *testing.T, res *client.Result) wsf.Code {
	t.Helper()
	m, err := disco.Decode(res.Payload, wsf.Strict)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := disco.StatusOf(m)
	if !ok {
		t.Fatalf("%T is not a Discovery response", m)
	}
	return st.Code
}

// ownSvcMDs returns the IDs the WSP reads back as its own.
func ownSvcMDs(t *testing.T, f *dskit.Federation, w *dskit.WSP) map[string]*disco.SvcMD {
	t.Helper()
	r, err := disco.DecodeSvcMDQueryResponse(admin(t, f, w, &disco.SvcMDQuery{}, "SvcMDQuery", wsf.Header{}).Payload)
	if err != nil || r.Status.Code != disco.OK {
		t.Fatalf("%+v %v", r, err)
	}
	out := map[string]*disco.SvcMD{}
	for _, m := range r.SvcMDs {
		out[m.ID] = m
	}
	return out
}

// TestSvcMDOwnership: a WSP registers, reads, replaces and deletes its own
// SvcMDs; another provider's are Forbidden and stay as they were; a
// request breaking a rule changes nothing (IDWSF2 §4.3).
func TestSvcMDOwnership(t *testing.T) {
	f := dskit.New(t, dskit.Options{})
	a, b := f.WSPs[0], f.WSPs[2] // hospital A (two SvcMDs), hospital B
	if got := ownSvcMDs(t, f, a); len(got) != 2 || got[a.SvcMDID] == nil {
		t.Fatalf("hospital A reads %d SvcMDs", len(got))
	}

	foreign := a.SvcMD()
	foreign.ServiceContexts[0].EndpointContexts[0].Addresses = []string{"https://hospital-b.renkei.test/wsp/stolen"}
	for name, tc := range map[string]struct {
		w    *dskit.WSP
		msg  interface{ Element() *etree.Element }
		op   string
		want wsf.Code
	}{
		"register in another's name": {b, &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{foreign}}, "SvcMDRegister", disco.Forbidden},
		"query another's":            {b, &disco.SvcMDQuery{SvcMDIDs: []string{a.SvcMDID}}, "SvcMDQuery", disco.Forbidden},
		"replace another's":          {b, &disco.SvcMDReplace{SvcMDs: []*disco.SvcMD{withID(b.SvcMD(), a.SvcMDID)}}, "SvcMDReplace", disco.Forbidden},
		"delete another's":           {b, &disco.SvcMDDelete{SvcMDIDs: []string{a.SvcMDID}}, "SvcMDDelete", disco.Forbidden},
		"unknown ID":                 {b, &disco.SvcMDDelete{SvcMDIDs: []string{"_nosuch"}}, "SvcMDDelete", disco.NotFound},
		"duplicate":                  {a, &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{a.SvcMD()}}, "SvcMDRegister", disco.Duplicate},
		"logical duplicate":          {a, &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{abstract(a.SvcMD(), "other words")}}, "SvcMDRegister", disco.LogicalDuplicate},
		"DS-assigned ID":             {b, &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{withID(b.SvcMD(), "_mine")}}, "SvcMDRegister", disco.Failed},
		"plain HTTP endpoint":        {b, &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{address(b.SvcMD(), "http://hospital-b.renkei.test/x")}}, "SvcMDRegister", disco.Failed},
	} {
		t.Run(name, func(t *testing.T) {
			if got := status(t, admin(t, f, tc.w, tc.msg, tc.op, wsf.Header{})); got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
		})
	}
	if got := ownSvcMDs(t, f, a); len(got) != 2 || got[a.SvcMDID].Abstract != a.Abstract {
		t.Fatalf("hospital A's SvcMDs changed: %d", len(got))
	}

	// A WSC with a principal's token is not the provider acting as itself
	// (a portal of the policy reads the principal's associations instead:
	// TestAssociations).
	tok := f.DSToken(t, f.Principal, f.Keys.Other.Cert, dskit.TokenOptions{})
	res, err := f.Call(t, f.Client(t, dskit.OtherWSCID, f.Keys.Other), f.DSEPR(tok), &disco.SvcMDQuery{}, "SvcMDQuery", wsf.Header{})
	if err != nil || status(t, res) != disco.Forbidden {
		t.Fatalf("SvcMDQuery by another WSC with a principal's token: %v", err)
	}

	// Simulate answers as the real thing would and stores nothing.
	sim := wsf.Header{ProcessingContext: wsf.ProcessingContextSimulate}
	extra := address(abstract(b.SvcMD(), "B again"), "https://hospital-b.renkei.test/wsp/other")
	if got := status(t, admin(t, f, b, &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{extra}}, "SvcMDRegister", sim)); got != disco.OK {
		t.Fatalf("simulated register: %s", got)
	}
	if got := ownSvcMDs(t, f, b); len(got) != 1 {
		t.Fatalf("a simulated register stored: %d SvcMDs", len(got))
	}

	// Replace and delete own.
	if got := status(t, admin(t, f, b, &disco.SvcMDReplace{SvcMDs: []*disco.SvcMD{withID(abstract(b.SvcMD(), "renamed"), b.SvcMDID)}}, "SvcMDReplace", wsf.Header{})); got != disco.OK {
		t.Fatalf("replace own: %s", got)
	}
	if got := ownSvcMDs(t, f, b)[b.SvcMDID]; got == nil || got.Abstract != "renamed" {
		t.Fatalf("after replace: %+v", got)
	}
	f.Link(t, f.Principal, false)
	if got := status(t, admin(t, f, b, &disco.SvcMDDelete{SvcMDIDs: []string{b.SvcMDID}}, "SvcMDDelete", wsf.Header{})); got != disco.OK {
		t.Fatalf("delete own: %s", got)
	}
	as, err := f.Store.Associations(context.Background(), f.Principal)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range as {
		if x.SvcMDID == b.SvcMDID {
			t.Fatal("the deleted SvcMD's association remains")
		}
	}
}

func withID(m *disco.SvcMD, id string) *disco.SvcMD { m.ID = id; return m }

func abstract(m *disco.SvcMD, s string) *disco.SvcMD { m.Abstract = s; return m }

func address(m *disco.SvcMD, a string) *disco.SvcMD {
	m.ServiceContexts[0].EndpointContexts[0].Addresses = []string{a}
	return m
}

// TestAssociations: the portal adds, lists and deletes the principal's
// associations with sb:Consent; without it, or by a WSC that is neither a
// portal nor the SvcMD's provider, the change is Forbidden; a WSP sees
// and changes only associations with its own SvcMDs.
func TestAssociations(t *testing.T) {
	f := dskit.New(t, dskit.Options{})
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
	consent := wsf.Header{Consent: &wsf.Consent{URI: wsf.ConsentObtained}}
	ids := []string{f.WSPs[0].SvcMDID, f.WSPs[3].SvcMDID}
	call := func(c *client.Client, epr *wsf.EPR, msg interface{ Element() *etree.Element }, op string, h wsf.Header) wsf.Code {
		t.Helper()
		res, err := f.Call(t, c, epr, msg, op, h)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return status(t, res)
	}
	if got := call(c, epr, &disco.SvcMDAssociationAdd{SvcMDIDs: ids}, "SvcMDAssociationAdd", wsf.Header{}); got != disco.Forbidden {
		t.Fatalf("add without sb:Consent: %s", got)
	}
	other := f.Client(t, dskit.OtherWSCID, f.Keys.Other)
	oepr := f.DSEPR(f.DSToken(t, f.Principal, f.Keys.Other.Cert, dskit.TokenOptions{}))
	if got := call(other, oepr, &disco.SvcMDAssociationAdd{SvcMDIDs: ids}, "SvcMDAssociationAdd", consent); got != disco.Forbidden {
		t.Fatalf("add by another WSC: %s", got)
	}
	if got := call(c, epr, &disco.SvcMDAssociationAdd{SvcMDIDs: []string{"_nosuch"}}, "SvcMDAssociationAdd", consent); got != disco.NotFound {
		t.Fatalf("add unknown: %s", got)
	}
	if got := call(c, epr, &disco.SvcMDAssociationAdd{SvcMDIDs: ids}, "SvcMDAssociationAdd", consent); got != disco.OK {
		t.Fatalf("add: %s", got)
	}
	res, err := f.Call(t, c, epr, &disco.SvcMDAssociationQuery{}, "SvcMDAssociationQuery", wsf.Header{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := disco.DecodeSvcMDAssociationQueryResponse(res.Payload)
	if err != nil || len(q.SvcMDIDs) != 2 {
		t.Fatalf("portal lists %+v %v", q, err)
	}
	// The portal reads what the two consents cover; an ID the principal
	// is not associated with is NotFound, and another WSC with a token of
	// the principal reads nothing this way.
	res, err = f.Call(t, c, epr, &disco.SvcMDQuery{}, "SvcMDQuery", wsf.Header{})
	if err != nil {
		t.Fatal(err)
	}
	sq, err := disco.DecodeSvcMDQueryResponse(res.Payload)
	if err != nil || sq.Status.Code != disco.OK || len(sq.SvcMDs) != 2 {
		t.Fatalf("portal reads the associated SvcMDs: %+v %v", sq, err)
	}
	for _, m := range sq.SvcMDs {
		want := f.WSPs[0]
		if m.ID == f.WSPs[3].SvcMDID {
			want = f.WSPs[3]
		}
		if m.ID != want.SvcMDID || m.ProviderID != want.EntityID || m.Abstract != want.Abstract {
			t.Errorf("SvcMD %s of %s (%q), want %s of %s", m.ID, m.ProviderID, m.Abstract, want.SvcMDID, want.EntityID)
		}
	}
	if got := call(c, epr, &disco.SvcMDQuery{SvcMDIDs: []string{f.WSPs[1].SvcMDID}}, "SvcMDQuery", wsf.Header{}); got != disco.NotFound {
		t.Fatalf("portal reads an SvcMD the principal is not associated with: %s", got)
	}
	if got := call(other, oepr, &disco.SvcMDQuery{SvcMDIDs: ids[:1]}, "SvcMDQuery", wsf.Header{}); got != disco.Forbidden {
		t.Fatalf("another WSC reads the principal's SvcMDs: %s", got)
	}
	// The insurer, with a DS token of the principal bound to it (the
	// enrolment at its counter), sees only its own association.
	ins := f.WSPs[3]
	iepr := f.DSEPR(f.DSToken(t, f.Principal, ins.Identity.Cert, dskit.TokenOptions{}))
	ic := f.Client(t, ins.EntityID, ins.Identity)
	res, err = f.Call(t, ic, iepr, &disco.SvcMDAssociationQuery{}, "SvcMDAssociationQuery", wsf.Header{})
	if err != nil {
		t.Fatal(err)
	}
	if q, err = disco.DecodeSvcMDAssociationQueryResponse(res.Payload); err != nil || len(q.SvcMDIDs) != 1 || q.SvcMDIDs[0] != ins.SvcMDID {
		t.Fatalf("insurer lists %+v %v", q, err)
	}
	if got := call(ic, iepr, &disco.SvcMDAssociationDelete{SvcMDIDs: []string{f.WSPs[0].SvcMDID}}, "SvcMDAssociationDelete", wsf.Header{}); got != disco.Forbidden {
		t.Fatalf("insurer deletes hospital A's association: %s", got)
	}
	if got := call(c, epr, &disco.SvcMDAssociationDelete{SvcMDIDs: ids}, "SvcMDAssociationDelete", wsf.Header{}); got != disco.OK {
		t.Fatalf("delete: %s", got)
	}
	if got := call(c, epr, &disco.SvcMDAssociationDelete{SvcMDIDs: ids}, "SvcMDAssociationDelete", wsf.Header{}); got != disco.NotFound {
		t.Fatalf("delete twice: %s", got)
	}
}
