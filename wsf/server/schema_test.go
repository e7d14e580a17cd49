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

// TestSeenPartsLeaveTheRestValidated: once the parts of a message passed
// the schemas they are not validated again, but what changes in each
// message still is, and a part that changes is validated in place.
func TestSeenPartsLeaveTheRestValidated(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	f.wantOK(f.receive(f.request(withID(f, tok, 1, nil)), k.WSC.Cert))
	if n := len(f.rcv.parts.keys); n < 3 {
		t.Fatalf("ok/remembered: %d parts remembered after a valid message, want the token, header blocks and payload", n)
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
	if n := len(f.rcv.parts.keys); n != 0 {
		t.Fatalf("fail/not-remembered: %d parts remembered after refusals", n)
	}
	f.wantOK(f.receive(f.request(withID(f, tok, 3, nil)), k.WSC.Cert))
	f.wantSchemaFault(f.receive(f.request(withID(f, bad, 4, nil)), k.WSC.Cert))
}

// TestSeenTokenIDsStillUnique: an ID outside a seen token that repeats an
// ID inside it is still refused as a duplicate (xs:ID is unique in the
// whole document), here is:Text's name, an xs:ID the signature verifier's
// own check does not look at.
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
	if ids, _ := f.rcv.parts.get(f.rcv.parts.keyOf(t, tok)); !slices.Contains(ids, "_tok1") {
		t.Fatalf("the token's ID is not among its candidates: %q", ids)
	}
}

// TestSeenTokenNonASCIIIDsStillUnique: IDs with characters outside ASCII
// that libxml2 takes for NCName characters (an extender, ideographic
// letter-numbers) are candidates too, so their duplicates are still found
// once the token is left out (the reviewer's reproduction).
func TestSeenTokenNonASCIIIDsStillUnique(t *testing.T) {
	k := wsftest.Keys(t)
	for _, id := range []string{"_tok\u0387a", "\u3007tok"} {
		f := newFixture(t, wsf.Strict)
		tok := f.hokToken(wsftest.TokenSpec{ID: id})
		clash := func(e *wsf.Envelope) {
			x := e.Header.CreateElement("is:Text")
			x.CreateAttr("xmlns:is", "urn:liberty:is:2006-08")
			x.CreateAttr("name", id)
		}
		f.wantSchemaFault(f.receive(f.request(withID(f, tok, 1, clash)), k.WSC.Cert))
		f.wantOK(f.receive(f.request(withID(f, tok, 2, nil)), k.WSC.Cert))
		f.wantSchemaFault(f.receive(f.request(withID(f, tok, 3, clash)), k.WSC.Cert))
	}
}

// TestPartsRememberedOnlyWhenAuthenticated: a message that passes the
// schemas but not the signature check leaves nothing remembered, and one
// message has at most maxFreshParts parts remembered.
func TestPartsRememberedOnlyWhenAuthenticated(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	r := withID(f, f.hokToken(wsftest.TokenSpec{}), 1, nil)
	r.signer = k.Rogue
	f.wantFault(f.receive(f.request(r), k.WSC.Cert), wsf.FaultFailedCheck, wsf.InappropriateCredentials)
	if n := len(f.rcv.parts.keys); n != 0 {
		t.Fatalf("fail/unauthenticated: %d parts remembered", n)
	}
	many := func(e *wsf.Envelope) {
		for i := range 3 * maxFreshParts {
			x := e.Header.CreateElement("x:Ext")
			x.CreateAttr("xmlns:x", "urn:renkei:test:ext")
			x.CreateAttr("n", fmt.Sprint(i))
		}
	}
	f.wantOK(f.receive(f.request(withID(f, f.hokToken(wsftest.TokenSpec{}), 2, many)), k.WSC.Cert))
	if n := len(f.rcv.parts.keys); n > maxFreshParts {
		t.Fatalf("fail/bounded: %d parts remembered from one message, bound %d", n, maxFreshParts)
	}
}

// keyOf is the key under which s remembers tok, which must be there.
func (s *seenParts) keyOf(t *testing.T, tok *etree.Element) [32]byte {
	t.Helper()
	for k, ids := range s.keys {
		if slices.Contains(ids, tok.SelectAttrValue("ID", "")) {
			return k
		}
	}
	t.Fatalf("token %s not remembered", tok.SelectAttrValue("ID", ""))
	return [32]byte{}
}

var idNames = map[string]bool{"ID": true, "Id": true, "id": true, "name": true}

func TestIDCandidates(t *testing.T) {
	el := etree.NewElement("t")
	el.CreateAttr("xmlns:a", "urn:a")
	el.CreateAttr("ID", " _id1 ")
	el.CreateAttr("When", "2026-12-07T10:00:00Z")
	el.CreateElement("c").CreateAttr("name", "名前.x-1_")
	el.CreateElement("r").CreateAttr("ref", "_ref")
	el.CreateElement("v").CreateAttr("Id", "ab+cd/ef==")
	el.CreateElement("n").CreateAttr("id", "2.0")
	el.CreateElement("u").CreateAttr("id", "a\u0387b")
	el.CreateElement("w").CreateAttr("id", "\u3007tok")
	el.CreateElement("s").CreateAttr("id", "a b")
	got, ok := idCandidates(el, idNames, 32)
	if !ok || !slices.Equal(got, []string{"_id1", "名前.x-1_", "a\u0387b", "\u3007tok"}) {
		t.Fatalf("candidates %q", got)
	}
	if _, ok := idCandidates(el, idNames, 3); ok {
		t.Fatal("four candidates within a bound of 3")
	}
	root := etree.NewElement("r")
	root.AddChild(el)
	other := root.CreateElement("o")
	other.CreateAttr("ref", "_id1") // an IDREF may name an ID
	cut := []part{{el: el, ids: got}}
	if clashes(root, cut, idNames) {
		t.Fatal("a reference to an ID is a clash")
	}
	other.CreateAttr("Id", "_id1")
	if !clashes(root, cut, idNames) {
		t.Fatal("an ID outside equal to a candidate is not a clash")
	}
	two := []part{{el: el, ids: got}, {el: other, ids: []string{"_id1"}}}
	if !clashes(root, two, idNames) {
		t.Fatal("two cut parts with one ID are not a clash")
	}
}

// TestOrdinaryMessagesCut: the second ordinary message of a session has
// every part seen (token, header blocks, payload) and nothing clashes, so
// they are all left out; the fixture's sb:UsageDirective-free header and
// the token's Version="2.0" beside sbf:Framework's version="2.0" are no
// IDs.
func TestOrdinaryMessagesCut(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	f.wantOK(f.receive(f.request(withID(f, tok, 1, nil)), k.WSC.Cert))
	body := f.request(withID(f, tok, 2, nil))
	env, err := wsf.ParseEnvelopeSpans(body, wsf.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	parts := repeatedParts(env, body)
	if len(parts) < 3 {
		t.Fatalf("%d parts found", len(parts))
	}
	var cut []part
	for _, p := range parts {
		ids, seen := f.rcv.parts.get(p.key)
		if !seen {
			t.Errorf("part <%s> not seen again", p.el.Tag)
		}
		p.ids = ids
		cut = append(cut, p)
	}
	if clashes(env.Doc.Root(), cut, f.rcv.idNames) {
		t.Fatal("an ordinary message clashes with its seen parts")
	}
	if len(without(body, cut)) > len(body)/2 {
		t.Errorf("%d of %d bytes left to validate", len(without(body, cut)), len(body))
	}
}

// TestSeenPartsInAnotherContext: the same bytes under other namespace
// declarations are other parts, validated again.
func TestSeenPartsInAnotherContext(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	f.wantOK(f.receive(f.request(withID(f, tok, 1, nil)), k.WSC.Cert))
	n := len(f.rcv.parts.keys)
	f.wantOK(f.receive(f.request(withID(f, tok, 2, func(e *wsf.Envelope) {
		e.Header.CreateAttr("xmlns:x", "urn:renkei:test:ctx")
	})), k.WSC.Cert))
	if got := len(f.rcv.parts.keys); got <= n {
		t.Fatalf("ok/context: %d parts remembered after %d, want more", got, n)
	}
}

func TestSeenPartsBounded(t *testing.T) {
	s := newSeenParts(3)
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
