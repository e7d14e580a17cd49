package conformance

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// wspEPR is the WSP's EPR for the service under test with tok under
// ClientTLS:SAMLV2, as a DS would hand it to the WSC.
func (e *Env) wspEPR(tok *etree.Element) *wsf.EPR {
	return &wsf.EPR{Address: e.WSP.Address, Metadata: &wsf.EPRMetadata{ProviderID: e.WSP.EntityID, ServiceType: e.WSP.ServiceType,
		Framework: wsf.FrameworkVersion, SecurityContexts: []wsf.SecurityContext{{Mechanisms: []string{string(wsf.ClientTLSSAMLV2)},
			Tokens: []wsf.Token{{Usage: wsf.UsageSecurityToken, Element: tok}}}}}}
}

// callWSP sends the DST operation op (Query, Create, Modify, Delete) of
// the service as the WSC, with the token s describes (the zero spec: the
// subject's, bound to the WSC), and returns the payload the suite
// verified as a WSC does: schema-valid, signed by the WSP's metadata key,
// related to the request. A fault is an *errFault, an answer the suite
// could not accept an *errAnswer.
func (e *Env) callWSP(ctx context.Context, op string, payload *etree.Element, s tokenSpec, h wsf.Header) (*etree.Element, error) {
	c, err := e.wsfClient(e.WSP.WSC, e.WSP.peer())
	if err != nil {
		return nil, err
	}
	tok, err := e.token(s)
	if err != nil {
		return nil, err
	}
	return e.callWith(ctx, c, e.wspEPR(tok), e.WSP.service().Action(op), payload, h)
}

// subjectToken names the subject with local as its local identifier (""
// for none).
func (e *Env) subjectToken(local string) tokenSpec {
	return tokenSpec{subject: e.WSP.nameID("conformance-"+e.newID()[1:9], local)}
}

// dstQuery sends a Query of items and decodes the answer.
func (e *Env) dstQuery(ctx context.Context, s tokenSpec, h wsf.Header, items ...dst.QueryItem) (*dst.QueryResponse, error) {
	svc := e.WSP.service()
	pl, err := e.callWSP(ctx, "Query", svc.QueryElement(&dst.Query{Items: items}), s, h)
	if err != nil {
		return nil, err
	}
	r, err := svc.DecodeQueryResponse(pl)
	if err != nil {
		return nil, &errAnswer{fmt.Errorf("not a QueryResponse of %s: %w", svc.NS, err)}
	}
	return r, nil
}

// dstWrite sends a Create, Modify or Delete (by the element's name) for
// the subject and returns the answer's status and ItemData.
func (e *Env) dstWrite(ctx context.Context, req *etree.Element) (wsf.Status, []dst.ItemData, error) {
	svc := e.WSP.service()
	pl, err := e.callWSP(ctx, req.Tag, req, tokenSpec{}, wsf.Header{})
	if err != nil {
		return wsf.Status{}, nil, err
	}
	if req.Tag == "Delete" {
		r, err := svc.DecodeDeleteResponse(pl)
		if err != nil {
			return wsf.Status{}, nil, &errAnswer{fmt.Errorf("not a DeleteResponse of %s: %w", svc.NS, err)}
		}
		return r.Status, nil, nil
	}
	r, err := svc.DecodeWriteResponse(pl)
	switch {
	case err != nil:
		return wsf.Status{}, nil, &errAnswer{fmt.Errorf("not a %sResponse of %s: %w", req.Tag, svc.NS, err)}
	case r.Op != req.Tag+"Response":
		return wsf.Status{}, nil, &errAnswer{fmt.Errorf("a %s answers the %s", r.Op, req.Tag)}
	}
	return r.Status, r.ItemData, nil
}

// queryItem is a QueryItem with a Select and the WSP's own page size.
func queryItem(id, sel string) dst.QueryItem {
	return dst.QueryItem{ItemID: id, Select: sel, HasSelect: true, Count: -1}
}

// sel renders a Select in the restricted subset of Renkei's services.
func (t *WSPTarget) sel(s dst.Select) string { return s.String(t.service().Prefix) }

// listPage is the page size the suite lists a subject's items with.
const listPage = 50

// listing is one page of each item type the subject has at the WSP, by
// item type.
type listing map[string]dst.Data

// list queries every item type under test for the subject.
func (e *Env) list(ctx context.Context) (listing, Outcome) {
	var qs []dst.QueryItem
	for _, it := range e.WSP.items() {
		q := queryItem("all-"+it, e.WSP.sel(dst.Select{Item: it}))
		q.Count = listPage
		qs = append(qs, q)
	}
	r, err := e.dstQuery(ctx, tokenSpec{}, wsf.Header{}, qs...)
	if err != nil {
		return nil, setupFailed("listing the subject's items", err)
	}
	if r.Status.Code != wsf.OK {
		return nil, failed("a Query of every item type for the subject answered %s, want OK", describeStatus(r.Status))
	}
	out := listing{}
	for _, it := range e.WSP.items() {
		d, ok := dataFor(r, "all-"+it)
		if !ok {
			return nil, failed("no svc:Data refers to the QueryItem all-%s", it)
		}
		for _, x := range d.Items {
			if x.Type != it {
				return nil, failed("the Data of a Select of /%s holds a %s item", it, x.Type)
			}
		}
		out[it] = d
	}
	return out, Outcome{}
}

// richest returns the item types of the listing, most items first.
func (l listing) richest() []string {
	types := slices.Sorted(maps.Keys(l))
	slices.SortStableFunc(types, func(a, b string) int { return len(l[b].Items) - len(l[a].Items) })
	return types
}

// dataFor returns the Data that refers to the QueryItem id.
func dataFor(r *dst.QueryResponse, id string) (dst.Data, bool) {
	for _, d := range r.Data {
		if d.ItemIDRef == id {
			return d, true
		}
	}
	return dst.Data{}, false
}

// itemKey names an item: its id, or its fields when it has none.
func itemKey(it dst.Item) string {
	if it.ID != "" {
		return "id " + it.ID
	}
	return fmt.Sprint(it.Values)
}

// nested reports whether st holds a second-level status code for ref (""
// for any ref).
func nested(st wsf.Status, code wsf.Code, ref string) bool {
	for _, s := range st.Sub {
		if s.Code == code && (ref == "" || s.Ref == ref) {
			return true
		}
	}
	return false
}

// describeStatus renders a status with its nested codes and refs.
func describeStatus(st wsf.Status) string {
	d := string(st.Code)
	if st.Ref != "" {
		d += " ref=" + st.Ref
	}
	if len(st.Sub) == 0 {
		return d
	}
	var subs []string
	for _, s := range st.Sub {
		subs = append(subs, describeStatus(s))
	}
	return d + "[" + strings.Join(subs, ", ") + "]"
}

// wantItemStatus judges the answer to a request whose items must all
// fail: top-level Failed (IDWSF2 §5.2) with code nested for each ref,
// and no data.
func wantItemStatus(r *dst.QueryResponse, err error, code wsf.Code, refs ...string) Outcome {
	if err != nil {
		if isFault(err) {
			return failed("a SOAP fault where IDWSF2 §5.2 wants a QueryResponse with Failed/%s: %v", code, err)
		}
		return setupFailed("Query", err)
	}
	for _, ref := range refs {
		if r.Status.Code != wsf.Failed || !nested(r.Status, code, ref) {
			want := "Failed with " + string(code) + " nested"
			if ref != "" {
				want += fmt.Sprintf(" for the item %q", ref)
			}
			return failed("lu:Status %s, want %s", describeStatus(r.Status), want)
		}
	}
	if n := countItems(r); n > 0 {
		return failed("lu:Status %s with %d item(s) of data", describeStatus(r.Status), n)
	}
	return passed("lu:Status %s", describeStatus(r.Status))
}

func countItems(r *dst.QueryResponse) int {
	n := 0
	for _, d := range r.Data {
		n += len(d.Items)
	}
	return n
}
