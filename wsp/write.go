package wsp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// writeItem is one item of a Create, Modify or Delete as the engine
// checks it: the back-office write, or the status that refuses it.
type writeItem struct {
	ref  string
	item string
	w    Write
	code wsf.Code
	why  string
}

// Create answers svc:Create: each CreateItem's NewData holds one item of
// a type the WSP writes, with its input fields; all are created in one
// transaction, or none.
func (w *WSP) Create(ctx context.Context, inv *Invoker, serviceType string, c *dst.Create) (*dst.WriteResponse, error) {
	var items []writeItem
	for _, ci := range c.Items {
		wi := writeItem{ref: ci.ItemID, w: Write{Op: Create}}
		if len(ci.NewData) == 0 {
			wi.code = MissingNewDataElement
		} else if len(ci.NewData) > 1 {
			wi.code = NoMultipleAllowed
		} else {
			wi.item = ci.NewData[0].Type
			if ci.ObjectType != "" && ci.ObjectType != wi.item {
				wi.code = ObjectTypeMismatch
			}
			wi.w.Values = inputs(&ci.NewData[0])
		}
		items = append(items, wi)
	}
	return w.write(ctx, inv, serviceType, "CreateResponse", items, len(c.Results) > 0)
}

// Modify answers svc:Modify: each ModifyItem's Select names one item by
// @id and NewData holds its new input fields; notChangedSince is checked
// against the record's modification time; all in one transaction.
func (w *WSP) Modify(ctx context.Context, inv *Invoker, serviceType string, m *dst.Modify) (*dst.WriteResponse, error) {
	var items []writeItem
	for _, mi := range m.Items {
		wi := writeItem{ref: mi.ItemID, w: Write{Op: Modify, NotChangedSince: mi.NotChangedSince}}
		wi.item, wi.w.ID, wi.code = byID(mi.Sel, mi.SelErr, mi.HasSelect, mi.ObjectType)
		switch {
		case wi.code != "":
		case len(mi.NewData) == 0:
			wi.code = MissingNewDataElement
		case len(mi.NewData) > 1:
			wi.code = NoMultipleAllowed
		case mi.NewData[0].Type != wi.item:
			wi.code = ObjectTypeMismatch
		default:
			wi.w.Values = inputs(&mi.NewData[0])
		}
		items = append(items, wi)
	}
	return w.write(ctx, inv, serviceType, "ModifyResponse", items, len(m.Results) > 0)
}

// Delete answers svc:Delete: each DeleteItem's Select names one item by
// @id; all removed in one transaction, or none.
func (w *WSP) Delete(ctx context.Context, inv *Invoker, serviceType string, d *dst.Delete) (*dst.DeleteResponse, error) {
	var items []writeItem
	for _, di := range d.Items {
		wi := writeItem{ref: di.ItemID, w: Write{Op: Delete, NotChangedSince: di.NotChangedSince}}
		wi.item, wi.w.ID, wi.code = byID(di.Sel, di.SelErr, di.HasSelect, di.ObjectType)
		items = append(items, wi)
	}
	r, err := w.write(ctx, inv, serviceType, "DeleteResponse", items, false)
	if err != nil {
		return nil, err
	}
	return &dst.DeleteResponse{Status: r.Status}, nil
}

// byID reads the one-item Select of a Modify or Delete.
func byID(sel *dst.Select, selErr error, sent bool, objectType string) (item, id string, code wsf.Code) {
	switch {
	case !sent:
		return "", "", MissingSelect
	case selErr != nil || sel == nil || sel.ID == "":
		return "", "", InvalidSelect
	case objectType != "" && objectType != sel.Item:
		return "", "", ObjectTypeMismatch
	}
	return sel.Item, sel.ID, ""
}

func inputs(it *dst.Item) map[string]string {
	out := map[string]string{}
	for _, v := range it.Values {
		out[v.Name] = v.Text
	}
	return out
}

// write checks every item, then hands them to the back office at once.
func (w *WSP) write(ctx context.Context, inv *Invoker, serviceType, op string, items []writeItem, resultQuery bool) (*dst.WriteResponse, error) {
	s, err := w.service(ctx, serviceType, inv, strings.TrimSuffix(op, "Response"))
	if err != nil {
		return nil, err
	}
	now := w.now()
	resp := &dst.WriteResponse{Op: op, TimeStamp: now}
	bctx, cancel := context.WithTimeout(ctx, w.timeout()) // one bound for the whole request
	defer cancel()
	local, st, err := w.subject(bctx, s, inv)
	if err != nil {
		return nil, err
	}
	rec := w.record(inv, local, s, strings.TrimSuffix(op, "Response"))
	var written []string
	fail := func(st wsf.Status) (*dst.WriteResponse, error) {
		resp.Status = st
		return resp, w.audit(ctx, rec, written, resp.Status, now)
	}
	if st != nil {
		return fail(*st)
	}
	if resultQuery {
		return fail(wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: ResultQueryNotSupported}}})
	}
	if st := writeIDs(items); st != nil {
		return fail(*st)
	}
	var failed []wsf.Status
	var ws []Write
	for i := range items {
		wi := &items[i]
		if wi.code == "" {
			wi.code, wi.why = s.checkWrite(wi)
		}
		if wi.code != "" {
			failed = append(failed, wsf.Status{Code: wi.code, Ref: wi.ref, Comment: wi.why})
			continue
		}
		wi.w.Service, wi.w.Item, wi.w.Subject, wi.w.Now = s.svc.NS, wi.item, local, now
		ws = append(ws, wi.w)
		written = append(written, wi.item)
	}
	if len(failed) > 0 {
		written = nil
		return fail(wsf.Status{Code: wsf.Failed, Sub: failed})
	}
	records, err := w.cfg.Backend.Write(bctx, ws)
	if err != nil {
		written = nil
		ref := ""
		var r *Refusal
		if errors.As(err, &r) && r.Index >= 0 && r.Index < len(items) {
			ref = items[r.Index].ref
		}
		st, err := w.backendStatus(err, ref)
		if err != nil {
			return nil, err
		}
		return fail(*st)
	}
	if len(records) != len(ws) {
		w.logf("wsp: the back office answered %d records for %d writes", len(records), len(ws))
		st, _ := w.backendStatus(fmt.Errorf("%w: %d records for %d writes", ErrUnavailable, len(records), len(ws)), "")
		written = nil
		return fail(*st)
	}
	resp.Status = wsf.Status{Code: wsf.OK}
	if op != "DeleteResponse" {
		for i, r := range records {
			item, err := itemOf(s.svc.Item(items[i].item), r)
			if err != nil {
				w.logf("wsp: %s %s written, not shown: %v", s.svc.NS, items[i].item, err)
				continue
			}
			resp.ItemData = append(resp.ItemData, dst.ItemData{ItemIDRef: items[i].ref, Items: []dst.Item{item}})
		}
	}
	return resp, w.audit(ctx, rec, written, resp.Status, now)
}

// writeIDs checks the items' identifiers as itemIDs does for a Query.
func writeIDs(items []writeItem) *wsf.Status {
	seen := map[string]bool{}
	for _, wi := range items {
		switch {
		case wi.ref == "" && len(items) > 1:
			return &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: MissingItemID}}}
		case wi.ref != "" && seen[wi.ref]:
			return &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: ItemIDDuplicated, Ref: wi.ref}}}
		}
		seen[wi.ref] = true
	}
	return nil
}

// checkWrite checks one write against the catalog and the mapping: the
// operation offered on the item type, only input fields given, each of
// its type, the required ones present.
func (s *service) checkWrite(wi *writeItem) (wsf.Code, string) {
	t := s.svc.Item(wi.item)
	switch {
	case t == nil || !s.items[wi.item]:
		return UnsupportedObjectType, ""
	case !s.writable[wi.item] || !offers(t, wi.w.Op):
		return ActionNotAuthorized, wi.w.Op.String() + " of " + wi.item + " is not offered"
	case wi.w.Op == Delete:
		return "", ""
	}
	for name, v := range wi.w.Values {
		f := t.Field(name)
		if f == nil || !f.Input {
			return InvalidData, name + " is not given by the requester"
		}
		if _, err := lexical(f.Type, v); err != nil {
			return InvalidData, name + " is not of its type"
		}
	}
	for _, f := range t.Fields {
		if f.Input && f.Required && wi.w.Values[f.Name] == "" {
			return MissingDataElement, f.Name + " is required"
		}
	}
	return "", ""
}

func offers(t *dst.ItemType, op WriteOp) bool {
	switch op {
	case Create:
		return t.Create
	case Modify:
		return t.Modify
	case Delete:
		return t.Delete
	}
	return false
}
