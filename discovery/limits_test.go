package discovery_test

import (
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// TestHostileRequests: what a WSC or a WSP may send is bounded and
// checked: a purpose that is not a short URI is refused, not stored; a
// dry run of a Query is refused, not half done; too many
// RequestedServices, SvcMDs or IDs in one request are Failed; a token in
// the receiver's skew window past its end is Forbidden.
func TestHostileRequests(t *testing.T) {
	f := dskit.New(t, dskit.Options{})
	f.Link(t, f.Principal, false)
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})

	for name, p := range map[string]string{"long": "urn:x:" + strings.Repeat("a", wsf.MaxPurposeLen), "free text": "lab value 5.6 mmol/L"} {
		el := etree.NewElement("rk:Purpose")
		el.CreateAttr("xmlns:rk", wsf.NSPolicy)
		el.SetText(p)
		h := wsf.Header{UsageDirectives: []wsf.UsageDirective{{Ref: wsf.IDBody, Policies: []*etree.Element{el}}}}
		_, _, err := query(t, f, c, epr, byType(dskit.Clinical), h)
		wantFault(t, err, wsf.CannotHonourUsageDirective)
		for _, e := range auditEvents(t, f, f.Principal) {
			if strings.Contains(e.Purpose, "lab value") || len(e.Purpose) > wsf.MaxPurposeLen {
				t.Fatalf("%s purpose stored in the audit log: %q", name, e.Purpose)
			}
		}
	}

	_, _, err := query(t, f, c, epr, byType(dskit.Clinical), wsf.Header{ProcessingContext: wsf.ProcessingContextSimulate})
	wantFault(t, err, wsf.ProcCtxUnwilling)

	many := &disco.Query{}
	for range discovery.MaxRequestedServices + 1 {
		many.RequestedServices = append(many.RequestedServices, disco.RequestedService{ServiceTypes: []string{dskit.Clinical}})
	}
	if r, _, err := query(t, f, c, epr, many, wsf.Header{}); err != nil || r.Status.Code != disco.Failed {
		t.Fatalf("%d RequestedServices: %v %+v", len(many.RequestedServices), err, r)
	}

	w := f.WSPs[2]
	var svcs []*disco.SvcMD
	for i := range discovery.MaxSvcMDsPerRequest + 1 {
		svcs = append(svcs, address(w.SvcMD(), "https://hospital-b.renkei.test/wsp/x"+strings.Repeat("y", i)))
	}
	if got := status(t, admin(t, f, w, &disco.SvcMDRegister{SvcMDs: svcs}, "SvcMDRegister", wsf.Header{})); got != disco.Failed {
		t.Fatalf("%d SvcMDs in one register: %s", len(svcs), got)
	}
	ids := make([]string, discovery.MaxIDsPerRequest+1)
	for i := range ids {
		ids[i] = "_id" + strings.Repeat("x", i)
	}
	if got := status(t, admin(t, f, w, &disco.SvcMDQuery{SvcMDIDs: ids}, "SvcMDQuery", wsf.Header{})); got != disco.Failed {
		t.Fatalf("%d IDs in one SvcMDQuery: %s", len(ids), got)
	}

	// A replacement may not add a service type: the citizen consented to
	// the types the SvcMD had.
	wider := withID(w.SvcMD(), w.SvcMDID)
	wider.ServiceContexts[0].ServiceTypes = append(wider.ServiceContexts[0].ServiceTypes, dskit.Clinical)
	if got := status(t, admin(t, f, w, &disco.SvcMDReplace{SvcMDs: []*disco.SvcMD{wider}}, "SvcMDReplace", wsf.Header{})); got != disco.Failed {
		t.Fatalf("replace adding a type: %s", got)
	}

	// Past the token's end, within the receiver's skew: Forbidden, with
	// nothing minted.
	short := f.DSToken(t, f.Principal, f.Keys.Portal.Cert, dskit.TokenOptions{Lifetime: time.Minute})
	f.Clock.Advance(90 * time.Second)
	r, _, err := query(t, f, c, f.DSEPR(short), byType(dskit.Clinical), wsf.Header{})
	if err != nil || r.Status.Code != disco.Forbidden {
		t.Fatalf("token past its end: %v %+v", err, r)
	}
}
