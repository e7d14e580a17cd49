package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
)

// The matrix rows the WSC cases are judged by (IDWSF2.md §10, the client
// side of each feature).
const (
	rowWSCAddressing = "IDWSF2-WSC-F2"
	rowWSCTimestamp  = "IDWSF2-WSC-F4"
	rowWSCSignature  = "IDWSF2-WSC-F6"
	rowWSCToken      = "IDWSF2-WSC-F11"
	rowWSCDisco      = "IDWSF2-WSC-F16"
	rowWSCHeaders    = "IDWSF2-WSC-F14"
)

// WSCCases returns the cases of an ID-WSF WSC (RoleWSC): the suite plays
// its IdP, Discovery Service and WSP, and reads whether the WSC accepted
// the WSP's answer by the marker in its page. Each negative case first
// makes a conforming visit (the control), so that an absent marker
// proves a refusal and not a broken setup.
func WSCCases() []Case {
	cs := []Case{
		{ID: "IDWSF2-4.2/wsc-disco-query", Clause: "IDWSF2 §4.2, §2.2-2.4, §3.5", Row: rowWSCDisco, Positive: true,
			Summary: "With the DS's bootstrap EPR from the login, the WSC sends the DS a schema-valid disco:Query with sbf:Framework 2.0, sb:Sender, wsa:MessageID and Action, signed by its metadata key over the body, Timestamp, headers and the bootstrap token (ClientTLS:SAMLV2).",
			Run:     runWSCDiscoQuery},
		{ID: "IDWSF2-3.5/wsc-invokes-wsp", Clause: "IDWSF2 §3.5, §3.6, §2.2-2.4, §5", Row: rowWSCToken, Positive: true,
			Summary: "The WSC calls the WSP the DS named with a signed request carrying the token the DS gave for it, and shows the WSP's verified answer.",
			Run:     runWSCInvokes},
		wscRefuseCase("IDWSF2-2.4/wsc-wsp-tampered", "IDWSF2 §2.4 (signature verification); xmldsig §3.2", rowWSCSignature,
			"A WSP answer whose signed body was changed after signing is not shown.", "a WSP answer altered after signing",
			fixed(wscBehaviour{wsp: answerOpts{tamper: true}})),
		wscRefuseCase("IDWSF2-2.4/wsc-wsp-untrusted-key", "IDWSF2 §2.4 (keys from metadata only)", rowWSCSignature,
			"A WSP answer signed by a key the WSP's metadata does not list, its certificate in KeyInfo, is not shown.", "a WSP answer signed by a key not in the WSP's metadata",
			func(e *Env) (wscBehaviour, error) {
				key, cert, err := selfSigned("Renkei conformance impostor WSP", e.now(), e.Rand)
				return wscBehaviour{wsp: answerOpts{impostor: &SuitePeer{EntityID: e.WSCT.WSP.EntityID, Key: key, Cert: cert}}}, err
			}),
		wscRefuseCase("IDWSF2-2.3/wsc-wrong-relatesto", "IDWSF2 §2.3 (wsa:RelatesTo = the request's MessageID); WS-Addressing 1.0 §3", rowWSCAddressing,
			"A signed WSP answer whose wsa:RelatesTo names another message is not shown.", "a WSP answer relating to another message",
			func(e *Env) (wscBehaviour, error) {
				other, err := wsf.NewMessageID(e.Rand)
				return wscBehaviour{wsp: answerOpts{relatesTo: other}}, err
			}),
		wscRefuseCase("IDWSF2-2.4/wsc-stale-timestamp", "IDWSF2 §2.4 (wsu:Timestamp freshness); WSS 1.1 §10", rowWSCTimestamp,
			"A signed WSP answer whose wsu:Timestamp was created an hour ago is not shown.", "a WSP answer with an hour-old Timestamp",
			func(e *Env) (wscBehaviour, error) {
				return wscBehaviour{wsp: answerOpts{created: e.now().Add(-time.Hour)}}, nil
			}),
		wscRefuseCase("IDWSF2-2.4/wsc-ds-tampered", "IDWSF2 §2.4, §4.2", rowWSCSignature,
			"A disco:QueryResponse changed after the DS signed it is not used: the WSC neither calls the WSP it names nor shows an answer.", "a DS answer altered after signing",
			fixed(wscBehaviour{ds: answerOpts{tamper: true}})),
		{ID: "IDWSF2-2.6/wsc-endpoint-update", Clause: "IDWSF2 §2.6 (sb:EndpointUpdate, EndpointUpdated)", Row: rowWSCHeaders,
			Summary: "A WSP fault EndpointUpdated with an sb:EndpointUpdate to a new address makes the WSC send the request again to that address, and show its answer (optional feature: advisory).",
			Run:     runWSCEndpointUpdate},
		{ID: "IDWSF2-2.6/wsc-redirect-foreign-host", Clause: "IDWSF2 §2.6 (RedirectRequest: the WSC sends the user only to the host of the service it called)", Row: rowWSCHeaders,
			Summary: "A WSP fault whose RedirectRequest names another host than the WSP's is not followed: the browser is never sent there.",
			Run:     runWSCRedirectForeign},
		{ID: "IDWSF2-3.5/wsc-inappropriate-credentials", Clause: "IDWSF2 §3.5 (InappropriateCredentials: query the DS again, a SHOULD)", Level: LevelShould, Row: rowWSCHeaders,
			Summary: "A WSP fault InappropriateCredentials makes the WSC ask the DS again once for a fresh token and re-send (SHOULD: advisory).",
			Run:     runWSCInappropriate},
	}
	for i := range cs {
		cs[i].Role = RoleWSC
	}
	return cs
}

// wscOutcome turns an error of a WSC case into its verdict.
func wscOutcome(err error) Outcome { return spOutcome(err) }

func runWSCDiscoQuery(ctx context.Context, e *Env) Outcome {
	v, err := e.visit(ctx, wscBehaviour{}, "the page after login")
	if err != nil {
		return wscOutcome(err)
	}
	if len(v.Log.ds) == 0 {
		return failed("the WSC never called the DS its bootstrap EPR names (%s)", e.WSCT.DSAddress())
	}
	for _, r := range v.Log.ds {
		if r.Err != nil {
			return failed("the WSC's request to the DS did not verify: %v", r.Err)
		}
		if r.Action != "urn:liberty:disco:2006-08:Query" {
			return failed("the WSC sent the DS wsa:Action %q, not a disco:Query", r.Action)
		}
	}
	return passed("%d disco:Query verified: signed by the WSC's metadata key, its bootstrap token confirmed", len(v.Log.ds))
}

func runWSCInvokes(ctx context.Context, e *Env) Outcome {
	v, err := e.visit(ctx, wscBehaviour{}, "the page after login")
	if err != nil {
		return wscOutcome(err)
	}
	if o := checkWSPCalls(v); o != nil {
		return *o
	}
	if !v.Shown {
		return failed("the WSC did not show the marker of the WSP's conforming answer on %s (HTTP %d)", v.Page.URL, v.Page.Status)
	}
	return passed("%d WSP call(s) verified with the DS's token; the answer's marker shows on the page", len(v.Log.wsp))
}

// checkWSPCalls requires calls at the WSP, each verified and carrying a
// token the DS gave in this visit.
func checkWSPCalls(v *wscVisit) *Outcome {
	var o Outcome
	switch {
	case len(v.Log.wsp) == 0:
		o = failed("the WSC never called the WSP the DS named")
	default:
		for _, r := range v.Log.wsp {
			if r.Err != nil {
				o = failed("the WSC's request to the WSP did not verify: %v", r.Err)
				break
			}
			if !slices.Contains(v.Log.tokens, r.Token) {
				o = failed("the WSC's request to the WSP carried token %q, not one the DS gave (%v) (IDWSF2 §3.5)", r.Token, v.Log.tokens)
				break
			}
		}
	}
	if o.Verdict == "" {
		return nil
	}
	return &o
}

// fixed is a behaviour that needs nothing of the run.
func fixed(b wscBehaviour) func(*Env) (wscBehaviour, error) {
	return func(*Env) (wscBehaviour, error) { return b, nil }
}

// wscControl makes a conforming visit, and returns nil when the WSC shows
// its answer, else the verdict that ends a negative case.
func (e *Env) wscControl(ctx context.Context, what string) *Outcome {
	v, err := e.visit(ctx, wscBehaviour{}, "control: the page after a conforming exchange")
	if err != nil {
		o := wscOutcome(err)
		return &o
	}
	if o := checkWSPCalls(v); o != nil {
		return o
	}
	if !v.Shown {
		o := failed("control: the WSC did not show a conforming WSP answer, so not showing %s would prove nothing", what)
		return &o
	}
	return nil
}

// wscRefuseCase is a negative case: after the control, the WSC must not
// show the answer of a visit where the DS and WSP behave as b.
func wscRefuseCase(id, clause, row, summary, what string, mk func(e *Env) (wscBehaviour, error)) Case {
	return Case{ID: id, Clause: clause, Row: row, Summary: summary, Run: func(ctx context.Context, e *Env) Outcome {
		if o := e.wscControl(ctx, what); o != nil {
			return *o
		}
		b, err := mk(e)
		if err != nil {
			return broken("preparing %s: %v", what, err)
		}
		v, err := e.visit(ctx, b, what)
		if err != nil {
			return wscOutcome(err)
		}
		if v.Shown || v.TamperedShown {
			return failed("the WSC showed %s", what)
		}
		if b.ds.tamper {
			if len(v.Log.wsp) > 0 {
				return failed("the WSC called the WSP named in %s", what)
			}
			return passed("the WSC did not use %s: no WSP call, nothing shown", what)
		}
		if len(v.Log.wsp) == 0 {
			return broken("the WSC did not call the WSP, so %s was never sent", what)
		}
		return passed("the WSC did not show %s", what)
	}}
}

func runWSCEndpointUpdate(ctx context.Context, e *Env) Outcome {
	if o := e.wscControl(ctx, "an answer at the updated endpoint"); o != nil {
		return *o
	}
	f := wsf.FaultFor(wsf.ErrEndpointUpdated)
	moved := e.WSCT.BaseURL() + PathSuiteWSPMoved
	v, err := e.visit(ctx, wscBehaviour{firstWSP: f, moveTo: moved}, "the page after an EndpointUpdate")
	if err != nil {
		return wscOutcome(err)
	}
	var at int
	for _, r := range v.Log.wsp {
		if r.Path == PathSuiteWSPMoved && r.Err == nil {
			at++
		}
	}
	switch {
	case at == 0:
		return advisory("the WSC did not re-send to the EndpointUpdate's address %s", moved)
	case !v.Shown:
		return advisory("the WSC re-sent to %s but did not show the answer", moved)
	}
	return passed("the WSC re-sent to %s and showed the answer", moved)
}

func runWSCInappropriate(ctx context.Context, e *Env) Outcome {
	if o := e.wscControl(ctx, "an answer after InappropriateCredentials"); o != nil {
		return *o
	}
	v, err := e.visit(ctx, wscBehaviour{firstWSP: wsf.FaultFor(wsf.ErrInappropriateCreds)}, "the page after InappropriateCredentials")
	if err != nil {
		return wscOutcome(err)
	}
	if len(v.Log.ds) < 2 {
		return advisory("after InappropriateCredentials the WSC did not ask the DS again (%d disco:Query)", len(v.Log.ds))
	}
	if !v.Shown {
		return advisory("the WSC asked the DS again (%d disco:Query) but did not show the re-sent call's answer", len(v.Log.ds))
	}
	return passed("the WSC asked the DS again (%s) and re-sent: the answer shows", fmt.Sprint(len(v.Log.ds), " disco:Query"))
}

// foreignRedirect is where the redirect case's RedirectRequest points:
// a host that is not the suite WSP's (and resolves nowhere: .invalid).
const foreignRedirect = "https://redirect.conformance.invalid/consent"

func runWSCRedirectForeign(ctx context.Context, e *Env) Outcome {
	if o := e.wscControl(ctx, "an answer after a foreign RedirectRequest"); o != nil {
		return *o
	}
	f := wsf.FaultFor(&wsf.Error{Code: wsf.InteractionRequired, RedirectURL: foreignRedirect})
	host := "redirect.conformance.invalid"
	v, err := e.visit(ctx, wscBehaviour{firstWSP: f}, "the page after a RedirectRequest to another host")
	if err != nil {
		if strings.Contains(err.Error(), host) {
			return failed("the WSC sent the browser to %s, the host of a RedirectRequest that is not the WSP's: %v", foreignRedirect, err)
		}
		return wscOutcome(err)
	}
	for _, u := range v.Page.Visited {
		if strings.Contains(u, host) {
			return failed("the WSC sent the browser to %s, the host of a RedirectRequest that is not the WSP's", u)
		}
	}
	if len(v.Log.wsp) == 0 {
		return broken("the WSC did not call the WSP, so the RedirectRequest was never sent")
	}
	return passed("the WSC did not follow the RedirectRequest to %s", foreignRedirect)
}
