package wsp

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Registrar keeps a WSP's service metadata at the Discovery Service
// current (IDWSF2 §4.3): one SvcMD per service type, registered when the
// DS has none for it, replaced when what the DS holds differs, left alone
// otherwise. It never deletes a SvcMD: that would end every citizen's
// association with the service (their consent), which is the operator's
// decision, not a restart's.
type Registrar struct {
	// Client invokes as the WSP itself: ClientTLS:X509 with its metadata
	// key.
	Client *client.Client
	// DS is the Discovery Service's endpoint, offering ClientTLS:X509.
	DS *wsf.EPR
	// Want is the WSP's SvcMDs, without svcMDID, one service type each.
	Want []*disco.SvcMD
}

// Registration is what a Sync found and did, by service type.
type Registration struct {
	IDs        map[string]string
	Registered []string
	Replaced   []string
	Unchanged  []string
	// Stale are the DS's SvcMDs of this WSP for no service type it
	// serves now.
	Stale []string
}

// Sync brings the DS's SvcMDs of this WSP in line with Want.
func (r *Registrar) Sync(ctx context.Context) (*Registration, error) {
	have, err := r.query(ctx)
	if err != nil {
		return nil, err
	}
	out := &Registration{IDs: map[string]string{}}
	byType := map[string]*disco.SvcMD{}
	for _, m := range have {
		t := soleType(m)
		if t == "" || byType[t] != nil {
			out.Stale = append(out.Stale, m.ID)
			continue
		}
		byType[t] = m
	}
	var register, replace []*disco.SvcMD
	wanted := map[string]bool{}
	for _, w := range r.Want {
		t := soleType(w)
		if t == "" {
			return nil, fmt.Errorf("wsp: a SvcMD to register must hold exactly one service type")
		}
		wanted[t] = true
		old := byType[t]
		switch {
		case old == nil:
			register = append(register, w)
		case same(old, w):
			out.IDs[t] = old.ID
			out.Unchanged = append(out.Unchanged, t)
		default:
			c := *w
			c.ID = old.ID
			replace = append(replace, &c)
			out.IDs[t] = old.ID
			out.Replaced = append(out.Replaced, t)
		}
	}
	for t, m := range byType {
		if !wanted[t] {
			out.Stale = append(out.Stale, m.ID)
		}
	}
	slices.Sort(out.Stale)
	if len(replace) > 0 {
		res, err := r.call(ctx, "SvcMDReplace", &disco.SvcMDReplace{SvcMDs: replace})
		if err != nil {
			return nil, err
		}
		resp, err := disco.DecodeSvcMDReplaceResponse(res.Payload)
		if err != nil {
			return nil, err
		}
		if resp.Status.Code != disco.OK {
			return nil, fmt.Errorf("wsp: the DS refused SvcMDReplace: %s", statusText(resp.Status))
		}
	}
	if len(register) > 0 {
		res, err := r.call(ctx, "SvcMDRegister", &disco.SvcMDRegister{SvcMDs: register})
		if err != nil {
			return nil, err
		}
		resp, err := disco.DecodeSvcMDRegisterResponse(res.Payload)
		if err != nil {
			return nil, err
		}
		if resp.Status.Code != disco.OK || len(resp.SvcMDIDs) != len(register) {
			return nil, fmt.Errorf("wsp: the DS refused SvcMDRegister: %s", statusText(resp.Status))
		}
		for i, m := range register {
			t := soleType(m)
			out.IDs[t] = resp.SvcMDIDs[i]
			out.Registered = append(out.Registered, t)
		}
	}
	return out, nil
}

func (r *Registrar) query(ctx context.Context) ([]*disco.SvcMD, error) {
	res, err := r.call(ctx, "SvcMDQuery", &disco.SvcMDQuery{})
	if err != nil {
		return nil, err
	}
	resp, err := disco.DecodeSvcMDQueryResponse(res.Payload)
	if err != nil {
		return nil, err
	}
	if resp.Status.Code != disco.OK {
		return nil, fmt.Errorf("wsp: the DS refused SvcMDQuery: %s", statusText(resp.Status))
	}
	return resp.SvcMDs, nil
}

func (r *Registrar) call(ctx context.Context, op string, payload interface{ Element() *etree.Element }) (*client.Result, error) {
	res, err := r.Client.Call(ctx, &client.Call{EPR: r.DS, Action: disco.Action(op), Payload: payload.Element()})
	if err != nil {
		return nil, fmt.Errorf("wsp: %s at the DS: %w", op, err)
	}
	return res, nil
}

// soleType returns the SvcMD's service type when it has exactly one.
func soleType(m *disco.SvcMD) string {
	var types []string
	for _, sc := range m.ServiceContexts {
		types = append(types, sc.ServiceTypes...)
	}
	if len(types) != 1 {
		return ""
	}
	return types[0]
}

// same compares two SvcMDs apart from their svcMDID.
func same(a, b *disco.SvcMD) bool {
	x, y := *a, *b
	x.ID, y.ID = "", ""
	bx, err1 := xmlsec.Serialize(x.Element())
	by, err2 := xmlsec.Serialize(y.Element())
	return err1 == nil && err2 == nil && bytes.Equal(bx, by)
}

// Associate is the WSP's half of enrolling a patient (ARCHITECTURE
// "Enrolment of a link"): once the IdP has accepted the institution's
// ManageNameID NewID (its local identifier, with the card present), the
// WSP associates the principal with its services at the DS
// (SvcMDAssociationAdd, IDWSF2 §4.3), carrying the consent the card's
// presence gives (sb:Consent urn:liberty:consent:obtained). dsEPR is the
// DS's EPR with the DS token of that card login, bound to the WSP's key;
// ids are its SvcMDs, the registration's by default.
func (r *Registrar) Associate(ctx context.Context, dsEPR *wsf.EPR, ids ...string) error {
	if len(ids) == 0 {
		return fmt.Errorf("wsp: no SvcMD to associate")
	}
	res, err := r.Client.Call(ctx, &client.Call{EPR: dsEPR, Action: disco.Action("SvcMDAssociationAdd"),
		Payload: (&disco.SvcMDAssociationAdd{SvcMDIDs: ids}).Element(),
		Header:  wsf.Header{Consent: &wsf.Consent{URI: wsf.ConsentObtained}}})
	if err != nil {
		return fmt.Errorf("wsp: SvcMDAssociationAdd at the DS: %w", err)
	}
	resp, err := disco.DecodeSvcMDAssociationAddResponse(res.Payload)
	if err != nil {
		return err
	}
	if resp.Status.Code != disco.OK {
		return fmt.Errorf("wsp: the DS refused SvcMDAssociationAdd: %s", statusText(resp.Status))
	}
	return nil
}
