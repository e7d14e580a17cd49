package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// WSPCases returns the WSP cases (IDWSF2.md §10 rows F19, F12, F14, and
// F11 for the token and subject rules a WSP applies): the suite plays the
// DS that mints the tokens and the WSC of a WSPTarget. Run them with
// WSFCases(RoleWSP), which cover F1-F6 and F11 on a DST Query.
//
// A token whose subject is a plain saml:NameID has no case: IDWSF2 §3.4
// item 9 allows it, and only the federation's DS rule (ARCHITECTURE
// "Tokens from the DS": always an EncryptedID) speaks against it, which
// binds the DS, not the WSP.
func WSPCases() []Case {
	cs := slices.Concat(wspQueryCases(), wspStatusCases(), wspWriteCases(), wspTokenCases())
	for i := range cs {
		cs[i].Role = RoleWSP
	}
	return cs
}

// wspCase wraps run with the precondition every WSP case has, and gives
// the generic ID-WSF helpers the WSP as their target.
func wspCase(id, clause, row string, positive bool, summary string, run func(ctx context.Context, e *Env) Outcome) Case {
	return Case{ID: id, Clause: clause, Row: row, Positive: positive, Summary: summary,
		Run: func(ctx context.Context, e *Env) Outcome {
			if e.WSP == nil {
				return broken("no WSP target configured")
			}
			if e.WSF == nil {
				e.WSF = e.WSP.WSFTarget()
			}
			if e.WSC == nil {
				e.WSC = e.WSP.WSCForWSF()
			}
			return run(ctx, e)
		}}
}

const rowDST = "IDWSF2-F19"

func wspQueryCases() []Case {
	return []Case{
		wspCase("IDWSF2-DST-5.1/query-select-all", "IDWSF2 §5.1 svc:Query, svc:Data", rowDST, true,
			"A Query with one QueryItem per item type of the service is answered OK, with one svc:Data per item (itemIDRef) holding items of that type only.",
			func(ctx context.Context, e *Env) Outcome {
				l, out := e.list(ctx)
				if out.Verdict != "" {
					return out
				}
				var got []string
				for _, it := range e.WSP.items() {
					got = append(got, fmt.Sprintf("%d %s", len(l[it].Items), it))
				}
				return passed("OK; one Data per item type, each of its type only: %s", strings.Join(got, ", "))
			}),
		wspCase("IDWSF2-DST-5.1/query-paging", "IDWSF2 §5.1 count, offset, remaining, nextOffset", rowDST, true,
			"Two pages of one item (count=1, then the next offset) are the first two items of the listing, disjoint, with nextOffset and remaining consistent.",
			runPaging),
		wspCase("IDWSF2-DST-5.1/query-select-by-id", "IDWSF2 §5.1 svc:Select; ARCHITECTURE \"Service types\" (restricted Select)", rowDST, true,
			"A Select /p:Item[@id='v'] returns that item alone.", runSelectByID),
		wspCase("IDWSF2-DST-5.1/query-select-by-field", "IDWSF2 §5.1 svc:Select; ARCHITECTURE \"Service types\" (restricted Select)", rowDST, true,
			"A Select /p:Item[p:Field='v'] on a filter field returns only items whose field is v.", runSelectByField),
	}
}

// runPaging pages through the item type with the most items.
func runPaging(ctx context.Context, e *Env) Outcome {
	l, out := e.list(ctx)
	if out.Verdict != "" {
		return out
	}
	it := l.richest()[0]
	all := l[it]
	if len(all.Items) < 2 {
		return notApplicable("the subject has no item type with two items to page through")
	}
	total := -1 // known when the listing says nothing follows it
	if all.Remaining == 0 && all.NextOffset == 0 {
		total = len(all.Items)
	}
	page := func(id string, offset int) (dst.Data, Outcome) {
		q := queryItem(id, e.WSP.sel(dst.Select{Item: it}))
		q.Count, q.Offset = 1, offset
		r, err := e.dstQuery(ctx, tokenSpec{}, wsf.Header{}, q)
		switch {
		case err != nil:
			return dst.Data{}, setupFailed("Query of "+id, err)
		case r.Status.Code != wsf.OK:
			return dst.Data{}, failed("%s answered %s, want OK", id, describeStatus(r.Status))
		}
		d, ok := dataFor(r, id)
		if !ok || len(d.Items) != 1 {
			return d, failed("%s (count=1, offset=%d) returned %d Data, %d item(s): want one item", id, offset, len(r.Data), len(d.Items))
		}
		return d, Outcome{}
	}
	p1, out := page("page-1", 0)
	if out.Verdict != "" {
		return out
	}
	switch {
	case p1.NextOffset != 0 && p1.NextOffset != 1:
		return failed("the first page of one item says nextOffset=%d, want 1", p1.NextOffset)
	case p1.Remaining == 0:
		return failed("the first page of one item of %d says remaining=0", len(all.Items))
	case p1.Remaining > 0 && total >= 0 && p1.Remaining != total-1:
		return failed("the first page of one item of %d says remaining=%d", total, p1.Remaining)
	}
	p2, out := page("page-2", max(p1.NextOffset, 1))
	if out.Verdict != "" {
		return out
	}
	k1, k2 := itemKey(p1.Items[0]), itemKey(p2.Items[0])
	switch {
	case k1 == k2:
		return failed("both pages hold the same %s item (%s)", it, k1)
	case k1 != itemKey(all.Items[0]) || k2 != itemKey(all.Items[1]):
		return failed("the pages hold %s and %s, not the listing's first two %s items (%s, %s)", k1, k2, it,
			itemKey(all.Items[0]), itemKey(all.Items[1]))
	case total == 2 && (p2.Remaining > 0 || p2.NextOffset != 0):
		return failed("the last page of two says remaining=%d, nextOffset=%d", p2.Remaining, p2.NextOffset)
	}
	return passed("%s pages of one: %s (nextOffset %d, remaining %d), then %s", it, k1, p1.NextOffset, p1.Remaining, k2)
}

func runSelectByID(ctx context.Context, e *Env) Outcome {
	l, out := e.list(ctx)
	if out.Verdict != "" {
		return out
	}
	for _, it := range l.richest() {
		for _, x := range l[it].Items {
			if x.ID == "" {
				continue
			}
			return e.wantSelected(ctx, it, dst.Select{Item: it, ID: x.ID}, len(l[it].Items),
				func(y dst.Item) bool { return y.ID == x.ID }, true)
		}
	}
	return notApplicable("the subject has no item with an id")
}

// runSelectByField selects on a filter field of the richest item type
// that has one, by the value of a listed item; a value some listed item
// lacks is preferred, so that the predicate has something to leave out.
func runSelectByField(ctx context.Context, e *Env) Outcome {
	l, out := e.list(ctx)
	if out.Verdict != "" {
		return out
	}
	var best *dst.Select
	for _, it := range l.richest() {
		t := e.WSP.service().Item(it)
		for _, f := range t.Fields {
			for _, x := range l[it].Items {
				v := x.Get(f.Name)
				if !f.Filter || !x.Has(f.Name) || strings.Contains(v, "'") && strings.Contains(v, `"`) {
					continue
				}
				s := &dst.Select{Item: it, Field: f.Name, Value: v}
				if slices.ContainsFunc(l[it].Items, func(y dst.Item) bool { return y.Get(f.Name) != v }) {
					return e.wantSelected(ctx, it, *s, len(l[it].Items), func(y dst.Item) bool { return y.Get(f.Name) == v }, false)
				}
				if best == nil {
					best = s
				}
			}
		}
	}
	if best == nil {
		return notApplicable("the subject has no item with a filter field")
	}
	return e.wantSelected(ctx, best.Item, *best, len(l[best.Item].Items), func(y dst.Item) bool { return y.Get(best.Field) == best.Value }, false)
}

// wantSelected queries s and wants OK with at least one item, every one
// of type it matching; one alone when single.
func (e *Env) wantSelected(ctx context.Context, it string, s dst.Select, listed int, match func(dst.Item) bool, single bool) Outcome {
	text := e.WSP.sel(s)
	r, err := e.dstQuery(ctx, tokenSpec{}, wsf.Header{}, queryItem("sel", text))
	switch {
	case err != nil:
		return setupFailed("Query "+text, err)
	case r.Status.Code != wsf.OK:
		return failed("Select %s answered %s, want OK", text, describeStatus(r.Status))
	}
	d, _ := dataFor(r, "sel")
	switch {
	case len(d.Items) == 0:
		return failed("Select %s returned no item; the listing holds a matching one", text)
	case single && len(d.Items) != 1:
		return failed("Select %s returned %d items of the %d listed, want that one alone", text, len(d.Items), listed)
	}
	for _, y := range d.Items {
		if y.Type != it || !match(y) {
			return failed("Select %s returned %d item(s) of the %d listed, among them %s %s, which does not match", text, len(d.Items), listed, y.Type, itemKey(y))
		}
	}
	return passed("Select %s returned %d matching item(s) of the %d listed", text, len(d.Items), listed)
}

func wspStatusCases() []Case {
	return []Case{
		wspCase("IDWSF2-DST-5.2/invalid-select", "IDWSF2 §5.2 InvalidSelect; ARCHITECTURE \"Service types\" (restricted Select)", rowDST, false,
			"A Select outside the restricted subset (a path below an item, a function) is Failed with InvalidSelect nested for each item (ref = its itemID).",
			func(ctx context.Context, e *Env) Outcome {
				svc := e.WSP.service()
				t := svc.Item(e.WSP.items()[0])
				p := svc.Prefix
				path := fmt.Sprintf("/%s:%s/%s:%s/text()", p, t.Name, p, t.Fields[0].Name)
				r, err := e.dstQuery(ctx, tokenSpec{}, wsf.Header{}, queryItem("bad-path", path),
					queryItem("bad-function", fmt.Sprintf("count(/%s:%s)", p, t.Name)))
				return wantItemStatus(r, err, "InvalidSelect", "bad-path", "bad-function")
			}),
		wspCase("IDWSF2-DST-5.2/missing-select", "IDWSF2 §5.2 MissingSelect", rowDST, false,
			"A QueryItem without a Select is Failed with MissingSelect nested (ref = its itemID).",
			func(ctx context.Context, e *Env) Outcome {
				r, err := e.dstQuery(ctx, tokenSpec{}, wsf.Header{}, dst.QueryItem{ItemID: "no-select", Count: -1})
				return wantItemStatus(r, err, "MissingSelect", "no-select")
			}),
		wspCase("IDWSF2-DST-5.2/itemid-duplicated", "IDWSF2 §5.1 itemID, §5.2 ItemIDDuplicated", rowDST, false,
			"Two QueryItems with the same itemID are answered with ItemIDDuplicated nested, not served.",
			func(ctx context.Context, e *Env) Outcome {
				q := queryItem("twice", e.WSP.sel(dst.Select{Item: e.WSP.items()[0]}))
				r, err := e.dstQuery(ctx, tokenSpec{}, wsf.Header{}, q, q)
				if err == nil && r.Status.Code == "Partial" && nested(r.Status, "ItemIDDuplicated", "") {
					return passed("lu:Status %s", describeStatus(r.Status))
				}
				return wantItemStatus(r, err, "ItemIDDuplicated", "")
			}),
		wspCase("IDWSF2-Sec-3.4/subject-unknown", "IDWSF2 §3.4 item 9 (unknown subject: a service-level error); §5.2 DoesNotExist", "IDWSF2-F11", false,
			"A valid token whose SPProvidedID the back office does not know is answered Failed with DoesNotExist nested, and no data.",
			func(ctx context.Context, e *Env) Outcome {
				r, err := e.dstQuery(ctx, e.subjectToken(e.WSP.UnknownSubject), wsf.Header{}, queryItem("unknown", e.WSP.sel(dst.Select{Item: e.WSP.items()[0]})))
				return wantItemStatus(r, err, "DoesNotExist", "")
			}),
		wspCase("IDWSF2-Sec-3.4/subject-without-local-id", "IDWSF2 §3.4 item 9; ARCHITECTURE \"Tokens from the DS\" (SPProvidedID = the local identifier)", "IDWSF2-F11", false,
			"A valid token whose NameID carries no SPProvidedID maps to no local account: Failed with ActionNotAuthorized or DoesNotExist nested, and no data.",
			func(ctx context.Context, e *Env) Outcome {
				r, err := e.dstQuery(ctx, e.subjectToken(""), wsf.Header{}, queryItem("no-local-id", e.WSP.sel(dst.Select{Item: e.WSP.items()[0]})))
				if err == nil && nested(r.Status, "DoesNotExist", "") {
					return wantItemStatus(r, err, "DoesNotExist", "")
				}
				return wantItemStatus(r, err, "ActionNotAuthorized", "")
			}),
		wspCase("IDWSF2-SB-2.2/usage-directive-purpose", "IDWSF2 §2.2 sb:UsageDirective (CannotHonourUsageDirective); ARCHITECTURE \"Audit\" (purposes)", "IDWSF2-F14", false,
			"A request whose sb:UsageDirective states a purpose the federation's WSPs do not serve (urn:renkei:purpose:marketing) gets the CannotHonourUsageDirective fault; a WSP that does not process usage directives (S:MustUnderstand) does not offer F14.",
			runPurpose),
	}
}

// purposeNotServed is a purpose URI no service type of the federation
// honours (wsf/purpose.go lists those it does).
const purposeNotServed = "urn:renkei:purpose:marketing"

func runPurpose(ctx context.Context, e *Env) Outcome {
	h := wsf.Header{UsageDirectives: []wsf.UsageDirective{wsf.PurposeDirective(purposeNotServed)}}
	_, err := e.dstQuery(ctx, tokenSpec{}, h, queryItem("purpose", e.WSP.sel(dst.Select{Item: e.WSP.items()[0]})))
	var f *wsf.Fault
	switch {
	case err == nil:
		return failed("served a request whose usage directive states the purpose %s", purposeNotServed)
	case !errors.As(err, &f):
		return setupFailed("Query", err)
	case f.Code == wsf.FaultMustUnderstand:
		return notApplicable("the WSP does not process sb:UsageDirective: %s", faultText(f))
	case f.StatusCode() != wsf.CannotHonourUsageDirective:
		return failed("fault %s, want CannotHonourUsageDirective", faultText(f))
	}
	return passed("refused with fault %s", faultText(f))
}

func wspWriteCases() []Case {
	return []Case{
		wspCase("IDWSF2-DST-5.1/create", "IDWSF2 §5.1 svc:Create, svc:ItemData", rowDST, true,
			"A Create of the write fixture is answered OK with svc:ItemData (itemIDRef) holding the new item, its id and the given fields.",
			func(ctx context.Context, e *Env) Outcome {
				id, out := e.create(ctx)
				if id != "" {
					defer e.remove(context.WithoutCancel(ctx), id)
				}
				if out.Verdict != "" {
					return out
				}
				return passed("created %s %s", e.WSP.Write.Item, id)
			}),
		wspCase("IDWSF2-DST-5.1/delete", "IDWSF2 §5.1 svc:Delete", rowDST, true,
			"The item just created, deleted by a Select of its @id, is answered OK, and a Query of that id finds nothing.",
			runDeleteItem),
		wspCase("IDWSF2-DST-5.2/create-refused", "IDWSF2 §5.2 (second-level code, e.g. InvalidData)", rowDST, false,
			"A Create the back office refuses (the refused fixture: a full slot) is Failed with a second-level code nested, and nothing is created.",
			runCreateRefused),
		wspCase("IDWSF2-DST-5.2/modify-without-id", "IDWSF2 §5.2 InvalidSelect; ARCHITECTURE \"Service types\" (Modify by @id only)", rowDST, false,
			"A Modify whose Select names no item by @id is Failed with InvalidSelect nested (ref = its itemID).",
			func(ctx context.Context, e *Env) Outcome {
				w := e.WSP.Write
				if w == nil || !e.WSP.service().Item(w.Item).Modify {
					return notApplicable("no write fixture of an item type the service modifies")
				}
				m := &dst.Modify{Items: []dst.ModifyItem{{ItemID: "no-id", Select: e.WSP.sel(dst.Select{Item: w.Item}), HasSelect: true,
					NewData: []dst.Item{newItem(w.Item, w.Values)}}}}
				st, data, err := e.dstWrite(ctx, e.WSP.service().ModifyElement(m))
				return wantWriteStatus(st, data, err, "InvalidSelect", "no-id")
			}),
	}
}

// newItem is an item of type it with the fields values.
func newItem(it string, values map[string]string) dst.Item {
	x := dst.Item{Type: it}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		x.Set(k, values[k])
	}
	return x
}

// create creates the write fixture and returns the new item's id.
func (e *Env) create(ctx context.Context) (string, Outcome) {
	w := e.WSP.Write
	if w == nil {
		return "", notApplicable("the target description has no write fixture")
	}
	c := &dst.Create{Items: []dst.CreateItem{{ItemID: "new", NewData: []dst.Item{newItem(w.Item, w.Values)}}}}
	st, data, err := e.dstWrite(ctx, e.WSP.service().CreateElement(c))
	switch {
	case err != nil:
		return "", setupFailed("Create", err)
	case st.Code != wsf.OK:
		return "", failed("Create of %s %v answered %s, want OK", w.Item, w.Values, describeStatus(st))
	case len(data) != 1 || data[0].ItemIDRef != "new" || len(data[0].Items) != 1:
		return "", failed("Create answered OK with %d ItemData, want one referring to the CreateItem \"new\" with the new item", len(data))
	}
	x := data[0].Items[0]
	if x.Type != w.Item || x.ID == "" {
		return "", failed("the ItemData holds a %s with id %q, want the new %s and its id", x.Type, x.ID, w.Item)
	}
	for k, v := range w.Values {
		if x.Get(k) != v {
			return x.ID, failed("the new %s %s has %s %q, not the %q given", w.Item, x.ID, k, x.Get(k), v)
		}
	}
	return x.ID, Outcome{}
}

// remove deletes the item id of the write fixture's type.
func (e *Env) remove(ctx context.Context, id string) (wsf.Status, error) {
	d := &dst.Delete{Items: []dst.DeleteItem{{ItemID: "del", Select: e.WSP.sel(dst.Select{Item: e.WSP.Write.Item, ID: id}), HasSelect: true}}}
	st, _, err := e.dstWrite(ctx, e.WSP.service().DeleteElement(d))
	return st, err
}

func runDeleteItem(ctx context.Context, e *Env) Outcome {
	id, out := e.create(ctx)
	if out.Verdict != "" {
		if id != "" {
			e.remove(context.WithoutCancel(ctx), id)
		}
		return out
	}
	it := e.WSP.Write.Item
	st, err := e.remove(ctx, id)
	switch {
	case err != nil:
		return setupFailed("Delete", err)
	case st.Code != wsf.OK:
		return failed("Delete of %s %s answered %s, want OK", it, id, describeStatus(st))
	}
	text := e.WSP.sel(dst.Select{Item: it, ID: id})
	r, err := e.dstQuery(ctx, tokenSpec{}, wsf.Header{}, queryItem("gone", text))
	switch {
	case err != nil:
		return setupFailed("Query "+text, err)
	case countItems(r) > 0:
		return failed("after an OK Delete, Select %s still returns the item", text)
	case r.Status.Code != wsf.OK && !nested(r.Status, "DoesNotExist", ""):
		return failed("after an OK Delete, Select %s answered %s, want OK without the item or DoesNotExist", text, describeStatus(r.Status))
	}
	return passed("deleted %s %s; Select %s finds nothing (%s)", it, id, text, describeStatus(r.Status))
}

func runCreateRefused(ctx context.Context, e *Env) Outcome {
	w := e.WSP.Write
	if w == nil {
		return notApplicable("the target description has no write fixture")
	}
	count := func() (int, Outcome) {
		l, out := e.list(ctx)
		return len(l[w.Item].Items), out
	}
	before, out := count()
	if out.Verdict != "" {
		return out
	}
	c := &dst.Create{Items: []dst.CreateItem{{ItemID: "refused", NewData: []dst.Item{newItem(w.Item, w.Refused)}}}}
	st, data, err := e.dstWrite(ctx, e.WSP.service().CreateElement(c))
	if err == nil && st.Code == wsf.Failed && len(st.Sub) > 0 && len(data) == 0 {
		after, out := count()
		switch {
		case out.Verdict != "":
			return out
		case after != before:
			return failed("refused (%s), yet the subject's %s items went from %d to %d", describeStatus(st), w.Item, before, after)
		}
	}
	return wantWriteStatus(st, data, err, "", "refused")
}

// wantWriteStatus judges a write that must fail: Failed with code (any
// second-level code when "") nested for ref, or without a ref, and no
// ItemData.
func wantWriteStatus(st wsf.Status, data []dst.ItemData, err error, code wsf.Code, ref string) Outcome {
	if err != nil {
		if isFault(err) {
			return failed("a SOAP fault where IDWSF2 §5.2 wants a Failed status: %v", err)
		}
		return setupFailed("the write", err)
	}
	ok := st.Code == wsf.Failed && slices.ContainsFunc(st.Sub, func(s wsf.Status) bool {
		return (code == "" || s.Code == code) && (s.Ref == "" || s.Ref == ref)
	})
	want := string(code)
	if want == "" {
		want = "a second-level code"
	}
	switch {
	case !ok:
		return failed("lu:Status %s, want Failed with %s nested for the item %q", describeStatus(st), want, ref)
	case len(data) > 0:
		return failed("lu:Status %s with ItemData", describeStatus(st))
	}
	return passed("lu:Status %s", describeStatus(st))
}

func wspTokenCases() []Case {
	sender := senderFault
	return []Case{
		wspCase("IDWSF2-Sec-3.4/token-other-holder", "IDWSF2 §3.4 item 7 (holder-of-key confirmation)", "IDWSF2-F11", false,
			"A token bound to another WSC's key (the WSP knows that WSC), presented and signed by the WSC, is refused with a sender's fault.",
			func(ctx context.Context, e *Env) Outcome {
				return negWSF(wsfMsg{token: &tokenSpec{holder: e.WSP.OtherWSC.Cert}}, &sender, "")(ctx, e)
			}),
		wspCase("IDWSF2-SB-2.2/target-identity", "IDWSF2 §2.2 sb:TargetIdentity; §3.4 item 9", "IDWSF2-F12", true,
			"A request whose invocation token names a local identifier the back office does not know, with sb:TargetIdentity carrying a token for the subject, is served for the subject (OK, not DoesNotExist).",
			runTargetIdentity),
	}
}

func runTargetIdentity(ctx context.Context, e *Env) Outcome {
	ti, err := e.token(tokenSpec{})
	if err != nil {
		return broken("%v", err)
	}
	it := e.WSP.items()[0]
	h := wsf.Header{TargetIdentity: &wsf.TargetIdentity{Token: ti}}
	r, err := e.dstQuery(ctx, e.subjectToken(e.WSP.UnknownSubject), h, queryItem("target", e.WSP.sel(dst.Select{Item: it})))
	switch {
	case err != nil:
		return setupFailed("Query with sb:TargetIdentity", err)
	case r.Status.Code != wsf.OK:
		return failed("lu:Status %s: the WSP did not address the sb:TargetIdentity's subject", describeStatus(r.Status))
	}
	d, ok := dataFor(r, "target")
	if !ok {
		return failed("no svc:Data refers to the QueryItem")
	}
	return passed("OK for the target identity: %d %s item(s)", len(d.Items), it)
}
