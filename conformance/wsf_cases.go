package conformance

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
)

// WSFCases returns the ID-WSF message cases (IDWSF2.md §10 rows F1-F6 and
// F11) for a WSP or a Discovery Service: the suite plays the WSC.
func WSFCases(role Role) []Case {
	cs := slices.Concat(wsfPositive(), wsfFraming(), wsfSecurity(), wsfTokens())
	for i := range cs {
		cs[i].Role = role
	}
	return cs
}

// wsfCase wraps run with the precondition every ID-WSF case has.
func wsfCase(id, clause, row string, positive bool, summary string, run func(ctx context.Context, e *Env) Outcome) Case {
	return Case{ID: id, Clause: clause, Row: row, Positive: positive, Summary: summary,
		Run: func(ctx context.Context, e *Env) Outcome {
			if e.WSF == nil || e.WSC == nil {
				return broken("no ID-WSF target or WSC configured")
			}
			return run(ctx, e)
		}}
}

// accepted sends a conforming request and verifies the answer as a WSC.
func accepted(ctx context.Context, e *Env) Outcome {
	a, err := e.sendWSF(ctx, wsfMsg{})
	if err != nil {
		return broken("%v", err)
	}
	if a.Status != 200 || a.Fault != nil {
		return failed("a conforming request was refused: HTTP %d, %s", a.Status, faultText(a.Fault))
	}
	if _, err := e.verifyWSF(ctx, a); err != nil {
		return failed("the response does not verify as IDWSF2 §2.3 wants (signature by the metadata key, Framework, Sender, Timestamp, RelatesTo): %v", err)
	}
	return passed("HTTP 200, response verified: signed by the target's metadata key, RelatesTo our MessageID")
}

func wsfPositive() []Case {
	return []Case{
		wsfCase("IDWSF2-SB-2.3/accepts-conforming-request", "IDWSF2 §2.2-2.3; SOAP 1.1", "IDWSF2-F1", true,
			"A conforming, signed ClientTLS:SAMLV2 request is served; the response carries sbf:Framework 2.0.", accepted),
		wsfCase("IDWSF2-SB-2.2/response-relates-to", "IDWSF2 §2.2 wsa:RelatesTo", "IDWSF2-F2", true,
			"The response's wsa:RelatesTo names the request's MessageID.", accepted),
		wsfCase("IDWSF2-SB-2.2/response-sender", "IDWSF2 §2.2 sb:Sender", "IDWSF2-F3", true,
			"The response's sb:Sender is the target's providerID.", accepted),
		wsfCase("IDWSF2-SB-2.4/response-signature", "IDWSF2 §2.4", "IDWSF2-F6", true,
			"The response is signed by the target's metadata key over Body, Timestamp and every header.", accepted),
		wsfCase("IDWSF2-Sec-3.4/accepts-valid-token", "IDWSF2 §3.4", "IDWSF2-F11", true,
			"A holder-of-key token from a trusted issuer, for the target, within its window, is accepted.", accepted),
	}
}

// refusedWith judges a negative answer: a SOAP fault (HTTP 500, IDWSF2
// §2.1) with lu:Status code, or any fault when code is empty.
func refusedWith(a *wsfAnswer, fc *wsf.FaultCode, code wsf.Code) Outcome {
	switch {
	case a.Fault == nil && a.Status == 200:
		return failed("the target accepted the message (HTTP 200)")
	case a.Fault == nil:
		return failed("HTTP %d without a SOAP fault; IDWSF2 §2.5 wants a fault with lu:Status %s", a.Status, codeOr(code))
	case a.Status != 500:
		return failed("a fault with HTTP %d; SOAP 1.1 over HTTP (IDWSF2 §2.1) wants 500", a.Status)
	case fc != nil && *fc == senderFault && !isSenderFault(a.Fault.Code):
		return failed("faultcode %s, want S:Client or a WS-Security 1.0 §12 wsse: code (the sender's fault)", a.Fault.Code.Local)
	case fc != nil && *fc != senderFault && a.Fault.Code != *fc:
		return failed("faultcode %s, want %s", a.Fault.Code.Local, fc.Local)
	case code != "" && a.Fault.StatusCode() != code:
		return failed("fault %s, want lu:Status %s", faultText(a.Fault), code)
	}
	return passed("refused with fault %s", faultText(a.Fault))
}

// senderFault stands for "S:Client or any wsse: faultcode": WS-Security 1.0
// §12 gives security failures their own faultcodes, all the sender's fault.
var senderFault = wsf.FaultCode{Local: "(sender)"}

func isSenderFault(c wsf.FaultCode) bool {
	return c == wsf.FaultClient || c.Space == wsf.NSWSSE
}

func codeOr(c wsf.Code) string {
	if c == "" {
		return "(any)"
	}
	return string(c)
}

func faultText(f *wsf.Fault) string {
	if f == nil {
		return "no fault"
	}
	return fmt.Sprintf("%s/%s (%s)", f.Code.Local, f.StatusCode(), f.String)
}

// negWSF sends m and wants a fault.
func negWSF(m wsfMsg, fc *wsf.FaultCode, code wsf.Code) func(ctx context.Context, e *Env) Outcome {
	return func(ctx context.Context, e *Env) Outcome {
		a, err := e.sendWSF(ctx, m)
		if err != nil {
			return broken("%v", err)
		}
		return refusedWith(a, fc, code)
	}
}

const nsConformance = "urn:renkei:conformance"

func wsfFraming() []Case {
	client := wsf.FaultClient
	return []Case{
		wsfCase("IDWSF2-SB-2.3/framework-missing", "IDWSF2 §2.2 sbf:Framework MUST; §2.3 step 2", "IDWSF2-F1", false,
			"A request without sbf:Framework is refused.",
			negWSF(wsfMsg{env: func(env *wsf.Envelope) { removeHeader(env, "Framework") }}, &client, "")),
		wsfCase("IDWSF2-SB-2.3/framework-version", "IDWSF2 §2.2-2.3 FrameworkVersionMismatch", "IDWSF2-F1", false,
			"A request with sbf:Framework version 1.1 gets FrameworkVersionMismatch.",
			negWSF(wsfMsg{header: func(h *wsf.Header) { h.Framework.Version = "1.1" }}, &client, wsf.FrameworkVersionMismatch)),
		wsfCase("SOAP11-4.2.3/mustunderstand-unknown", "SOAP 1.1 §4.2.3; IDWSF2 §2.3 step 1", "IDWSF2-F1", false,
			"An unknown header with S:mustUnderstand=\"1\" gets the S:MustUnderstand fault.",
			negWSF(wsfMsg{env: addUnknownHeader}, &wsf.FaultMustUnderstand, "")),
		wsfCase("IDWSF2-SB-2.1/oversized-body", "IDWSF2 §2.1; Renkei parse limits", "IDWSF2-F1", false,
			"A 16 MiB request is refused without being served.", runOversizedSOAP),
		wsfCase("IDWSF2-SB-2.2/messageid-missing", "IDWSF2 §2.2 wsa:MessageID MUST; §2.3 step 3", "IDWSF2-F2", false,
			"A request without wsa:MessageID gets IDStarMsgNotUnderstood.",
			negWSF(wsfMsg{env: func(env *wsf.Envelope) { removeHeader(env, "MessageID") }}, &client, "")),
		wsfCase("IDWSF2-SB-2.2/to-not-target", "IDWSF2 §2.2 wsa:To", "IDWSF2-F2", false,
			"A request whose wsa:To names another endpoint is refused.",
			negWSF(wsfMsg{header: func(h *wsf.Header) { h.To = "https://elsewhere.invalid/wsp" }}, &client, "")),
		wsfCase("IDWSF2-SB-2.2/sender-unknown", "IDWSF2 §2.2 sb:Sender; §2.3 step 4", "IDWSF2-F3", false,
			"A request from a providerID the target's metadata does not list gets ProviderIDNotValid.",
			negWSF(wsfMsg{header: func(h *wsf.Header) { h.Sender.ProviderID = "https://unknown-wsc.invalid/" }}, &client, wsf.ProviderIDNotValid)),
	}
}

func removeHeader(env *wsf.Envelope, local string) {
	for _, c := range env.Header.ChildElements() {
		if c.Tag == local {
			env.Header.RemoveChild(c)
		}
	}
}

func addUnknownHeader(env *wsf.Envelope) {
	el := env.Header.CreateElement("x:Unknown")
	el.CreateAttr("xmlns:x", nsConformance)
	el.CreateAttr("xmlns:cS", wsf.NSSOAP)
	el.CreateAttr("cS:mustUnderstand", "1")
}

// oversizeSOAP is the body of the oversized-request case.
const oversizeSOAP = 16 << 20

func runOversizedSOAP(ctx context.Context, e *Env) Outcome {
	body := []byte(`<S:Envelope xmlns:S="` + wsf.NSSOAP + `"><S:Header/><S:Body><x:Big xmlns:x="` + nsConformance + `">` +
		strings.Repeat("A", oversizeSOAP) + `</x:Big></S:Body></S:Envelope>`)
	a, err := e.postSOAP(ctx, body, "")
	if err != nil {
		return passed("the target refused or closed the connection: %v", err)
	}
	if a.Status == 200 {
		return failed("the target answered HTTP 200 to a 16 MiB request")
	}
	return passed("refused: HTTP %d, %s", a.Status, faultText(a.Fault))
}

func wsfSecurity() []Case {
	client, sender := wsf.FaultClient, senderFault
	return []Case{
		wsfCase("IDWSF2-SB-2.3/timestamp-stale", "IDWSF2 §2.3 step 5 StaleMsg", "IDWSF2-F4", false,
			"A request whose wsu:Timestamp was created an hour ago gets StaleMsg.",
			func(ctx context.Context, e *Env) Outcome {
				return negWSF(wsfMsg{created: e.now().Add(-time.Hour)}, &client, wsf.StaleMsg)(ctx, e)
			}),
		wsfCase("IDWSF2-SB-2.3/timestamp-future", "IDWSF2 §2.3 step 5 StaleMsg", "IDWSF2-F4", false,
			"A request whose wsu:Timestamp is an hour in the future gets StaleMsg.",
			func(ctx context.Context, e *Env) Outcome {
				return negWSF(wsfMsg{created: e.now().Add(time.Hour)}, &client, wsf.StaleMsg)(ctx, e)
			}),
		wsfCase("IDWSF2-SB-2.3/messageid-replayed", "IDWSF2 §2.3 step 6 DuplicateMsg", "IDWSF2-F5", false,
			"A second, different request reusing an accepted MessageID gets DuplicateMsg.", runReplayWSF),
		wsfCase("IDWSF2-SB-2.4/header-unsigned", "IDWSF2 §2.4 (every ID-WSF header covered)", "IDWSF2-F6", false,
			"A request with an ID-WSF header block the signature does not cover is refused.",
			negWSF(wsfMsg{after: addUnsignedConsent}, &sender, "")),
		wsfCase("IDWSF2-SB-2.4/body-tampered", "IDWSF2 §2.4; XML-DSig §3.2.1", "IDWSF2-F6", false,
			"A request whose Body changed after signing is refused.",
			negWSF(wsfMsg{after: tamperBody}, &sender, "")),
		wsfCase("IDWSF2-SB-2.4/body-wrapping", "IDWSF2 §2.4 anti-wrapping; XSW (Somorovsky et al. 2012)", "IDWSF2-F6", false,
			"The signed Body moved into a header and replaced by another one (signature wrapping) is refused.",
			negWSF(wsfMsg{after: wrapBody}, &sender, "")),
	}
}

// runReplayWSF sends a conforming request, then another with the same
// MessageID and a different Body: not a retransmission of the first (which a
// receiver may answer with its stored first response), a replay.
func runReplayWSF(ctx context.Context, e *Env) Outcome {
	first, err := e.sendWSF(ctx, wsfMsg{})
	if err != nil {
		return broken("%v", err)
	}
	if first.Status != 200 {
		return broken("the first, fresh request was refused (%s), so a replay cannot be judged", faultText(first.Fault))
	}
	client := wsf.FaultClient
	second, err := e.sendWSF(ctx, wsfMsg{header: func(h *wsf.Header) { h.MessageID = first.MessageID }, variant: 1})
	if err != nil {
		return broken("%v", err)
	}
	return refusedWith(second, &client, wsf.DuplicateMsg)
}

// editEnvelope parses secured bytes, lets f change the document and
// serializes it again.
func editEnvelope(b []byte, f func(env *wsf.Envelope) error) ([]byte, error) {
	env, err := wsf.ParseEnvelope(b, wsf.Limits{})
	if err != nil {
		return nil, err
	}
	if err := f(env); err != nil {
		return nil, err
	}
	return env.Doc.WriteToBytes()
}

func addUnsignedConsent(b []byte) ([]byte, error) {
	return editEnvelope(b, func(env *wsf.Envelope) error {
		c := env.Header.CreateElement("sb:Consent")
		c.CreateAttr("xmlns:sb", "urn:liberty:sb:2006-08")
		c.CreateAttr("uri", "urn:liberty:consent:obtained")
		return nil
	})
}

func tamperBody(b []byte) ([]byte, error) {
	return editEnvelope(b, func(env *wsf.Envelope) error { return alterText(env.Payload()) })
}

// alterText changes the first non-empty text of el's subtree, or else its
// first attribute value, by appending "0": the payload stays schema-valid
// for string content, so only the signature can catch the change.
func alterText(el *etree.Element) error {
	if el == nil {
		return fmt.Errorf("no payload to alter")
	}
	for _, c := range append([]*etree.Element{el}, el.FindElements(".//*")...) {
		if strings.TrimSpace(c.Text()) != "" {
			c.SetText(c.Text() + "0")
			return nil
		}
	}
	for _, c := range append([]*etree.Element{el}, el.FindElements(".//*")...) {
		for i, a := range c.Attr {
			if a.Space != "xmlns" && a.Key != "xmlns" {
				c.Attr[i].Value += "0"
				return nil
			}
		}
	}
	return fmt.Errorf("nothing in the payload to alter")
}

// wrapBody moves the signed Body into a header wrapper, keeping its ID,
// and gives the envelope a new, unsigned Body without one.
func wrapBody(b []byte) ([]byte, error) {
	return editEnvelope(b, func(env *wsf.Envelope) error {
		w := env.Header.CreateElement("x:Wrapper")
		w.CreateAttr("xmlns:x", nsConformance)
		w.AddChild(env.Body.Copy())
		for _, a := range slices.Clone(env.Body.Attr) {
			if a.Key == "Id" {
				env.Body.RemoveAttr(a.FullKey())
			}
		}
		return alterText(env.Payload())
	})
}

func wsfTokens() []Case {
	client := senderFault
	tok := func(f func(e *Env) tokenSpec) func(ctx context.Context, e *Env) Outcome {
		return func(ctx context.Context, e *Env) Outcome {
			s := f(e)
			return negWSF(wsfMsg{token: &s}, &client, "")(ctx, e)
		}
	}
	return []Case{
		wsfCase("IDWSF2-Sec-3.4/token-other-audience", "IDWSF2 §3.4 item 5", "IDWSF2-F11", false,
			"A token whose AudienceRestriction names another provider is refused.",
			tok(func(e *Env) tokenSpec { return tokenSpec{audience: "https://other-wsp.invalid/"} })),
		wsfCase("IDWSF2-Sec-3.4/token-expired", "IDWSF2 §3.4 item 6", "IDWSF2-F11", false,
			"A token whose NotOnOrAfter passed two hours ago is refused.",
			tok(func(e *Env) tokenSpec {
				return tokenSpec{notBefore: e.now().Add(-3 * time.Hour), notOnOrAfter: e.now().Add(-2 * time.Hour)}
			})),
		wsfCase("IDWSF2-Sec-3.4/token-untrusted-issuer", "IDWSF2 §3.4 items 3-4", "IDWSF2-F11", false,
			"A token signed by a key that is not the issuer's metadata key is refused.",
			func(ctx context.Context, e *Env) Outcome {
				k, c, err := throwawayKey(e.now())
				if err != nil {
					return broken("%v", err)
				}
				return negWSF(wsfMsg{token: &tokenSpec{signer: k, signerCert: c}}, &client, "")(ctx, e)
			}),
	}
}

// throwawayKey makes a key and self-signed certificate no metadata lists.
func throwawayKey(now time.Time) (*rsa.PrivateKey, *x509.Certificate, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "rogue issuer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	return k, c, err
}
