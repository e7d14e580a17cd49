package server

import (
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// validate checks the request's own bytes against the schemas (parse
// accepted them), every part of them in every message but one: the
// security token (saml:Assertion or saml:EncryptedAssertion) in the one
// wsse:Security header. A WSC presents the same token, the issuer's signed
// bytes, with every call of its session; those bytes are validated in
// place the first time they arrive in a namespace context, and left out of
// the bytes validated after that (seenTokens). The token's signature and
// conditions are still checked in every message.
//
// The one rule of the schemas that spans the parts is that an xs:ID value
// occurs once in the document: a message in which some attribute value
// outside the token equals one the token could carry as an ID
// (idCandidates) is validated whole. On a 15 KB WSP query the token is more than half of the
// bytes, and validating it was the largest cost of a request above its
// signatures.
func (r *Receiver) validate(x *exchange) error {
	body := x.req.Body
	p, ok := tokenSpans(x.env)
	if !ok {
		return wsf.ValidateParsed(r.cfg.Schema, body)
	}
	key := p.tokenKey(body)
	if ids, seen := r.tokens.get(key); seen && !clashes(x.env.Doc.Root(), p.tokenEl, ids) {
		return wsf.ValidateParsed(r.cfg.Schema, without(body, p.token))
	}
	if err := wsf.ValidateParsed(r.cfg.Schema, body); err != nil {
		return err
	}
	r.tokens.add(key, idCandidates(p.tokenEl))
	return nil
}

// idCandidates are the values in el that an xs:ID could hold: each
// attribute value, white space collapsed, that is an NCName. Every xs:ID of the embedded
// schemas is an attribute (xsd.TestIDsAreAttributes).
func idCandidates(el *etree.Element) []string {
	var out []string
	walkAttrs(el, nil, func(v string) {
		if ncName(v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	})
	return out
}

// clashes reports whether an attribute value in root outside skip equals
// one of ids.
func clashes(root, skip *etree.Element, ids []string) bool {
	if len(ids) == 0 {
		return false
	}
	found := false
	walkAttrs(root, skip, func(v string) {
		if !found && slices.Contains(ids, v) {
			found = true
		}
	})
	return found
}

// walkAttrs calls fn with every attribute value other than a namespace
// declaration, trimmed, in el and its descendants, except in skip.
func walkAttrs(el, skip *etree.Element, fn func(string)) {
	if el == skip {
		return
	}
	for _, a := range el.Attr {
		if a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" {
			continue
		}
		fn(strings.TrimSpace(a.Value))
	}
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok {
			walkAttrs(c, skip, fn)
		}
	}
}

// ncName reports whether v is an NCName (XML Namespaces §3, with
// Unicode's letters, digits and marks standing in for the XML 1.0 name
// character classes): a letter or '_', then letters, digits, marks, '.',
// '-', '_' or '·'. A value that is not could not be an ID, and a message
// whose other values only look like one is merely validated whole.
func ncName(v string) bool {
	for i, r := range v {
		first := unicode.IsLetter(r) || r == '_'
		if i == 0 && !first {
			return false
		}
		if !first && !unicode.IsDigit(r) && !unicode.IsMark(r) && r != '.' && r != '-' && r != '\u00b7' {
			return false
		}
	}
	return v != ""
}

// securitySpans are the spans of the token of the one wsse:Security
// header and of the start tags in whose scope it lies.
type securitySpans struct {
	token   xmlsec.Span
	tokenEl *etree.Element
	scope   []xmlsec.Span // S:Envelope, S:Header, wsse:Security
}

// tokenSpans finds the token of env's one wsse:Security header; false when
// there is no such header, or no token, or several.
func tokenSpans(env *wsf.Envelope) (securitySpans, bool) {
	var p securitySpans
	if env == nil || env.Spans == nil {
		return p, false
	}
	secs := wire.Children(env.Header, wsf.NSWSSE, "Security")
	if len(secs) != 1 {
		return p, false
	}
	sec := secs[0]
	var token *etree.Element
	for _, c := range sec.ChildElements() {
		if wire.Is(c, wsf.NSSAML, "Assertion") || wire.Is(c, wsf.NSSAML, "EncryptedAssertion") {
			if token != nil {
				return p, false
			}
			token = c
		}
	}
	if token == nil {
		return p, false
	}
	for _, el := range []*etree.Element{env.Doc.Root(), env.Header, sec} {
		s, ok := env.Spans[el]
		if !ok {
			return p, false
		}
		p.scope = append(p.scope, s)
	}
	var ok bool
	p.token, ok = env.Spans[token]
	p.tokenEl = token
	return p, ok
}

// tokenKey identifies the token's bytes in their namespace context: the
// start tags of its ancestors, which hold every declaration in its scope,
// and the token itself.
func (p securitySpans) tokenKey(body []byte) [32]byte {
	h := sha256.New()
	for _, s := range p.scope {
		h.Write(body[s.Start:s.Inner])
		h.Write([]byte{0})
	}
	h.Write(body[p.token.Start:p.token.End])
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// without returns body without the element at span.
func without(body []byte, span xmlsec.Span) []byte {
	out := make([]byte, 0, len(body)-(span.End-span.Start))
	out = append(out, body[:span.Start]...)
	return append(out, body[span.End:]...)
}

// maxSeenTokens bounds the tokens remembered as valid; when full, the set
// starts again (a token then costs one more full validation).
const maxSeenTokens = 4096

// seenTokens is a bounded set of token keys whose bytes passed the
// schemas, each with its idCandidates.
type seenTokens struct {
	mu   sync.Mutex
	max  int
	keys map[[32]byte][]string
}

func newSeenTokens(max int) *seenTokens {
	return &seenTokens{max: max, keys: make(map[[32]byte][]string)}
}

func (s *seenTokens) get(k [32]byte) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, ok := s.keys[k]
	return ids, ok
}

func (s *seenTokens) add(k [32]byte, ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.keys) >= s.max {
		clear(s.keys)
	}
	s.keys[k] = ids
}
