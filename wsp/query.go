package wsp

import (
	"context"
	"errors"
	"strings"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// Page sizes of a QueryItem.
const (
	DefaultPage = 20
	MaxPage     = 200
	MaxOffset   = 100000
)

// Query answers svc:Query (IDWSF2 §5.1) for the subject of inv: the
// TestItems first, then each QueryItem (those naming a TestItem by
// itemIDRef only when its test held), each a page of the back office's
// records. Per-item failures are nested under Partial, or Failed when no
// item succeeded.
func (w *WSP) Query(ctx context.Context, inv *Invoker, serviceType string, q *dst.Query) (*dst.QueryResponse, error) {
	s, err := w.service(ctx, serviceType, inv, "Query")
	if err != nil {
		return nil, err
	}
	now := w.now()
	resp := &dst.QueryResponse{TimeStamp: now}
	bctx, cancel := context.WithTimeout(ctx, w.timeout()) // one bound for the whole request
	defer cancel()
	local, st, err := w.subject(bctx, s, inv)
	if err != nil {
		return nil, err
	}
	rec := w.record(inv, local, s, "Query")
	if st != nil {
		resp.Status = *st
		return resp, w.audit(ctx, rec, nil, resp.Status, now)
	}
	if st := itemIDs(q); st != nil {
		resp.Status = *st
		return resp, w.audit(ctx, rec, nil, resp.Status, now)
	}
	var failed, notes []wsf.Status
	var read []string
	tests := map[string]bool{}
	for _, t := range q.Tests {
		ref := firstNonEmpty(t.ItemID, t.ID)
		sel, code := s.selectOf(t.Sel, t.SelErr, t.ObjectType, t.Op != "" || t.SelErr != nil)
		if code != "" {
			failed = append(failed, wsf.Status{Code: code, Ref: ref})
			continue
		}
		page, st, err := w.lookup(bctx, s, local, sel, dst.QueryItem{Count: 1}, ref)
		if err != nil {
			return nil, err
		}
		if st != nil {
			failed = append(failed, st.Sub...)
			continue
		}
		read = append(read, sel.Item) // a test's answer tells of the data too
		tests[t.ID] = len(page.Records) > 0
		if t.ItemID != "" {
			tests[t.ItemID] = tests[t.ID]
		}
		resp.TestResults = append(resp.TestResults, dst.TestResult{ItemIDRef: ref, Value: tests[t.ID]})
	}
	for _, it := range q.Items {
		if it.ItemIDRef != "" {
			held, known := tests[it.ItemIDRef]
			if !known {
				failed = append(failed, wsf.Status{Code: NoSuchTest, Ref: it.ItemID})
				continue
			}
			if !held {
				continue // the condition did not hold: nothing asked
			}
		}
		if code := unsupported(it); code != "" {
			failed = append(failed, wsf.Status{Code: code, Ref: it.ItemID})
			continue
		}
		sel, code := s.selectOf(it.Sel, it.SelErr, it.ObjectType, it.HasSelect)
		if code != "" {
			failed = append(failed, wsf.Status{Code: code, Ref: it.ItemID})
			continue
		}
		page, st, err := w.lookup(bctx, s, local, sel, it, it.ItemID)
		if err != nil {
			return nil, err
		}
		if st != nil {
			failed = append(failed, st.Sub...)
			continue
		}
		d, bad := s.data(it, page)
		if bad != nil {
			w.logf("wsp: %s %s: %v", s.svc.NS, sel.Item, bad)
			failed = append(failed, wsf.Status{Code: UnexpectedError, Ref: it.ItemID,
				Comment: "the back office returned a record the service cannot represent"})
			continue
		}
		if page.NoHistory && !it.ChangedSince.IsZero() {
			notes = append(notes, wsf.Status{Code: ChangedSinceReturnsAll, Ref: it.ItemID})
		}
		read = append(read, sel.Item)
		resp.Data = append(resp.Data, d)
	}
	resp.Status = aggregate(failed, notes, len(resp.Data)+len(resp.TestResults) > 0 || len(q.Items)+len(q.Tests) == 0)
	return resp, w.audit(ctx, rec, read, resp.Status, now)
}

// service returns the served service type, after the purpose check: a
// purpose the service's policy does not name is refused
// (CannotHonourUsageDirective), and the refusal audited like any answer.
func (w *WSP) service(ctx context.Context, serviceType string, inv *Invoker, op string) (*service, error) {
	s := w.services[serviceType]
	if s == nil {
		return nil, wsf.Errorf(wsf.IDStarMsgNotUnderstood, "service type %s is not served here", serviceType)
	}
	if w.fault(FaultIgnorePurpose) {
		return s, nil
	}
	err := s.checkPurpose(inv)
	if err == nil {
		return s, nil
	}
	local := ""
	if inv.Subject != nil {
		local = inv.Subject.SPProvidedID
	}
	code := wsf.Code(wsf.CannotHonourUsageDirective)
	var we *wsf.Error
	if errors.As(err, &we) {
		code = we.Code
	}
	if aerr := w.audit(ctx, w.record(inv, local, s, op), nil, wsf.Status{Code: code}, w.now()); aerr != nil {
		return nil, aerr
	}
	return nil, err
}

// itemIDs checks the request's item identifiers: unique, and present
// when there is more than one item (the responses refer to them).
func itemIDs(q *dst.Query) *wsf.Status {
	seen := map[string]bool{}
	n := len(q.Items) + len(q.Tests)
	check := func(id string) *wsf.Status {
		switch {
		case id == "" && n > 1:
			return &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: MissingItemID}}}
		case id != "" && seen[id]:
			return &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: ItemIDDuplicated, Ref: id}}}
		}
		seen[id] = true
		return nil
	}
	for _, t := range q.Tests {
		if st := check(firstNonEmpty(t.ItemID, t.ID)); st != nil {
			return st
		}
	}
	for _, it := range q.Items {
		if st := check(it.ItemID); st != nil {
			return st
		}
	}
	return nil
}

// unsupported returns the code of a QueryItem feature the WSP does not
// offer, or "".
func unsupported(it dst.QueryItem) wsf.Code {
	switch {
	case it.Predefined != "":
		return UnsupportedPredefined
	case it.HasSort:
		return SortNotSupported
	case it.SetReq == "Static":
		return StaticNotSupported
	case it.SetID != "" || it.SetReq == "DeleteSet":
		return InvalidSetID
	}
	if len(it.ChangeFormats) > 0 {
		for _, f := range it.ChangeFormats {
			if f == "CurrentElements" {
				return ""
			}
		}
		return FormatNotSupported
	}
	return ""
}

// selectOf checks a Select against the service and the WSP's mapping.
func (s *service) selectOf(sel *dst.Select, selErr error, objectType string, sent bool) (*dst.Select, wsf.Code) {
	switch {
	case !sent:
		return nil, MissingSelect
	case selErr != nil || sel == nil:
		return nil, InvalidSelect
	case objectType != "" && objectType != sel.Item:
		return nil, ObjectTypeMismatch
	case !s.items[sel.Item]:
		return nil, UnsupportedObjectType
	}
	return sel, ""
}

// lookup reads one page for sel; ctx carries the request's bound.
func (w *WSP) lookup(ctx context.Context, s *service, local string, sel *dst.Select, it dst.QueryItem, ref string) (Page, *wsf.Status, error) {
	count := it.Count
	if count <= 0 {
		count = DefaultPage
	}
	if it.Offset > MaxOffset {
		return Page{}, &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: InvalidSelect, Ref: ref,
			Comment: "offset beyond the last page the service serves"}}}, nil
	}
	if w.fault(FaultIgnoreSelectPredicate) {
		sel = &dst.Select{Item: sel.Item}
	}
	page, err := w.cfg.Backend.Query(ctx, Lookup{Service: s.svc.NS, Item: sel.Item, Subject: local, ID: sel.ID,
		Field: sel.Field, Value: sel.Value, ChangedSince: it.ChangedSince, Offset: it.Offset, Count: min(count, MaxPage)})
	if err != nil {
		st, err := w.backendStatus(err, ref)
		return Page{}, st, err
	}
	return page, nil, nil
}

// data renders a page as svc:Data.
func (s *service) data(it dst.QueryItem, page Page) (dst.Data, error) {
	d := dst.Data{ItemIDRef: it.ItemID, Remaining: 0}
	if !it.ChangedSince.IsZero() {
		d.ChangeFormat = "CurrentElements"
		if page.NoHistory {
			d.ChangeFormat = "All"
		}
	}
	if page.More {
		d.Remaining, d.NextOffset = -1, it.Offset+len(page.Records)
	}
	t := s.svc.Item(it.Sel.Item)
	for _, r := range page.Records {
		item, err := itemOf(t, r)
		if err != nil {
			return d, err
		}
		d.Items = append(d.Items, item)
	}
	return d, nil
}

// aggregate is the top-level status of per-item failures (IDWSF2 §5.2):
// OK with the notes nested, Partial when some items succeeded, Failed
// when none did.
func aggregate(failed, notes []wsf.Status, anyOK bool) wsf.Status {
	switch {
	case len(failed) == 0:
		return wsf.Status{Code: wsf.OK, Sub: notes}
	case anyOK:
		return wsf.Status{Code: Partial, Sub: append(failed, notes...)}
	}
	return wsf.Status{Code: wsf.Failed, Sub: failed}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
