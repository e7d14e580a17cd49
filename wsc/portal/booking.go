package portal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// SlotFull is the WSP's third-level status of a booking of a slot with no
// place left (wsp.SlotFull).
const SlotFull = "urn:renkei:status:SlotFull"

// Errors of booking.
var (
	// ErrSlotFull: the slot's last place was taken meanwhile.
	ErrSlotFull = errors.New("portal: the slot is full")
	// ErrNotFound: the slot or the appointment is not there (any more).
	ErrNotFound = errors.New("portal: no such slot or appointment")
)

// Slots are one hospital's open outpatient slots, soonest first.
type Slots struct {
	Provider    string
	Institution Name
	Items       []dst.Item
	Problem     Problem
	Err         error
}

// OpenSlots asks every hospital with an appointment service for its slots
// with a place left, in parallel under the portal's timeout.
func (p *Portal) OpenSlots(ctx context.Context, c *Citizen) ([]*Slots, error) {
	dctx, cancel := context.WithTimeout(ctx, p.timeout())
	eprs, err := c.WSC.Discover(dctx, dst.Appointment)
	cancel()
	if err != nil {
		return nil, errors.Join(ErrDiscovery, err)
	}
	svc := dst.Lookup(dst.Appointment)
	var out []*Slots
	var calls []wsc.Call
	for _, e := range eprs {
		q := &dst.Query{Items: []dst.QueryItem{{ItemID: "slots", Select: "/ap:Slot", HasSelect: true, Count: -1}}}
		call, err := wsc.DSTQuery(dst.Appointment, e.Metadata.ProviderID, q)
		if err != nil {
			return nil, err
		}
		calls = append(calls, call)
		out = append(out, &Slots{Provider: e.Metadata.ProviderID, Institution: p.InstitutionName(e.Metadata.ProviderID)})
	}
	now := p.now()
	for i, o := range c.WSC.CallAll(ctx, calls, p.timeout()) {
		items, err := decodeRecords(svc, o)
		out[i].Err, out[i].Problem = err, problemOf(err)
		for _, it := range items["Slot"] {
			if n, err := strconv.Atoi(it.Get("Remaining")); err == nil && n > 0 && When(svc, &it).After(now) {
				out[i].Items = append(out[i].Items, it)
			}
		}
		// soonest first
		for l, r := 0, len(out[i].Items)-1; l < r; l, r = l+1, r-1 {
			out[i].Items[l], out[i].Items[r] = out[i].Items[r], out[i].Items[l]
		}
	}
	return out, nil
}

// Book books the slot at the hospital provider (a DST Create of an
// Appointment naming the slot) and returns the appointment as the
// hospital recorded it. A slot taken meanwhile is ErrSlotFull.
func (p *Portal) Book(ctx context.Context, c *Citizen, provider, slot string) (*dst.Item, error) {
	svc := dst.Lookup(dst.Appointment)
	cr := &dst.Create{Items: []dst.CreateItem{{ItemID: "book", NewData: []dst.Item{{Type: "Appointment",
		Values: []dst.Value{{Name: "Slot", Text: slot}}}}, HasNewData: true}}}
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	res, err := c.WSC.Do(ctx, &wsc.Call{ServiceType: dst.Appointment, Provider: provider, Op: "Create", Payload: svc.CreateElement(cr)})
	if err != nil {
		return nil, err
	}
	r, err := svc.DecodeWriteResponse(res.Payload)
	if err != nil {
		return nil, err
	}
	if err := writeStatus(r.Status); err != nil {
		return nil, err
	}
	for _, d := range r.ItemData {
		for i := range d.Items {
			if d.Items[i].Type == "Appointment" {
				return &d.Items[i], nil
			}
		}
	}
	return nil, fmt.Errorf("portal: %s booked without returning the appointment", provider)
}

// Cancel cancels the appointment id at the hospital provider (a DST
// Delete).
func (p *Portal) Cancel(ctx context.Context, c *Citizen, provider, id string) error {
	if strings.ContainsAny(id, `'"`) {
		return ErrNotFound // not an identifier a Select can quote
	}
	svc := dst.Lookup(dst.Appointment)
	d := &dst.Delete{Items: []dst.DeleteItem{{ItemID: "cancel", Select: "/ap:Appointment[@id='" + id + "']", HasSelect: true}}}
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	res, err := c.WSC.Do(ctx, &wsc.Call{ServiceType: dst.Appointment, Provider: provider, Op: "Delete", Payload: svc.DeleteElement(d)})
	if err != nil {
		return err
	}
	r, err := svc.DecodeDeleteResponse(res.Payload)
	if err != nil {
		return err
	}
	return writeStatus(r.Status)
}

// writeStatus maps a write's DST status to the portal's errors.
func writeStatus(st wsf.Status) error {
	if st.Code == wsf.OK {
		return nil
	}
	var walk func(s wsf.Status) error
	walk = func(s wsf.Status) error {
		switch string(s.Code) {
		case SlotFull:
			return ErrSlotFull
		case "DoesNotExist":
			return ErrNotFound
		}
		for _, sub := range s.Sub {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(st); err != nil {
		return err
	}
	return &wsc.ServiceStatusError{Status: st}
}
