package conformance

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
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

func negativeCases() []Case {
	return []Case{
		negative("SAML2-Bind-3.4.4.1/redirect-unsigned", "SAML Bindings §3.4.4.1; SAML Metadata §2.4.3 WantAuthnRequestsSigned", rowRedirect,
			"An unsigned AuthnRequest from an SP whose metadata says AuthnRequestsSigned is refused.",
			func(ctx context.Context, e *Env) Outcome {
				return refuseRedirect(ctx, e, redirectOpts{unsigned: true}, nil)
			}),
		negative("SAML2-Bind-3.4.4.1/redirect-bad-signature", "SAML Bindings §3.4.4.1", rowRedirect,
			"An AuthnRequest whose query signature does not verify is refused.",
			func(ctx context.Context, e *Env) Outcome {
				return refuseRedirect(ctx, e, redirectOpts{tamper: true}, nil)
			}),
		negative("SAML2-Bind-3.4.4.1/redirect-sha1-signature", "SAML Bindings §3.4.4.1; SAML2.md §14 (weak algorithms disabled)", rowRedirect,
			"An AuthnRequest signed with rsa-sha1 is refused unless the IdP was configured to accept SHA-1.", runSHA1),
		negative("SAML2-Core-3.2.1/replayed-request", "SAML Core §3.2.1 (ID uniqueness); SAML2.md §2 (replay cache)", rowRedirect,
			"The same signed AuthnRequest sent twice is answered with Success at most once.", runReplay),
		negative("SAML2-Core-3.2.1/stale-issueinstant", "SAML Core §3.2.1 IssueInstant; SAML2.md §2 (clock skew)", rowRedirect,
			"An AuthnRequest issued an hour ago is refused.",
			func(ctx context.Context, e *Env) Outcome {
				return refuseRedirect(ctx, e, redirectOpts{}, func(r *samlp.AuthnRequest) { r.IssueInstant = e.now().Add(-time.Hour).UTC() })
			}),
		negative("SAML2-Prof-4.1.4.1/acs-not-in-metadata", "SAML Profiles §4.1.4.1; SAML Core §3.4.1", rowPOST,
			"An AssertionConsumerServiceURL not in our metadata gets nothing sent to it.",
			func(ctx context.Context, e *Env) Outcome { return runBadACS(ctx, e, "https://attacker.invalid/acs") }),
		negative("SAML2-Prof-4.1.4.1/acs-javascript", "SAML Profiles §4.1.4.1; SAML Core §3.4.1", rowPOST,
			"A javascript: AssertionConsumerServiceURL gets nothing sent to it.",
			func(ctx context.Context, e *Env) Outcome { return runBadACS(ctx, e, "javascript:alert(1)") }),
		negative("SAML2-Prof-4.1.4.1/unknown-issuer", "SAML Profiles §4.1.4.1; SAML2.md §3.1 check 1", rowRedirect,
			"An AuthnRequest from an SP the IdP does not know is refused without an assertion.",
			func(ctx context.Context, e *Env) Outcome {
				return refuseRedirect(ctx, e, redirectOpts{}, func(r *samlp.AuthnRequest) {
					r.Issuer = &saml.Issuer{Value: "https://unknown-sp.invalid/" + e.newID()}
				})
			}),
		negative("SAML2-Bind-3.4.4.1/deflate-bomb", "SAML Bindings §3.4.4.1; SAML2.md §4.1 (inflate cap)", rowRedirect,
			"A SAMLRequest that inflates to 64 MiB is refused without an assertion and in bounded time.", runBomb),
		negative("SAML2-Bind-3.5.4/oversized-post", "SAML Bindings §3.5.4", rowPOST,
			"An 8 MiB HTTP-POST to the SSO endpoint is refused without an assertion.", runOversizedPOST),
		negative("SAML2-Core-3.2.2.2/version-mismatch", "SAML Core §3.2.2.2 VersionMismatch; §4.1.2", rowRedirect,
			"An AuthnRequest with Version 1.1 is answered with a VersionMismatch status.", runVersion),
		negative("SAML2-Core-3.4.1/ispassive-nopassive", "SAML Core §3.4.1 IsPassive; §3.2.2.2 NoPassive", rowRedirect,
			"IsPassive without a session is answered with Responder/NoPassive.",
			func(ctx context.Context, e *Env) Outcome {
				return statusRedirect(ctx, e, samlp.StatusNoPassive, func(r *samlp.AuthnRequest) { r.IsPassive = true })
			}),
		negative("SAML2-Core-3.4.1.1/invalid-nameid-policy", "SAML Core §3.4.1.1; §3.2.2.2 InvalidNameIDPolicy", rowRedirect,
			"A NameIDPolicy Format the IdP does not support is answered with Requester/InvalidNameIDPolicy.",
			func(ctx context.Context, e *Env) Outcome {
				return statusRedirect(ctx, e, samlp.StatusInvalidNameIDPolicy, func(r *samlp.AuthnRequest) {
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

// refusal judges a negative exchange: no Success response may come back.
// An error page and a Response with an error status are both refusals.
func refusal(x *exchange) Outcome {
	if x.Response == nil {
		if x.Landing.Form != nil {
			return failed("the IdP answered with a form posting %v to %s", formKeys(x.Landing.Form), x.Landing.Form.Action)
		}
		return passed("refused with an error page (HTTP %d)", x.Landing.Status)
	}
	top, second, err := x.status()
	if err != nil {
		return outcomeOf(err)
	}
	if top == samlp.StatusSuccess {
		return failed("the IdP answered Success: it accepted a request it must refuse")
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
	x, err := send(ctx, e, o, mutate)
	if err != nil {
		return outcomeOf(err)
	}
	return refusal(x)
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
	if x.Response != nil {
		top, _, err := x.status()
		if err == nil && top == samlp.StatusSuccess {
			return failed("the IdP issued a Success Response for a request naming an unregistered ACS")
		}
	}
	return passed("nothing sent to %s; the IdP answered with %s", acs, x.describe())
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
	start := time.Now()
	x, err := send(ctx, e, redirectOpts{rawQuery: q}, nil)
	if err != nil {
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
	b, err := e.Browser()
	if err != nil {
		return broken("%v", err)
	}
	body := url.Values{"SAMLRequest": {strings.Repeat("A", oversize)}}
	land, err := b.Post(ctx, dest, body, "oversized AuthnRequest (HTTP-POST)", "(8 MiB of 'A')")
	if err != nil {
		return passed("the IdP refused or closed the connection: %v", err)
	}
	x, err := readExchange(nil, land)
	if err != nil {
		return outcomeOf(err)
	}
	return refusal(x)
}

func runVersion(ctx context.Context, e *Env) Outcome {
	x, err := send(ctx, e, redirectOpts{version: "1.1"}, nil)
	if err != nil {
		return outcomeOf(err)
	}
	if x.Response == nil {
		return failed("the IdP answered with %s; SAML Core §3.2.2.2 wants a Response with status VersionMismatch", x.describe())
	}
	top, second, err := x.status()
	if err != nil {
		return outcomeOf(err)
	}
	if top != samlp.StatusVersionMismatch && second != samlp.StatusRequestVersionTooLow {
		return failed("status %s %s, want VersionMismatch (or RequestVersionTooLow)", top, second)
	}
	return passed("status %s %s", top, second)
}

// statusRedirect sends a mutated request and wants an error Response with
// the second-level status want.
func statusRedirect(ctx context.Context, e *Env, want string, mutate func(*samlp.AuthnRequest)) Outcome {
	x, err := send(ctx, e, redirectOpts{}, mutate)
	if err != nil {
		return outcomeOf(err)
	}
	if x.Response == nil {
		return failed("the IdP answered with %s; SAML Core wants a Response with status %s", x.describe(), want)
	}
	top, second, err := x.status()
	if err != nil {
		return outcomeOf(err)
	}
	if second != want {
		return failed("status %s %s, want second-level %s", top, second, want)
	}
	if x.Landing.Form.Action != e.SP.ACS {
		return failed("the error Response went to %s, not our ACS", x.Landing.Form.Action)
	}
	return passed("status %s %s", top, second)
}
