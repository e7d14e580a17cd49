package server

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"sync"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// validate checks the request's own bytes against the schemas (parse
// accepted them), leaving out the parts whose exact bytes, in the same
// namespace context, have passed before (seenParts). A WSC repeats most of
// its messages from one call of its session to the next: the security
// token (saml:Assertion or saml:EncryptedAssertion, the issuer's signed
// bytes), the sbf, sb and wsa header blocks but wsa:MessageID, and often
// the payload. What changes, wsa:MessageID, S:Body's own attributes and
// everything in wsse:Security but the token (wsu:Timestamp, the
// ds:Signature, a SecurityTokenReference), is validated in every message,
// and a part is validated in place the first time it comes. The token's
// signature and conditions, and the message's, are checked in every
// message whatever validate leaves out.
//
// The schemas' content models around these parts are open (SOAP 1.1's
// Header and Body, wsse:Security: any number of any elements), so a part's
// validity does not depend on its neighbours. The one rule that spans the
// parts is that an xs:ID value occurs once in the document: a message in
// which a value a part left out could carry as an ID (idCandidates) is
// also an ID value elsewhere, or in another part left out, is validated
// whole. Where IDs can be comes from the schemas (a Validator with
// IDAttributes, as xsd.Schema); without it nothing is left out. On a 15 KB
// WSP query the parts left out are more than half of the bytes, and
// validating them was the largest cost of a request above its signatures.
func (r *Receiver) validate(x *exchange) error {
	body := x.req.Body
	if r.idNames == nil {
		return wsf.ValidateParsed(r.cfg.Schema, body)
	}
	parts := repeatedParts(x.env, body)
	var cut, fresh []part
	for _, p := range parts {
		if ids, seen := r.parts.get(p.key); seen {
			p.ids = ids
			cut = append(cut, p)
		} else {
			fresh = append(fresh, p)
		}
	}
	if len(cut) > 0 && clashes(x.env.Doc.Root(), cut, r.idNames) {
		cut, fresh = nil, parts
	}
	if err := wsf.ValidateParsed(r.cfg.Schema, without(body, cut)); err != nil {
		return err
	}
	if len(fresh) > maxFreshParts {
		fresh = fresh[:maxFreshParts]
	}
	x.freshParts = fresh
	return nil
}

// rememberParts remembers the parts validate saw pass for the first time,
// once the message is proven to be its sender's and its token checked
// (after step 7): an unauthenticated peer can make the receiver validate,
// but not fill its memory. A part that could hold more than
// maxPartIDs IDs is not remembered, and is validated in every message.
// validate hands on no part of a message that failed (a lenient sender's
// included), so nothing that did not pass is remembered.
func (r *Receiver) rememberParts(_ context.Context, x *exchange) error {
	for _, p := range x.freshParts {
		if ids, ok := idCandidates(p.el, r.idNames, maxPartIDs); ok {
			r.parts.add(p.key, ids)
		}
	}
	return nil
}

// maxFreshParts bounds the parts one message may have remembered, and
// maxPartIDs the ID candidates of one part.
const (
	maxFreshParts = 16
	maxPartIDs    = 32
)

// part is a piece of a message validate may leave out once seen.
type part struct {
	el   *etree.Element
	span xmlsec.Span
	key  [32]byte
	ids  []string // its idCandidates, once seen
}

// repeatedParts are the parts of env that a sender repeats from message to
// message: the header blocks but wsse:Security and wsa:MessageID, the
// token of the one wsse:Security header (when it holds one), and the
// payload. Each is keyed by its bytes in their namespace context
// (partKey). None when the envelope has no spans.
func repeatedParts(env *wsf.Envelope, body []byte) []part {
	if env == nil || env.Spans == nil {
		return nil
	}
	root := env.Doc.Root()
	var out []part
	add := func(el *etree.Element, scope ...*etree.Element) bool {
		s, ok := env.Spans[el]
		if !ok {
			return false
		}
		k, ok := partKey(env, body, s, scope)
		if ok {
			out = append(out, part{el: el, span: s, key: k})
		}
		return ok
	}
	var secs []*etree.Element
	for _, b := range env.Header.ChildElements() {
		switch {
		case wire.Is(b, wsf.NSWSSE, "Security"):
			secs = append(secs, b)
		case wire.Is(b, wsf.NSWSA, "MessageID"):
		default:
			if !add(b, root, env.Header) {
				return nil
			}
		}
	}
	if len(secs) == 1 {
		var tokens []*etree.Element
		for _, c := range secs[0].ChildElements() {
			if wire.Is(c, wsf.NSSAML, "Assertion") || wire.Is(c, wsf.NSSAML, "EncryptedAssertion") {
				tokens = append(tokens, c)
			}
		}
		if len(tokens) == 1 && !add(tokens[0], root, env.Header, secs[0]) {
			return nil
		}
	}
	if !add(env.Payload(), root, env.Body) {
		return nil
	}
	return out
}

// partKey identifies a part's bytes in their namespace context: the start
// tags of its ancestors, which hold every declaration in its scope, and
// the part itself.
func partKey(env *wsf.Envelope, body []byte, s xmlsec.Span, scope []*etree.Element) ([32]byte, bool) {
	h := sha256.New()
	for _, el := range scope {
		a, ok := env.Spans[el]
		if !ok {
			return [32]byte{}, false
		}
		h.Write(body[a.Start:a.Inner])
		h.Write([]byte{0})
	}
	h.Write(body[s.Start:s.End])
	var k [32]byte
	h.Sum(k[:0])
	return k, true
}

// idCandidates are the values in el that an xs:ID could hold: the
// values, white space collapsed, of the attributes named in names that
// may be NCNames (ncName); false when there are more than max.
func idCandidates(el *etree.Element, names map[string]bool, max int) ([]string, bool) {
	var out []string
	seen := map[string]bool{}
	walkIDs(el, nil, names, func(v string) {
		if ncName(v) && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	})
	return out, len(out) <= max
}

// clashes reports whether a value the cut parts could carry as an ID is
// held by two of them, or by an ID attribute in root outside them.
func clashes(root *etree.Element, cut []part, names map[string]bool) bool {
	ids := map[string]bool{}
	skip := make(map[*etree.Element]bool, len(cut))
	for _, p := range cut {
		skip[p.el] = true
		for _, v := range p.ids {
			if ids[v] {
				return true
			}
			ids[v] = true
		}
	}
	if len(ids) == 0 {
		return false
	}
	found := false
	walkIDs(root, skip, names, func(v string) {
		if !found && ids[v] {
			found = true
		}
	})
	return found
}

// walkIDs calls fn with the value, trimmed, of every attribute named in
// names, in el and its descendants, except in skip.
func walkIDs(el *etree.Element, skip map[*etree.Element]bool, names map[string]bool, fn func(string)) {
	if skip[el] {
		return
	}
	for _, a := range el.Attr {
		if names[a.Key] && a.Space != "xmlns" {
			fn(strings.TrimSpace(a.Value))
		}
	}
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok {
			walkIDs(c, skip, names, fn)
		}
	}
}

// ncName reports whether v may be an NCName. It errs wide, since a value
// it refuses can never count as an ID: any non-ASCII character passes (the
// name classes of XML 1.0, which libxml2 applies, and those of later
// editions differ outside ASCII), ASCII must be a letter, a digit, '.',
// '-' or '_', and the first character not an ASCII digit, '.' or '-'.
// "2.0" is no NCName; "a·b" and "〇tok" may be.
func ncName(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x80 {
			continue
		}
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		other := c >= '0' && c <= '9' || c == '.' || c == '-'
		if !letter && !other || i == 0 && other {
			return false
		}
	}
	return true
}

// without returns body without the parts, which do not overlap.
func without(body []byte, parts []part) []byte {
	if len(parts) == 0 {
		return body
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b part) int { return a.span.Start - b.span.Start })
	out := make([]byte, 0, len(body))
	at := 0
	for _, p := range parts {
		out = append(out, body[at:p.span.Start]...)
		at = p.span.End
	}
	return append(out, body[at:]...)
}

// maxSeenParts bounds the parts remembered as valid; when full, the set
// starts again (each part then costs one more validation in place).
const maxSeenParts = 4096

// seenParts is a bounded set of part keys whose bytes passed the schemas,
// each with its idCandidates.
type seenParts struct {
	mu   sync.Mutex
	max  int
	keys map[[32]byte][]string
}

func newSeenParts(max int) *seenParts {
	return &seenParts{max: max, keys: make(map[[32]byte][]string)}
}

func (s *seenParts) get(k [32]byte) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, ok := s.keys[k]
	return ids, ok
}

func (s *seenParts) add(k [32]byte, ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.keys) >= s.max {
		clear(s.keys)
	}
	s.keys[k] = ids
}
