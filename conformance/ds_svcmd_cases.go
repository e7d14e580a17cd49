package conformance

import (
	"context"
	"slices"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

func dsSvcMDCases() []Case {
	const row = "IDWSF2-F17"
	return []Case{
		dsCase("IDWSF2-Disco-4.3/svcmd-register-query", "IDWSF2 §4.3 SvcMDRegister, SvcMDQuery", row, true,
			"A WSP registers an SvcMD as itself (ClientTLS:X509), gets one SvcMDID, and reads it back by ID and among all of its own.",
			runRegisterQuery),
		dsCase("IDWSF2-Disco-4.3/svcmd-replace", "IDWSF2 §4.3 SvcMDReplace", row, true,
			"A WSP replaces its SvcMD; reading it back shows the new content.", runReplace),
		dsCase("IDWSF2-Disco-4.3/svcmd-delete", "IDWSF2 §4.3 SvcMDDelete", row, true,
			"A WSP deletes its SvcMD; reading it back finds nothing.", runDelete),
		dsCase("IDWSF2-Disco-4.3/svcmd-other-provider-query", "IDWSF2 §4.3 (a provider only sees its own SvcMD)", row, false,
			"Another WSP asking for a WSP's SvcMD by its ID gets nothing of it.", runOtherQuery),
		dsCase("IDWSF2-Disco-4.3/svcmd-other-provider-replace", "IDWSF2 §4.3 (a provider only edits its own SvcMD)", row, false,
			"Another WSP replacing a WSP's SvcMD is refused; the owner reads it unchanged.", runOtherReplace),
		dsCase("IDWSF2-Disco-4.3/svcmd-other-provider-delete", "IDWSF2 §4.3 (a provider only edits its own SvcMD)", row, false,
			"Another WSP deleting a WSP's SvcMD is refused; the owner still reads it.", runOtherDelete),
		dsCase("IDWSF2-Disco-4.3/svcmd-register-for-other-provider", "IDWSF2 §4.3 (ProviderID = the authenticated sender)", row, false,
			"A WSP registering an SvcMD whose ProviderID is another WSP's is refused.", runRegisterForOther),
	}
}

// readBack returns the owner's SvcMD id, nil when the DS no longer has it.
func (e *Env) readBack(ctx context.Context, owner Party, id string) (*disco.SvcMD, error) {
	r, err := e.svcMDQuery(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	for _, m := range r.SvcMDs {
		if m.ID == id {
			return m, nil
		}
	}
	if r.Status.Code != disco.OK && r.Status.Code != disco.NotFound && r.Status.Code != disco.NoResults {
		return nil, errStatusOf("SvcMDQuery", r.Status.Code)
	}
	return nil, nil
}

// errStatus is an operation answered with a status other than OK: the
// target's answer, like a fault.
type errStatus string

func (e errStatus) Error() string { return string(e) }

func errStatusOf(op string, c wsf.Code) error {
	return errStatus(op + " answered lu:Status " + string(c))
}

func runRegisterQuery(ctx context.Context, e *Env, f *fixture) Outcome {
	w := e.DS.WSPs[0]
	m := e.newSvcMD(w, e.svcType())
	id, err := f.add(ctx, w, m)
	if err != nil {
		return setupFailed("SvcMDRegister", err)
	}
	got, err := e.readBack(ctx, w, id)
	switch {
	case err != nil:
		return setupFailed("SvcMDQuery by ID", err)
	case got == nil:
		return failed("SvcMDQuery for %s, just registered, returns nothing", id)
	case got.ProviderID != w.EntityID || !slices.Equal(got.ServiceContexts[0].ServiceTypes, m.ServiceContexts[0].ServiceTypes):
		return failed("SvcMDQuery returns %s of %s, not what was registered", id, got.ProviderID)
	}
	all, err := e.svcMDQuery(ctx, w)
	if err != nil {
		return setupFailed("SvcMDQuery for all", err)
	}
	var ids []string
	for _, s := range all.SvcMDs {
		if s.ProviderID != w.EntityID {
			return failed("SvcMDQuery for all of %s's SvcMDs returns %s's %s", w.EntityID, s.ProviderID, s.ID)
		}
		ids = append(ids, s.ID)
	}
	if !slices.Contains(ids, id) {
		return failed("SvcMDQuery for all of %s's SvcMDs lacks %s", w.EntityID, id)
	}
	return passed("registered %s, read back by ID and among the %d SvcMD(s) of %s", id, len(ids), w.EntityID)
}

func runReplace(ctx context.Context, e *Env, f *fixture) Outcome {
	w := e.DS.WSPs[0]
	st := e.svcType()
	m := e.newSvcMD(w, st)
	id, err := f.add(ctx, w, m)
	if err != nil {
		return setupFailed("SvcMDRegister", err)
	}
	// The same service type at a new endpoint: a DS may refuse a
	// replacement that adds a type (an association, the citizen's consent,
	// covers the types the SvcMD had), so the case moves the endpoint.
	m2 := e.newSvcMD(w, st)
	m2.ID = id
	code, err := e.statusOf(ctx, w, nil, "SvcMDReplace", &disco.SvcMDReplace{SvcMDs: []*disco.SvcMD{m2}}, wsf.Header{})
	switch {
	case err != nil:
		return setupFailed("SvcMDReplace", err)
	case code != disco.OK:
		return failed("SvcMDReplace of its own SvcMD answered %s", code)
	}
	got, err := e.readBack(ctx, w, id)
	switch {
	case err != nil:
		return setupFailed("SvcMDQuery", err)
	case got == nil:
		return failed("the replaced SvcMD %s is gone", id)
	case len(got.ServiceContexts) == 0 || len(got.ServiceContexts[0].EndpointContexts) == 0 ||
		!slices.Equal(got.ServiceContexts[0].EndpointContexts[0].Addresses, m2.ServiceContexts[0].EndpointContexts[0].Addresses):
		return failed("the SvcMD read back after SvcMDReplace is not the replacement (endpoint %v)", m2.ServiceContexts[0].EndpointContexts[0].Addresses)
	}
	return passed("replaced %s; read back with the new endpoint", id)
}

func runDelete(ctx context.Context, e *Env, f *fixture) Outcome {
	w := e.DS.WSPs[0]
	id, err := f.add(ctx, w, e.newSvcMD(w, e.svcType()))
	if err != nil {
		return setupFailed("SvcMDRegister", err)
	}
	code, err := e.statusOf(ctx, w, nil, "SvcMDDelete", &disco.SvcMDDelete{SvcMDIDs: []string{id}}, wsf.Header{})
	switch {
	case err != nil:
		return setupFailed("SvcMDDelete", err)
	case code != disco.OK:
		return failed("SvcMDDelete of its own SvcMD answered %s", code)
	}
	got, err := e.readBack(ctx, w, id)
	switch {
	case err != nil && !isFault(err):
		return broken("%v", err)
	case got != nil:
		return failed("SvcMD %s is still there after SvcMDDelete", id)
	}
	return passed("deleted %s; reading it back finds nothing", id)
}

// owned registers an SvcMD of WSP 0 for another WSP to try to touch.
func owned(ctx context.Context, e *Env, f *fixture) (string, *disco.SvcMD, error) {
	m := e.newSvcMD(e.DS.WSPs[0], e.svcType())
	id, err := f.add(ctx, e.DS.WSPs[0], m)
	return id, m, err
}

// unchanged judges the owner's read-back after another WSP's attempt.
func unchanged(ctx context.Context, e *Env, id string, m *disco.SvcMD, attempt string) Outcome {
	got, err := e.readBack(ctx, e.DS.WSPs[0], id)
	switch {
	case err != nil:
		return setupFailed("the owner's SvcMDQuery", err)
	case got == nil:
		return failed("after %s by %s, the owner's SvcMD %s is gone", attempt, e.DS.WSPs[1].EntityID, id)
	case !slices.Equal(got.ServiceContexts[0].ServiceTypes, m.ServiceContexts[0].ServiceTypes) || got.ProviderID != m.ProviderID:
		return failed("after %s by %s, the owner's SvcMD %s changed", attempt, e.DS.WSPs[1].EntityID, id)
	}
	return Outcome{}
}

func refusedOrFault(code wsf.Code, err error, what string) Outcome {
	switch {
	case isFault(err):
		return Outcome{}
	case err != nil:
		return broken("%v", err)
	case code == disco.OK:
		return failed("%s answered OK", what)
	}
	return Outcome{}
}

func runOtherQuery(ctx context.Context, e *Env, f *fixture) Outcome {
	id, _, err := owned(ctx, e, f)
	if err != nil {
		return setupFailed("SvcMDRegister", err)
	}
	r, err := e.svcMDQuery(ctx, e.DS.WSPs[1], id)
	switch {
	case isFault(err):
		return passed("refused: %v", err)
	case err != nil:
		return broken("%v", err)
	}
	for _, m := range r.SvcMDs {
		if m.ID == id || m.ProviderID != e.DS.WSPs[1].EntityID {
			return failed("%s read %s's SvcMD %s", e.DS.WSPs[1].EntityID, m.ProviderID, m.ID)
		}
	}
	return passed("nothing of it returned, lu:Status %s", r.Status.Code)
}

func runOtherReplace(ctx context.Context, e *Env, f *fixture) Outcome {
	id, m, err := owned(ctx, e, f)
	if err != nil {
		return setupFailed("SvcMDRegister", err)
	}
	w1 := e.DS.WSPs[1]
	var last Outcome
	// Both ways a rogue WSP could try: the SvcMD kept in the owner's
	// name, and taken over in its own.
	for _, provider := range []string{m.ProviderID, w1.EntityID} {
		m2 := e.newSvcMD(Party{EntityID: provider}, e.svcType())
		m2.ID = id
		code, err := e.statusOf(ctx, w1, nil, "SvcMDReplace", &disco.SvcMDReplace{SvcMDs: []*disco.SvcMD{m2}}, wsf.Header{})
		if out := refusedOrFault(code, err, "SvcMDReplace of another provider's SvcMD (ProviderID "+provider+")"); out.Verdict != "" {
			return out
		}
		if out := unchanged(ctx, e, id, m, "SvcMDReplace"); out.Verdict != "" {
			return out
		}
		last = passed("refused (%s), and the owner reads its SvcMD unchanged", describeRefusal(code, err))
	}
	return last
}

func runOtherDelete(ctx context.Context, e *Env, f *fixture) Outcome {
	id, m, err := owned(ctx, e, f)
	if err != nil {
		return setupFailed("SvcMDRegister", err)
	}
	code, err := e.statusOf(ctx, e.DS.WSPs[1], nil, "SvcMDDelete", &disco.SvcMDDelete{SvcMDIDs: []string{id}}, wsf.Header{})
	if out := refusedOrFault(code, err, "SvcMDDelete of another provider's SvcMD"); out.Verdict != "" {
		return out
	}
	if out := unchanged(ctx, e, id, m, "SvcMDDelete"); out.Verdict != "" {
		return out
	}
	return passed("refused (%s), and the owner still reads its SvcMD", describeRefusal(code, err))
}

func runRegisterForOther(ctx context.Context, e *Env, f *fixture) Outcome {
	w0, w1 := e.DS.WSPs[0], e.DS.WSPs[1]
	id, err := f.add(ctx, w1, e.newSvcMD(w0, e.svcType()))
	switch {
	case err == nil:
		f.owner[id] = w1
		return failed("%s registered SvcMD %s in the name of %s", w1.EntityID, id, w0.EntityID)
	case isFault(err) || isStatus(err):
		return passed("refused: %v", err)
	}
	return broken("%v", err)
}

func describeRefusal(code wsf.Code, err error) string {
	if err != nil {
		return err.Error()
	}
	return "lu:Status " + string(code)
}

func isStatus(err error) bool {
	_, ok := err.(errStatus)
	return ok
}

func dsAssociationCases() []Case {
	const row = "IDWSF2-F18"
	return []Case{
		dsCase("IDWSF2-Disco-4.3/association-add-query", "IDWSF2 §4.3 SvcMDAssociationAdd, SvcMDAssociationQuery", row, true,
			"A WSP associates its SvcMD with the principal (sb:Consent obtained); SvcMDAssociationQuery lists it and a Query returns its EPR.",
			func(ctx context.Context, e *Env, f *fixture) Outcome {
				t := e.svcType()
				ids, _, err := f.setup(ctx, e.DS.Principal, svcSpec{w: 0, typ: t, assoc: true})
				if err != nil {
					return setupFailed("SvcMDRegister, SvcMDAssociationAdd", err)
				}
				got, err := e.associations(ctx, e.DS.WSPs[0], e.DS.Principal, ids[0])
				switch {
				case err != nil:
					return setupFailed("SvcMDAssociationQuery", err)
				case !slices.Contains(got, ids[0]):
					return failed("SvcMDAssociationQuery does not list %s after SvcMDAssociationAdd: %v", ids[0], got)
				}
				r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{t}})
				if out := wantEPRs(r, err, t, e.DS.WSPs[0].EntityID); out.Verdict != Pass {
					return out
				}
				return passed("associated %s: listed by SvcMDAssociationQuery, its EPR returned by Query", ids[0])
			}),
		dsCase("IDWSF2-Disco-4.3/association-delete", "IDWSF2 §4.3 SvcMDAssociationDelete", row, true,
			"After SvcMDAssociationDelete the association is no longer listed and a Query no longer returns the service.",
			func(ctx context.Context, e *Env, f *fixture) Outcome {
				t := e.svcType()
				w, p := e.DS.WSPs[0], e.DS.Principal
				ids, _, err := f.setup(ctx, p, svcSpec{w: 0, typ: t, assoc: true})
				if err != nil {
					return setupFailed("SvcMDRegister, SvcMDAssociationAdd", err)
				}
				code, err := e.statusOf(ctx, w, &p, "SvcMDAssociationDelete", &disco.SvcMDAssociationDelete{SvcMDIDs: ids}, wsf.Header{})
				switch {
				case err != nil:
					return setupFailed("SvcMDAssociationDelete", err)
				case code != disco.OK:
					return failed("SvcMDAssociationDelete answered %s", code)
				}
				got, err := e.associations(ctx, w, p, ids[0])
				switch {
				case err != nil:
					return setupFailed("SvcMDAssociationQuery", err)
				case slices.Contains(got, ids[0]):
					return failed("SvcMDAssociationQuery still lists %s after SvcMDAssociationDelete", ids[0])
				}
				r, err := e.query(ctx, p, disco.RequestedService{ServiceTypes: []string{t}})
				if out := wantNoEPR(r, err, true); out.Verdict != Pass {
					out.Reason = "after SvcMDAssociationDelete: " + out.Reason
					return out
				}
				return passed("association with %s withdrawn: not listed, no EPR", ids[0])
			}),
		dsCase("IDWSF2-Disco-4.3/association-add-without-consent", "IDWSF2 §4.3; ARCHITECTURE \"Consent\" (sb:Consent obtained)", row, false,
			"SvcMDAssociationAdd without the principal's consent (no sb:Consent) is refused and associates nothing.",
			func(ctx context.Context, e *Env, f *fixture) Outcome {
				w, p := e.DS.WSPs[0], e.DS.Principal
				ids, _, err := f.setup(ctx, p, svcSpec{w: 0, typ: e.svcType()})
				if err != nil {
					return setupFailed("SvcMDRegister", err)
				}
				code, err := e.statusOf(ctx, w, &p, "SvcMDAssociationAdd", &disco.SvcMDAssociationAdd{SvcMDIDs: ids}, wsf.Header{})
				if out := refusedOrFault(code, err, "SvcMDAssociationAdd without sb:Consent"); out.Verdict != "" {
					return out
				}
				got, err := e.associations(ctx, w, p, ids[0])
				switch {
				case err != nil:
					return setupFailed("SvcMDAssociationQuery", err)
				case slices.Contains(got, ids[0]):
					return failed("refused, yet SvcMDAssociationQuery lists %s", ids[0])
				}
				return passed("refused (%s), nothing associated", describeRefusal(code, err))
			}),
	}
}
