package server

import (
	"fmt"
	"slices"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// withID is hok with its own MessageID, so that one token serves several
// requests.
func withID(f *fixture, tok *etree.Element, n int, env func(*wsf.Envelope)) req {
	r := req{mech: wsf.ClientTLSSAMLV2, token: tok, env: env}
	r.header = func(h *wsf.Header) { h.MessageID = fmt.Sprintf("urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c%02d", n) }
	return r
}

// wantSchemaFault is wantFault for a schema refusal after earlier
// messages were served: nothing more stored, nothing more served.
func (f *fixture) wantSchemaFault(resp *Response) {
	f.t.Helper()
	stored, served := f.replay.Len(), f.calls.Load()
	if resp.Status != 500 || resp.Fault == nil || resp.Fault.Code != wsf.FaultClient || resp.Fault.StatusCode() != wsf.IDStarMsgNotUnderstood {
		f.t.Fatalf("want a schema refusal, got %d %v (cause %v)", resp.Status, resp.Fault, resp.Err)
	}
	if !isErr(resp.Err, xmlsec.ErrSchema) {
		f.t.Fatalf("refused for another cause: %v", resp.Err)
	}
	if f.replay.Len() != stored || f.calls.Load() != served {
		f.t.Fatalf("refused message was stored or served")
	}
}

// invalidReplyTo makes the envelope schema-invalid outside the token.
func invalidReplyTo(e *wsf.Envelope) {
	e.Header.SelectElement("wsa:ReplyTo").CreateAttr("notOnOrAfter", "2037-01-05T23:03:59Z")
}

// TestSeenTokenLeavesTheRestValidated: once a token's bytes passed the
// schemas they are not validated again, but every other part of each
// message still is.
func TestSeenTokenLeavesTheRestValidated(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	f.wantOK(f.receive(f.request(withID(f, tok, 1, nil)), k.WSC.Cert))
	if n := len(f.rcv.tokens.keys); n != 1 {
		t.Fatalf("ok/remembered: %d tokens remembered after a valid message, want 1", n)
	}
	f.wantOK(f.receive(f.request(withID(f, tok, 2, nil)), k.WSC.Cert))
	f.wantSchemaFault(f.receive(f.request(withID(f, tok, 3, invalidReplyTo)), k.WSC.Cert))
	f.wantSchemaFault(f.receive(f.request(withID(f, tok, 4, func(e *wsf.Envelope) {
		e.Payload().CreateElement("dstref:Unknown")
	})), k.WSC.Cert))
}

// TestInvalidTokenNeverRemembered: a token the schemas refuse is refused
// every time it comes, and the same token made valid is then accepted;
// its signature still verifies, since the change is in a part the
// signature does not cover (an attribute of its own ds:Signature).
func TestInvalidTokenNeverRemembered(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	bad := tok.Copy()
	var sig *etree.Element
	for _, c := range bad.ChildElements() {
		if c.Tag == "Signature" {
			sig = c
		}
	}
	if sig == nil {
		t.Fatal("token without ds:Signature")
	}
	sig.CreateAttr("Unexpected", "1")
	for i := 1; i <= 2; i++ {
		f.wantSchemaFault(f.receive(f.request(withID(f, bad, i, nil)), k.WSC.Cert))
	}
	if n := len(f.rcv.tokens.keys); n != 0 {
		t.Fatalf("fail/not-remembered: %d tokens remembered after refusals", n)
	}
	f.wantOK(f.receive(f.request(withID(f, tok, 3, nil)), k.WSC.Cert))
	f.wantSchemaFault(f.receive(f.request(withID(f, bad, 4, nil)), k.WSC.Cert))
}

// TestSeenTokenIDsStillUnique: a value outside a seen token that equals
// an ID inside it is still refused as a duplicate ID (xs:ID is unique in
// the whole document), here through is:Text's name, an xs:ID the
// signature verifier's own check does not look at.
func TestSeenTokenIDsStillUnique(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{ID: "_tok1"})
	clash := func(e *wsf.Envelope) {
		x := e.Header.CreateElement("is:Text")
		x.CreateAttr("xmlns:is", "urn:liberty:is:2006-08")
		x.CreateAttr("name", "_tok1")
	}
	f.wantSchemaFault(f.receive(f.request(withID(f, tok, 1, clash)), k.WSC.Cert))
	f.wantOK(f.receive(f.request(withID(f, tok, 2, nil)), k.WSC.Cert))
	f.wantSchemaFault(f.receive(f.request(withID(f, tok, 3, clash)), k.WSC.Cert))
	if ids, _ := f.rcv.tokens.get(f.rcv.tokens.onlyKey(t)); !slices.Contains(ids, "_tok1") {
		t.Fatalf("the token's ID is not among its candidates: %q", ids)
	}
}

// onlyKey is the one key of s.
func (s *seenTokens) onlyKey(t *testing.T) [32]byte {
	t.Helper()
	if len(s.keys) != 1 {
		t.Fatalf("%d tokens remembered, want 1", len(s.keys))
	}
	for k := range s.keys {
		return k
	}
	return [32]byte{}
}

func TestIDCandidates(t *testing.T) {
	el := etree.NewElement("t")
	el.CreateAttr("xmlns:a", "urn:a")
	el.CreateAttr("ID", " _id1 ")
	el.CreateAttr("When", "2026-12-07T10:00:00Z")
	el.CreateElement("c").CreateAttr("Ref", "名前.x-1_")
	el.CreateElement("v").CreateAttr("Value", "ab+cd/ef==")
	el.CreateElement("n").CreateAttr("Version", "2.0")
	el.CreateElement("d").CreateAttr("Dash", "-x")
	el.CreateElement("w").SetText("_text")
	got := idCandidates(el)
	if !slices.Equal(got, []string{"_id1", "名前.x-1_"}) {
		t.Fatalf("candidates %q", got)
	}
	root := etree.NewElement("r")
	root.AddChild(el)
	root.CreateElement("o").CreateAttr("name", "_id1")
	if !clashes(root, el, got) {
		t.Fatal("a value outside equal to a candidate is not a clash")
	}
	if clashes(root, el, []string{"_other"}) {
		t.Fatal("a clash without an equal value")
	}
}

// TestSeenTokenCutWithOrdinaryValues: a seen token is cut out of a
// message whose values outside it repeat ones inside it that are no IDs
// (version="2.0" of sbf:Framework and the token's Version, the text of a
// SecurityTokenReference naming the token's ID).
func TestSeenTokenCutWithOrdinaryValues(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	f.wantOK(f.receive(f.request(withID(f, tok, 1, nil)), k.WSC.Cert))
	body := f.request(withID(f, tok, 2, nil))
	env, err := wsf.ParseEnvelope(body, wsf.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := tokenSpans(env)
	if !ok {
		t.Fatal("no token found")
	}
	ids, seen := f.rcv.tokens.get(p.tokenKey(body))
	if !seen {
		t.Fatal("the token is not remembered")
	}
	if clashes(env.Doc.Root(), p.tokenEl, ids) {
		t.Fatalf("an ordinary message clashes with the token's candidates %q", ids)
	}
}

// TestSeenTokenInAnotherContext: the same token bytes under other
// namespace declarations are another key, validated again.
func TestSeenTokenInAnotherContext(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	f.wantOK(f.receive(f.request(withID(f, tok, 1, nil)), k.WSC.Cert))
	f.wantOK(f.receive(f.request(withID(f, tok, 2, func(e *wsf.Envelope) {
		e.Header.CreateAttr("xmlns:x", "urn:renkei:test:ctx")
	})), k.WSC.Cert))
	if n := len(f.rcv.tokens.keys); n != 2 {
		t.Fatalf("ok/context: %d tokens remembered, want 2", n)
	}
}

func TestSeenTokensBounded(t *testing.T) {
	s := newSeenTokens(3)
	for i := range 7 {
		s.add([32]byte{byte(i)}, []string{"_a"})
		if len(s.keys) > 3 {
			t.Fatalf("%d keys kept, bound 3", len(s.keys))
		}
	}
	if ids, ok := s.get([32]byte{6}); !ok || len(ids) != 1 {
		t.Fatal("the last key added is not kept")
	}
}
