package conformance

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// negative wraps a case that sends a broken request and judges the refusal.
func negative(id, clause, row, summary string, run func(ctx context.Context, e *Env) Outcome) Case {
	return Case{ID: id, Clause: clause, Row: row, Positive: false, Summary: summary, Run: run}
}

// at sets the level of a case.
func at(l Level, c Case) Case {
	c.Level = l
	return c
}

func negativeCases() []Case {
	return []Case{
		negative("SAML2-Bind-3.4.4.1/redirect-unsigned", "SAML Metadata §2.4.3 WantAuthnRequestsSigned, §2.4.4 AuthnRequestsSigned; SAML Bindings §3.4.4.1", rowRedirect,
			"An unsigned AuthnRequest from an SP whose metadata says AuthnRequestsSigned is refused.", runUnsigned),
		negative("SAML2-Bind-3.4.4.1/redirect-bad-signature", "SAML Bindings §3.4.4.1", rowRedirect,
			"An AuthnRequest whose query signature does not verify is refused.",
			func(ctx context.Context, e *Env) Outcome {
				return refuseRedirect(ctx, e, redirectOpts{tamper: true}, nil)
			}),
		at(LevelPractice, negative("SAML2-Bind-3.4.4.1/redirect-sha1-signature", "SAML Bindings §3.4.4.1 (SigAlg); NIST SP 800-131A (SHA-1 signatures disallowed)", rowRedirect,
			"An AuthnRequest signed with rsa-sha1 is refused unless the IdP was configured to accept SHA-1.", runSHA1)),
		at(LevelPractice, negative("SAML2-Core-3.2.1/replayed-request", "SAML Core §1.3.4, §3.2.1 (ID uniqueness, the sender's duty); SAML Security Considerations (message replay)", rowRedirect,
			"The same signed AuthnRequest sent twice is answered with Success at most once.", runReplay)),
		at(LevelPractice, negative("SAML2-Core-3.2.1/stale-issueinstant", "SAML Core §3.2.1 IssueInstant (no window is set); SAML Security Considerations (message replay)", rowRedirect,
			"An AuthnRequest issued an hour ago is refused.",
			func(ctx context.Context, e *Env) Outcome {
				return refuseRedirect(ctx, e, redirectOpts{}, func(r *samlp.AuthnRequest) { r.IssueInstant = e.now().Add(-time.Hour).UTC() })
			})),
		negative("SAML2-Prof-4.1.4.1/acs-not-in-metadata", "SAML Profiles §4.1.4.1; SAML Core §3.4.1", rowPOST,
			"An AssertionConsumerServiceURL not in our metadata gets nothing sent to it.",
			func(ctx context.Context, e *Env) Outcome { return runBadACS(ctx, e, "https://attacker.invalid/acs") }),
		negative("SAML2-Prof-4.1.4.1/acs-javascript", "SAML Profiles §4.1.4.1; SAML Core §3.4.1", rowPOST,
			"A javascript: AssertionConsumerServiceURL gets nothing sent to it.",
			func(ctx context.Context, e *Env) Outcome { return runBadACS(ctx, e, "javascript:alert(1)") }),
		negative("SAML2-Prof-4.1.4.1/unknown-issuer", "SAML Profiles §4.1.4.1 (the IdP MUST establish that the ACS is the requester's)", rowRedirect,
			"An AuthnRequest from an SP the IdP does not know is refused without an assertion.",
			func(ctx context.Context, e *Env) Outcome {
				return refuseRedirect(ctx, e, redirectOpts{}, func(r *samlp.AuthnRequest) {
					r.Issuer = &saml.Issuer{Value: "https://unknown-sp.invalid/" + e.newID()}
				})
			}),
		at(LevelPractice, negative("SAML2-Bind-3.4.4.1/deflate-bomb", "SAML Bindings §3.4.4.1 (DEFLATE encoding); SAML Security Considerations (denial of service)", rowRedirect,
			"A SAMLRequest that inflates to 64 MiB is refused without an assertion and in bounded time.", runBomb)),
		at(LevelPractice, negative("SAML2-Bind-3.5.4/oversized-post", "SAML Bindings §3.5.4; SAML Security Considerations (denial of service)", rowPOST,
			"An 8 MiB HTTP-POST to the SSO endpoint is refused without an assertion.", runOversizedPOST)),
		negative("SAML2-Core-3.2.2.2/version-mismatch", "SAML Core §4.1.2 (a responder MUST reject a request of another major version), §3.2.2.2 VersionMismatch; SAML Bindings §3.4.6", rowRedirect,
			"An AuthnRequest with Version 1.1 is refused: a Response with VersionMismatch, another error status, or an error page without a SAML response.", runVersion),
		negative("SAML2-Core-3.4.1/ispassive-nopassive", "SAML Core §3.4.1 IsPassive; §3.2.2.2 NoPassive", rowRedirect,
			"IsPassive without a session is answered with Responder/NoPassive.",
			func(ctx context.Context, e *Env) Outcome {
				return statusRedirect(ctx, e, samlp.StatusNoPassive, LevelMust, func(r *samlp.AuthnRequest) { r.IsPassive = true })
			}),
		negative("SAML2-Core-3.4.1.1/invalid-nameid-policy", "SAML Core §3.4.1.1 (an unsupported Format fails the request); §3.2.2.2 InvalidNameIDPolicy", rowRedirect,
			"A NameIDPolicy Format the IdP does not support gets no Success (MUST); the error Response names InvalidNameIDPolicy (SHOULD).",
			func(ctx context.Context, e *Env) Outcome {
				return statusRedirect(ctx, e, samlp.StatusInvalidNameIDPolicy, LevelShould, func(r *samlp.AuthnRequest) {
					r.NameIDPolicy = &samlp.NameIDPolicy{Format: "urn:renkei:conformance:nameid-format:unsupported", AllowCreate: false}
				})
			}),
	}
}

// send builds a conforming request, lets mutate break it, and sends it.
func send(ctx context.Context, e *Env, o redirectOpts, mutate func(*samlp.AuthnRequest)) (*exchange, error) {
	dest, err := e.ssoEndpoint(md.BindingHTTPRedirect)
	if err != nil {
		return nil, errTarget("%v", err)
	}
	req := e.authnRequest(dest)
	if mutate != nil {
		mutate(req)
	}
	return e.sendRedirect(ctx, req, o)
}

// idpControl gives a negative case the evidence it needs before a page
// without a SAML message can count as a refusal: a conforming request of
// our SP got a Success Response in this run. Without it such a page says
// nothing (the IdP may not know our SP, the login may not complete, the
// endpoint may be down), and the case is an error of the run. The first
// negative case of a run tries it once; the others reuse its result.
func (e *Env) idpControl(ctx context.Context) *Outcome {
	s := e.run
	if s != nil {
		s.mu.Lock()
		c := s.control
		s.mu.Unlock()
		if c == "ok" {
			return nil
		}
		if c != "" {
			o := broken("%s", c)
			return &o
		}
	}
	why := e.tryControl(ctx)
	if s != nil {
		s.mu.Lock()
		s.control = why
		s.mu.Unlock()
	}
	if why == "ok" {
		return nil
	}
	o := broken("%s", why)
	return &o
}

// tryControl sends a conforming AuthnRequest and returns "ok" when a
// Success Response came back, else why the refusal cases cannot be judged.
func (e *Env) tryControl(ctx context.Context) string {
	const pre = "a conforming AuthnRequest of the suite's SP got no Success Response, so a refusal cannot be told from an IdP that cannot answer this SP at all"
	x, err := send(ctx, e, redirectOpts{}, nil)
	if err != nil {
		return fmt.Sprintf("%s: %v", pre, err)
	}
	if x.Response == nil {
		return fmt.Sprintf("%s: HTTP %d at %s; does the target know the suite's SP (-print-sp-metadata), and did the login complete?", pre, x.Landing.Status, x.Landing.URL)
	}
	top, second, err := x.status()
	if err != nil {
		return fmt.Sprintf("%s: %v", pre, err)
	}
	if top != samlp.StatusSuccess {
		return fmt.Sprintf("%s: status %s %s", pre, top, second)
	}
	e.run.markLoggedIn()
	return "ok"
}

// unreached returns the run error of a landing without a SAML message
// that is no refusal: a server error (HTTP 5xx), or a page that still
// asks for a login, where the request never reached the IdP's judgement.
func unreached(land *Landing) *Outcome {
	if land.Status >= 500 {
		o := broken("the IdP answered HTTP %d, a server error and not a refusal: the case cannot judge the request", land.Status)
		return &o
	}
	base, err := url.Parse(land.URL)
	if err != nil {
		base = &url.URL{}
	}
	for _, f := range parseForms(base, land.Body) {
		if hasPassword(f) {
			o := broken("the visit stopped at a login form (%s): the login did not complete, so the request never reached the IdP's judgement", f.Action)
			return &o
		}
	}
	return nil
}

// refusal judges a negative exchange: no Success response may come back.
// An error page and a Response with an error status are both refusals;
// a server error or a page still asking for a login is an error of the
// run.
func refusal(x *exchange) Outcome {
	if x.Response == nil {
		if o := unreached(x.Landing); o != nil {
			return *o
		}
		if x.Landing.Form != nil {
			return failed("the IdP answered with a form posting %v to %s", formKeys(x.Landing.Form), x.Landing.Form.Action)
		}
		return passed("refused with an error page without a SAML response (HTTP %d; SAML Bindings §3.4.6 wants no HTTP error code for a SAML error)", x.Landing.Status)
	}
	top, second, err := x.status()
	if err != nil {
		return outcomeOf(err)
	}
	if top == samlp.StatusSuccess {
		return failed("the IdP answered Success: it accepted the request")
	}
	return passed("refused with status %s %s", top, second)
}

func formKeys(f *Form) []string {
	var ks []string
	for k := range f.Fields {
		ks = append(ks, k)
	}
	return ks
}

func refuseRedirect(ctx context.Context, e *Env, o redirectOpts, mutate func(*samlp.AuthnRequest)) Outcome {
	if o.unsigned && !e.Target.IDP.WantAuthnRequestsSigned && !e.SP.Descriptor().SPSSO[0].AuthnRequestsSigned {
		return notApplicable("neither the IdP nor our SP metadata requires signed requests")
	}
	if c := e.idpControl(ctx); c != nil {
		return *c
	}
	x, err := send(ctx, e, o, mutate)
	if err != nil {
		return outcomeOf(err)
	}
	return refusal(x)
}

// runUnsigned sends an unsigned request: accepting it is a MUST failure
// when the IdP's own metadata says WantAuthnRequestsSigned, and a
// practice otherwise (AuthnRequestsSigned in the SP's metadata says what
// the SP does, not what the IdP must refuse).
func runUnsigned(ctx context.Context, e *Env) Outcome {
	o := refuseRedirect(ctx, e, redirectOpts{unsigned: true}, nil)
	if o.Verdict == Fail && !e.Target.IDP.WantAuthnRequestsSigned {
		o.Level = LevelPractice
		o.Reason += " (the IdP's metadata does not say WantAuthnRequestsSigned; our SP's says AuthnRequestsSigned)"
	}
	return o
}

func runSHA1(ctx context.Context, e *Env) Outcome {
	if e.Options.TargetAllowsSHA1 {
		return notApplicable("the target is configured to accept SHA-1 from this SP")
	}
	return refuseRedirect(ctx, e, redirectOpts{sigAlg: xmlsec.RSASHA1}, nil)
}

// runReplay sends one signed request twice in one browser session: the
// second, an exact replay, must not yield a second Success.
func runReplay(ctx context.Context, e *Env) Outcome {
	dest, err := e.ssoEndpoint(md.BindingHTTPRedirect)
	if err != nil {
		return failed("%v", err)
	}
	req := e.authnRequest(dest)
	q, err := e.encodeRedirect(req, redirectOpts{})
	if err != nil {
		return broken("%v", err)
	}
	b, err := e.Browser()
	if err != nil {
		return broken("%v", err)
	}
	first, err := e.sendRedirectWith(ctx, b, req, redirectOpts{rawQuery: q})
	if err != nil {
		return outcomeOf(err)
	}
	if _, _, err := e.success(first); err != nil {
		return broken("the first, fresh request did not succeed, so a replay cannot be judged: %v", err)
	}
	second, err := e.sendRedirectWith(ctx, b, req, redirectOpts{rawQuery: q})
	if err != nil {
		return outcomeOf(err)
	}
	return refusal(second)
}

// runBadACS asks for the response at acs, which is not in our metadata:
// whatever the IdP answers, nothing may go to acs (SAML Profiles §4.1.4.1).
func runBadACS(ctx context.Context, e *Env, acs string) Outcome {
	if c := e.idpControl(ctx); c != nil {
		return *c
	}
	x, err := send(ctx, e, redirectOpts{}, func(r *samlp.AuthnRequest) { r.AssertionConsumerServiceURL = acs })
	if err != nil {
		return outcomeOf(err)
	}
	if x.Landing.Form != nil && x.Landing.Form.Action == acs {
		return failed("the IdP posted %v to the unregistered ACS %s", formKeys(x.Landing.Form), acs)
	}
	for _, v := range x.Landing.Visited {
		if strings.HasPrefix(v, acs) {
			return failed("the IdP redirected the browser to the unregistered ACS %s", acs)
		}
	}
	if x.Response != nil && x.Landing.Form != nil && x.Landing.Form.Action != e.SP.ACS {
		return failed("the IdP posted a Response to %s, neither the requested nor our registered ACS", x.Landing.Form.Action)
	}
	if x.Response == nil {
		if o := unreached(x.Landing); o != nil {
			return *o
		}
	}
	return passed("nothing sent to %s; the IdP answered with %s (a refusal, or a Response to our registered ACS)", acs, x.describe())
}

// bombSize is what the DEFLATE bomb inflates to.
const bombSize = 64 << 20

// runBomb sends a SAMLRequest of a few tens of KiB that inflates to 64 MiB.
func runBomb(ctx context.Context, e *Env) Outcome {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return broken("%v", err)
	}
	w.Write([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_b" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><x>`))
	chunk := bytes.Repeat([]byte("A"), 1<<16)
	for i := 0; i < bombSize/len(chunk); i++ {
		w.Write(chunk)
	}
	w.Close()
	q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if c := e.idpControl(ctx); c != nil {
		return *c
	}
	start := time.Now()
	x, err := send(ctx, e, redirectOpts{rawQuery: q}, nil)
	if err != nil {
		if isRunError(err) {
			return outcomeOf(err)
		}
		if ctx.Err() != nil {
			return failed("the IdP did not answer within the case's time limit: it may have inflated the bomb")
		}
		return passed("the IdP refused the connection or closed it: %v", err)
	}
	o := refusal(x)
	if o.Verdict == Pass {
		o.Reason += ", after " + time.Since(start).Round(time.Millisecond).String()
	}
	return o
}

// oversize is the body the oversized-POST case sends.
const oversize = 8 << 20

func runOversizedPOST(ctx context.Context, e *Env) Outcome {
	dest, err := e.ssoEndpoint(md.BindingHTTPPOST)
	if err != nil {
		return notApplicable("the IdP offers no HTTP-POST SingleSignOnService")
	}
	if c := e.idpControl(ctx); c != nil {
		return *c
	}
	b, err := e.Browser()
	if err != nil {
		return broken("%v", err)
	}
	body := url.Values{"SAMLRequest": {strings.Repeat("A", oversize)}}
	land, err := b.Post(ctx, dest, body, "oversized AuthnRequest (HTTP-POST)", "(8 MiB of 'A')")
	if err != nil && isRunError(err) {
		return outcomeOf(err)
	}
	if err != nil {
		return passed("the IdP refused or closed the connection: %v", err)
	}
	x, err := readExchange(nil, land)
	if err != nil {
		return outcomeOf(err)
	}
	return refusal(x)
}

// runVersion sends Version="1.1". Every refusal conforms: a Response with
// an error status at our ACS (VersionMismatch names the reason), or an
// error page without a SAML response, which is what an IdP that cannot
// read the request as SAML 2.0 can show (HTTP 200 or not; SAML Bindings
// §3.4.6). Success is the MUST failure (SAML Core §4.1.2).
func runVersion(ctx context.Context, e *Env) Outcome {
	if c := e.idpControl(ctx); c != nil {
		return *c
	}
	x, err := send(ctx, e, redirectOpts{version: "1.1"}, nil)
	if err != nil {
		return outcomeOf(err)
	}
	o := refusal(x)
	if o.Verdict != Pass || x.Response == nil {
		return o
	}
	if x.Landing.Form.Action != e.SP.ACS {
		return failed("the error Response went to %s, not our registered ACS %s", x.Landing.Form.Action, e.SP.ACS)
	}
	return o
}

// statusRedirect sends a mutated request and wants an error Response with
// the second-level status want: Success is a MUST failure, a page with no
// Response a failure at pageLevel, another second-level code a SHOULD.
func statusRedirect(ctx context.Context, e *Env, want string, pageLevel Level, mutate func(*samlp.AuthnRequest)) Outcome {
	if c := e.idpControl(ctx); c != nil {
		return *c
	}
	x, err := send(ctx, e, redirectOpts{}, mutate)
	if err != nil {
		return outcomeOf(err)
	}
	if x.Response == nil {
		if o := unreached(x.Landing); o != nil {
			return *o
		}
		if x.Landing.Form != nil {
			return failed("the IdP answered with a form posting %v to %s", formKeys(x.Landing.Form), x.Landing.Form.Action)
		}
		return failedAt(pageLevel, "the IdP answered with %s, not a Response with status %s (SAML Core §3.2.2.2)", x.describe(), want)
	}
	top, second, err := x.status()
	if err != nil {
		return outcomeOf(err)
	}
	switch {
	case top == samlp.StatusSuccess:
		return failed("the IdP answered Success: it accepted a request it must refuse")
	case x.Landing.Form.Action != e.SP.ACS:
		return failed("the error Response went to %s, not our ACS", x.Landing.Form.Action)
	case second != want:
		return failedAt(LevelShould, "status %s %s, want second-level %s (SAML Core §3.2.2.2)", top, second, want)
	}
	return passed("status %s %s", top, second)
}
