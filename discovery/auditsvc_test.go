package discovery_test

import (
	"context"
	"testing"

	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// readAudit sends an audit Query to epr as c.
func readAudit(t *testing.T, c *client.Client, epr *wsf.EPR, q *audit.Query) *audit.QueryResponse {
	t.Helper()
	res, err := c.Call(context.Background(), &client.Call{EPR: epr, Action: audit.Action("Query"), Payload: q.Element()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := audit.DecodeQueryResponse(res.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAuditService: the portal discovers the DS's audit service like any
// other and reads the citizen's events through it, newest first, page by
// page; a Select other than /au:Event is InvalidSelect; a WSC that is not
// a portal is not authorized, and is not offered the service.
func TestAuditService(t *testing.T) {
	f := dskit.New(t, dskit.Options{})
	f.Link(t, f.Principal, false)
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
	q := byType(dskit.Clinical, dskit.Pension, audit.NS)
	r, _, err := query(t, f, c, epr, q, wsf.Header{UsageDirectives: []wsf.UsageDirective{wsf.PurposeDirective(wsf.PurposeSelf)}})
	if err != nil {
		t.Fatal(err)
	}
	var auditEPR *wsf.EPR
	for _, e := range r.EPRs {
		if e.Metadata.ServiceType == audit.NS {
			auditEPR = e
		}
	}
	if len(r.EPRs) != 3 || auditEPR == nil || auditEPR.Metadata.ProviderID != dskit.DSID || auditEPR.Address != f.URL {
		t.Fatalf("%d EPRs, audit EPR %+v", len(r.EPRs), auditEPR)
	}

	page := readAudit(t, c, auditEPR, &audit.Query{Items: []audit.QueryItem{{ItemID: "p1", Select: "/au:Event", Count: 2}}})
	if page.Status.Code != wsf.OK || len(page.Data) != 1 || len(page.Data[0].Events) != 2 || page.Data[0].NextOffset != 2 {
		t.Fatalf("first page %+v", page)
	}
	first := page.Data[0].Events
	if first[0].Action != discovery.AuditToken || first[0].Actor != dskit.PortalID || first[0].Purpose != wsf.PurposeSelf ||
		first[0].Basis == "" || first[0].ServiceType == "" || first[0].Time.Before(first[1].Time) {
		t.Fatalf("events %+v", first)
	}
	next := readAudit(t, c, auditEPR, &audit.Query{Items: []audit.QueryItem{{ItemID: "p2", Select: "/au:Event", Count: 2, Offset: 2}}})
	if len(next.Data) != 1 || len(next.Data[0].Events) != 2 || next.Data[0].Events[0].ID == first[1].ID {
		t.Fatalf("second page %+v", next)
	}

	bad := readAudit(t, c, auditEPR, &audit.Query{Items: []audit.QueryItem{{ItemID: "x", Select: "/au:Event[1]", Count: -1}}})
	if bad.Status.Code != wsf.Failed || len(bad.Status.Sub) != 1 || bad.Status.Sub[0].Code != audit.InvalidSelect || bad.Status.Sub[0].Ref != "x" {
		t.Fatalf("InvalidSelect: %+v", bad.Status)
	}

	other := f.Client(t, dskit.OtherWSCID, f.Keys.Other)
	oepr := f.DSEPR(f.DSToken(t, f.Principal, f.Keys.Other.Cert, dskit.TokenOptions{}))
	o, _, err := query(t, f, other, oepr, &disco.Query{RequestedServices: []disco.RequestedService{{ServiceTypes: []string{audit.NS}}}}, wsf.Header{})
	if err == nil && len(o.EPRs) > 0 {
		t.Fatal("a WSC that is no portal was offered the citizen's audit log")
	}
	denied := readAudit(t, other, oepr, &audit.Query{Items: []audit.QueryItem{{Select: "/au:Event", Count: -1}}})
	if denied.Status.Code != wsf.Failed || len(denied.Status.Sub) != 1 || denied.Status.Sub[0].Code != audit.ActionNotAuthorized || len(denied.Data) != 0 {
		t.Fatalf("another WSC reads the log: %+v", denied)
	}
}
