package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// DSCases returns the Discovery Service cases (IDWSF2.md §10 rows F16-F18,
// and F11 for a token of another principal): the suite plays the WSPs, the
// WSC and the IdP of a DSTarget. Run them with WSFCases(RoleDS), which
// cover F1-F6 and F11 on disco:Query.
func DSCases() []Case {
	cs := slices.Concat(dsQueryCases(), dsTokenCases(), dsSvcMDCases(), dsAssociationCases())
	for i := range cs {
		cs[i].Role = RoleDS
	}
	return cs
}

// dsRun is a Discovery case's body: it gets its own fixture, deleted
// after it.
type dsRun func(ctx context.Context, e *Env, f *fixture) Outcome

func dsCase(id, clause, row string, positive bool, summary string, run dsRun) Case {
	return Case{ID: id, Clause: clause, Row: row, Positive: positive, Summary: summary,
		Run: func(ctx context.Context, e *Env) Outcome {
			if e.DS == nil {
				return broken("no Discovery Service target configured")
			}
			if e.WSC == nil {
				e.WSC = e.DS.WSCForWSF()
			}
			f := e.fixture()
			defer f.cleanup(context.WithoutCancel(ctx))
			return run(ctx, e, f)
		}}
}

// setupFailed judges an error of a case's step: a fault, a refusing
// status or an unacceptable answer of the target is the target's failure,
// anything else the suite's.
func setupFailed(step string, err error) Outcome {
	if isFault(err) || isStatus(err) || isAnswer(err) {
		return failed("%s: the target refused or answered unacceptably: %v", step, err)
	}
	return broken("%s: %v", step, err)
}

// svcSpec is one SvcMD a case registers: at WSP w (an index of DS.WSPs,
// -1 for NoKeyWSP), of type typ with options, associated with the
// principal or not.
type svcSpec struct {
	w     int
	typ   string
	opts  []string
	assoc bool
}

// setup registers and associates the specs' SvcMDs and returns their IDs
// and the SvcMDs as sent.
func (f *fixture) setup(ctx context.Context, p DSPrincipal, specs ...svcSpec) ([]string, []*disco.SvcMD, error) {
	var ids []string
	var mds []*disco.SvcMD
	for _, s := range specs {
		w := f.e.DS.wsp(s.w)
		m := f.e.newSvcMD(w, s.typ, s.opts...)
		id, err := f.add(ctx, w, m)
		if err != nil {
			return nil, nil, fmt.Errorf("%s registers: %w", w.EntityID, err)
		}
		if s.assoc {
			if err := f.e.associate(ctx, w, p, id); err != nil {
				return nil, nil, fmt.Errorf("%s associates %s: %w", w.EntityID, id, err)
			}
		}
		ids, mds = append(ids, id), append(mds, m)
	}
	return ids, mds, nil
}

func (t *DSTarget) wsp(i int) Party {
	if i < 0 {
		return *t.NoKeyWSP
	}
	return t.WSPs[i]
}

// wantEPRs judges a Query that must return exactly one EPR per provider
// listed, each of the service type typ.
func wantEPRs(r *disco.QueryResponse, err error, typ string, providers ...string) Outcome {
	if err != nil {
		if isFault(err) {
			return failed("the Query was refused: %v", err)
		}
		return broken("%v", err)
	}
	if r.Status.Code != disco.OK {
		return failed("lu:Status %s, want OK with %d EPR(s)", r.Status.Code, len(providers))
	}
	var got []string
	for _, epr := range r.EPRs {
		if epr.Metadata == nil || epr.Metadata.ServiceType != typ {
			return failed("an EPR of another service type than the one asked for (%s): %s", typ, describeEPRs(r.EPRs))
		}
		got = append(got, epr.Metadata.ProviderID)
	}
	slices.Sort(got)
	want := slices.Clone(providers)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return failed("EPRs of %v, want %v", got, want)
	}
	return passed("lu:Status OK with the EPR(s) of %v", got)
}

// wantNoEPR judges a Query that must return no EPR: NoResults, OK with
// none (IDWSF2 §4.4), or, when interaction may be, InteractionRequired or
// a RedirectRequest (IDWSF2 §2.6).
func wantNoEPR(r *disco.QueryResponse, err error, interaction bool) Outcome {
	if err != nil {
		switch {
		case !isFault(err):
			return broken("%v", err)
		case interaction && (strings.Contains(err.Error(), string(wsf.InteractionRequired)) || strings.Contains(err.Error(), "redirect")):
			return passed("no EPR: %v", err)
		}
		return failed("a SOAP fault where IDWSF2 §4.4 wants a QueryResponse (NoResults, or OK without EPR): %v", err)
	}
	if len(r.EPRs) > 0 {
		return failed("lu:Status %s with EPR(s) %s, want none", r.Status.Code, describeEPRs(r.EPRs))
	}
	if r.Status.Code != disco.NoResults && r.Status.Code != disco.OK {
		return failed("lu:Status %s, want NoResults (or OK without EPR)", r.Status.Code)
	}
	return passed("no EPR, lu:Status %s", r.Status.Code)
}

func describeEPRs(eprs []*wsf.EPR) string {
	var out []string
	for _, epr := range eprs {
		if epr.Metadata == nil {
			out = append(out, epr.Address)
			continue
		}
		out = append(out, epr.Metadata.ProviderID+" "+epr.Metadata.ServiceType)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func dsQueryCases() []Case {
	const row = "IDWSF2-F16"
	return []Case{
		dsCase("IDWSF2-Disco-4.1/query-by-type", "IDWSF2 §4.1 ServiceType", row, true,
			"Of two associated services of two types, a Query for one type returns that one's EPR.",
			func(ctx context.Context, e *Env, f *fixture) Outcome {
				a, b := e.svcType(), e.svcType()
				if _, _, err := f.setup(ctx, e.DS.Principal, svcSpec{w: 0, typ: a, assoc: true}, svcSpec{w: 1, typ: b, assoc: true}); err != nil {
					return setupFailed("setup", err)
				}
				r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{a}})
				return wantEPRs(r, err, a, e.DS.WSPs[0].EntityID)
			}),
		dsCase("IDWSF2-Disco-4.1/query-type-unmatched", "IDWSF2 §4.1 ServiceType; §4.4 NoResults", row, false,
			"A Query for a service type no associated service offers returns no EPR.",
			func(ctx context.Context, e *Env, f *fixture) Outcome {
				if _, _, err := f.setup(ctx, e.DS.Principal, svcSpec{w: 0, typ: e.svcType(), assoc: true}); err != nil {
					return setupFailed("setup", err)
				}
				r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{e.svcType()}})
				return wantNoEPR(r, err, false)
			}),
		dsCase("IDWSF2-Disco-4.1/query-by-provider", "IDWSF2 §4.1 ProviderID", row, true,
			"Of one service type at two providers, a Query naming one ProviderID returns that provider's EPR only.",
			func(ctx context.Context, e *Env, f *fixture) Outcome {
				t := e.svcType()
				if _, _, err := f.setup(ctx, e.DS.Principal, svcSpec{w: 0, typ: t, assoc: true}, svcSpec{w: 1, typ: t, assoc: true}); err != nil {
					return setupFailed("setup", err)
				}
				r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{t}, ProviderIDs: []string{e.DS.WSPs[1].EntityID}})
				return wantEPRs(r, err, t, e.DS.WSPs[1].EntityID)
			}),
		dsCase("IDWSF2-Disco-4.1/query-provider-unmatched", "IDWSF2 §4.1 ProviderID", row, false,
			"A Query for a service type at a provider that does not offer it returns no EPR.",
			func(ctx context.Context, e *Env, f *fixture) Outcome {
				t := e.svcType()
				if _, _, err := f.setup(ctx, e.DS.Principal, svcSpec{w: 0, typ: t, assoc: true}); err != nil {
					return setupFailed("setup", err)
				}
				r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{t}, ProviderIDs: []string{e.DS.WSPs[1].EntityID}})
				return wantNoEPR(r, err, false)
			}),
		dsCase("IDWSF2-Disco-4.1/query-by-options", "IDWSF2 §4.1 Options", row, true,
			"Of one service type at two providers with different options, a Query asking for one option returns the provider that has it.",
			func(ctx context.Context, e *Env, f *fixture) Outcome {
				t := e.svcType()
				if _, _, err := f.setup(ctx, e.DS.Principal, svcSpec{w: 0, typ: t, opts: []string{optionA}, assoc: true},
					svcSpec{w: 1, typ: t, opts: []string{optionB}, assoc: true}); err != nil {
					return setupFailed("setup", err)
				}
				r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{t}, Options: []disco.Options{{optionA}}})
				return wantEPRs(r, err, t, e.DS.WSPs[0].EntityID)
			}),
		dsCase("IDWSF2-Disco-4.1/query-options-unmatched", "IDWSF2 §4.1 Options", row, false,
			"A Query asking for an option no service of the type has returns no EPR.",
			func(ctx context.Context, e *Env, f *fixture) Outcome {
				t := e.svcType()
				if _, _, err := f.setup(ctx, e.DS.Principal, svcSpec{w: 0, typ: t, opts: []string{optionA}, assoc: true}); err != nil {
					return setupFailed("setup", err)
				}
				r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{t}, Options: []disco.Options{{optionB}}})
				return wantNoEPR(r, err, false)
			}),
		resultsCase(disco.ResultsOnlyOne, 1), resultsCase(disco.ResultsBest, 1), resultsCase(disco.ResultsAll, 2),
		dsCase("IDWSF2-Disco-4.1/association-required", "IDWSF2 §4.1 (results limited to associated services), §4.3", row, false,
			"A service registered but not associated with the principal is not returned (NoResults, or InteractionRequired to get consent).",
			func(ctx context.Context, e *Env, f *fixture) Outcome {
				t := e.svcType()
				if _, _, err := f.setup(ctx, e.DS.Principal, svcSpec{w: 0, typ: t}); err != nil {
					return setupFailed("setup", err)
				}
				r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{t}})
				if out := wantNoEPR(r, err, true); out.Verdict != Pass {
					out.Reason = "without an association: " + out.Reason
					return out
				}
				return passed("no EPR without an association; %s", describeAnswer(r, err))
			}),
	}
}

// Options of the options cases.
const (
	optionA = nsConformance + ":option:a"
	optionB = nsConformance + ":option:b"
)

func describeAnswer(r *disco.QueryResponse, err error) string {
	if err != nil {
		return err.Error()
	}
	return "lu:Status " + string(r.Status.Code)
}

func resultsCase(rt disco.ResultsType, want int) Case {
	return dsCase("IDWSF2-Disco-4.1/resultstype-"+string(rt), "IDWSF2 §4.1 resultsType", "IDWSF2-F16", true,
		fmt.Sprintf("Of one service type at two providers, resultsType %q returns %d EPR(s).", rt, want),
		func(ctx context.Context, e *Env, f *fixture) Outcome {
			t := e.svcType()
			if _, _, err := f.setup(ctx, e.DS.Principal, svcSpec{w: 0, typ: t, assoc: true}, svcSpec{w: 1, typ: t, assoc: true}); err != nil {
				return setupFailed("setup", err)
			}
			r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{t}, ResultsType: rt})
			switch {
			case err != nil && isFault(err):
				return failed("the Query was refused: %v", err)
			case err != nil:
				return broken("%v", err)
			case r.Status.Code != disco.OK || len(r.EPRs) != want:
				return failed("lu:Status %s with %d EPR(s) %s, want OK with %d", r.Status.Code, len(r.EPRs), describeEPRs(r.EPRs), want)
			}
			return passed("OK with %d EPR(s) %s", want, describeEPRs(r.EPRs))
		})
}

func dsTokenCases() []Case {
	const row = "IDWSF2-F16"
	return []Case{
		dsCase("IDWSF2-Disco-4.2/token-audience-subject", "IDWSF2 §4.2 (token per WSP), §3.6, §3.4 items 5 and 9", row, true,
			"Each EPR's token, read as its WSP with that WSP's key, is signed by the DS, has the WSP as its audience, names the principal as the WSP knows it and is bound to the WSC's key.",
			runTokenPerWSP),
		dsCase("IDWSF2-Disco-4.2/token-unreadable-by-other-wsp", "IDWSF2 §4.2, §3.6 (subject encrypted for the WSP)", row, false,
			"A WSP cannot read the subject of the token minted for another WSP.", runTokenNotForOther),
		dsCase("IDWSF2-Disco-4.2/no-token-without-encryption-key", "IDWSF2 §3.6; ARCHITECTURE \"Tokens from the DS\"", row, false,
			"A WSP whose metadata has no encryption key gets no EPR with a token: the subject could not be kept from others.", runNoKeyWSP),
		dsCase("IDWSF2-Sec-3.4/other-principals-token", "IDWSF2 §3.4 item 7 (confirmation), §4.1", "IDWSF2-F11", false,
			"The WSC presenting a token of another principal that is bound to another WSC is refused, and gets none of that principal's services.",
			runOtherPrincipal),
	}
}

// twoProviders registers one service type at WSPs 0 and 1, associated,
// and queries it: the EPRs by provider.
func twoProviders(ctx context.Context, e *Env, f *fixture) (map[string]*wsf.EPR, []*disco.SvcMD, Outcome) {
	t := e.svcType()
	_, mds, err := f.setup(ctx, e.DS.Principal, svcSpec{w: 0, typ: t, assoc: true}, svcSpec{w: 1, typ: t, assoc: true})
	if err != nil {
		return nil, nil, setupFailed("setup", err)
	}
	r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{t}})
	if out := wantEPRs(r, err, t, e.DS.WSPs[0].EntityID, e.DS.WSPs[1].EntityID); out.Verdict != Pass {
		return nil, nil, out
	}
	by := map[string]*wsf.EPR{}
	for _, epr := range r.EPRs {
		by[epr.Metadata.ProviderID] = epr
	}
	return by, mds, Outcome{}
}

func runTokenPerWSP(ctx context.Context, e *Env, f *fixture) Outcome {
	by, mds, out := twoProviders(ctx, e, f)
	if out.Verdict != "" {
		return out
	}
	var seen []string
	for i, w := range e.DS.WSPs[:2] {
		epr := by[w.EntityID]
		if epr.Address != mds[i].ServiceContexts[0].EndpointContexts[0].Addresses[0] {
			return failed("the EPR of %s has address %s, not the one registered", w.EntityID, epr.Address)
		}
		tok, err := e.readToken(ctx, epr, w.EntityID, w)
		if err != nil {
			return failed("the token of the EPR of %s does not verify as that WSP reads it (signature by the DS, audience %s, validity, subject): %v", w.EntityID, w.EntityID, err)
		}
		n := tok.Subject
		if n.SPNameQualifier != "" && n.SPNameQualifier != w.EntityID {
			return failed("the token for %s names the principal as %s knows it (SPNameQualifier)", w.EntityID, n.SPNameQualifier)
		}
		if want := e.DS.Principal.Subjects[w.EntityID]; want != "" && n.Value != want && n.SPProvidedID != want {
			return failed("the token for %s names %q (SPProvidedID %q), want the principal's identifier there, %q", w.EntityID, n.Value, n.SPProvidedID, want)
		}
		if !sameKey(e.DS.WSC.Cert.PublicKey, tok.HolderOfKeys(e.now(), 3*time.Minute)) {
			return failed("the token for %s is not holder-of-key bound to the WSC's key", w.EntityID)
		}
		seen = append(seen, fmt.Sprintf("%s: subject %q", w.EntityID, n.Value))
	}
	return passed("each token read by its WSP: %s", strings.Join(seen, "; "))
}

func runTokenNotForOther(ctx context.Context, e *Env, f *fixture) Outcome {
	by, _, out := twoProviders(ctx, e, f)
	if out.Verdict != "" {
		return out
	}
	w0, w1 := e.DS.WSPs[0], e.DS.WSPs[1]
	if _, err := e.readToken(ctx, by[w0.EntityID], w0.EntityID, w0); err != nil {
		return failed("the token of %s does not verify even for %s: %v", w0.EntityID, w0.EntityID, err)
	}
	tok, err := e.readToken(ctx, by[w0.EntityID], w0.EntityID, w1)
	if err == nil {
		return failed("%s read the subject of the token minted for %s: %q", w1.EntityID, w0.EntityID, tok.Subject.Value)
	}
	return passed("%s cannot read the token of %s: %v", w1.EntityID, w0.EntityID, err)
}

func runNoKeyWSP(ctx context.Context, e *Env, f *fixture) Outcome {
	if e.DS.NoKeyWSP == nil {
		return notApplicable("the target description names no WSP without an encryption key")
	}
	t := e.svcType()
	if _, _, err := f.setup(ctx, e.DS.Principal, svcSpec{w: -1, typ: t, assoc: true}, svcSpec{w: 0, typ: t, assoc: true}); err != nil {
		return setupFailed("setup", err)
	}
	r, err := e.query(ctx, e.DS.Principal, disco.RequestedService{ServiceTypes: []string{t}})
	if err != nil {
		return wantNoEPR(r, err, false)
	}
	for _, epr := range r.EPRs {
		if providerOf(epr) == e.DS.NoKeyWSP.EntityID {
			return failed("an EPR for %s, which has no encryption key (token present: %t)", providerOf(epr), eprToken(epr) != nil)
		}
	}
	return passed("no EPR for %s; lu:Status %s with %s", e.DS.NoKeyWSP.EntityID, r.Status.Code, describeEPRs(r.EPRs))
}

func runOtherPrincipal(ctx context.Context, e *Env, f *fixture) Outcome {
	t := e.svcType()
	other := e.DS.Other
	if _, _, err := f.setup(ctx, other, svcSpec{w: 0, typ: t, assoc: true}); err != nil {
		return setupFailed("setup", err)
	}
	// Control: the other principal's own WSC token gets the service, so
	// the refusal below is the confirmation's doing.
	if r, err := e.query(ctx, other, disco.RequestedService{ServiceTypes: []string{t}}); err != nil || len(r.EPRs) != 1 {
		return broken("control: the principal's service is not found with a token bound to the WSC: %s", describeAnswer(r, err))
	}
	tok, err := e.token(tokenSpec{audience: e.DS.EntityID, subject: e.DS.nameID(other), holder: e.DS.OtherWSC.Cert})
	if err != nil {
		return broken("%v", err)
	}
	c, err := e.dsClient(e.DS.WSC)
	if err != nil {
		return broken("%v", err)
	}
	pl, err := e.callWith(ctx, c, e.dsEPR(tok), disco.Action("Query"),
		(&disco.Query{RequestedServices: []disco.RequestedService{{ServiceTypes: []string{t}}}}).Element(), wsf.Header{})
	switch {
	case isFault(err):
		return passed("refused: %v", err)
	case err != nil:
		return broken("%v", err)
	}
	r, err := disco.DecodeQueryResponse(pl)
	switch {
	case err != nil:
		return failed("the answer is no QueryResponse: %v", err)
	case len(r.EPRs) > 0:
		return failed("the DS gave %s of another principal to a WSC whose key the token is not bound to", describeEPRs(r.EPRs))
	case r.Status.Code == disco.OK:
		return failed("lu:Status OK to a token bound to another WSC")
	}
	return passed("refused with lu:Status %s", r.Status.Code)
}
