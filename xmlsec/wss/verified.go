package wss

import (
	"crypto"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Verified is the result of a successful Verify: the key that verified,
// how KeyInfo named it, and one SignedPart per Reference.
type Verified struct {
	Key    crypto.PublicKey // the trusted key the SignatureValue verified with
	Method xmlsec.SignatureMethod
	// KeyRef is what ds:KeyInfo said: only a name, Key is the trust
	// decision. For KeyRefSAMLToken the caller checks that AssertionID
	// names the token whose holder-of-key key it trusted.
	KeyRef KeyRef
	Parts  []SignedPart
}

// SignedPart is one referenced element: its name, ID and place in the
// envelope, and a detached copy of exactly what its Reference digested
// (no comments, no processing instructions, the namespace declarations it
// inherited declared on it). Element is the only thing to read.
type SignedPart struct {
	Part
	Element *etree.Element
	orig    *etree.Element
}

func newVerified(e envelope, sig *xmlsec.Signature, targets []*etree.Element, key crypto.PublicKey, ref KeyRef) *Verified {
	v := &Verified{Key: key, Method: sig.SignedInfo.Method, KeyRef: ref, Parts: make([]SignedPart, len(targets))}
	for i, t := range targets {
		r := &sig.SignedInfo.References[i]
		id, _ := r.ID()
		v.Parts[i] = SignedPart{
			Part:    Part{Space: t.NamespaceURI(), Local: t.Tag, ID: id, Place: e.place(t)},
			Element: xmlsec.DetachSigned(t, omitFor(r, sig)),
			orig:    t,
		}
	}
	return v
}

// Body returns the verified copy of the envelope's own Body, or nil when
// the Body was not signed. An S:Body signed anywhere else (moved into a
// header by a wrapping attack) is never returned.
func (v *Verified) Body() *etree.Element {
	return v.only(PlaceBody, NSSOAP11, "Body")
}

// Header returns the verified copy of the one signed header block (a
// direct child of S:Header) named space:local; nil when none or several
// were signed.
func (v *Verified) Header(space, local string) *etree.Element {
	return v.only(PlaceHeader, space, local)
}

// Security returns the verified copy of the one signed direct child of
// wsse:Security named space:local (the wsu:Timestamp, the
// SecurityTokenReference, the BinarySecurityToken); nil when none or
// several were signed.
func (v *Verified) Security(space, local string) *etree.Element {
	return v.only(PlaceSecurity, space, local)
}

// Timestamp returns the verified copy of wsse:Security's wsu:Timestamp, or
// nil when it was not signed.
func (v *Verified) Timestamp() *etree.Element {
	return v.Security(NSWSU, "Timestamp")
}

func (v *Verified) only(place Place, space, local string) *etree.Element {
	var found *etree.Element
	for i := range v.Parts {
		p := &v.Parts[i]
		if p.Place != place || p.Space != space || p.Local != local {
			continue
		}
		if found != nil {
			return nil
		}
		found = p.Element
	}
	return found
}

// Covers reports whether el, an element of the verified envelope, is one
// the signature referenced (pointer identity, not name).
func (v *Verified) Covers(el *etree.Element) bool {
	for i := range v.Parts {
		if v.Parts[i].orig == el {
			return true
		}
	}
	return false
}

// Unsigned returns the parts of env that RequiredParts lists and v does
// not cover: a header moved out of the signed set, an unsigned Body put in
// place of a signed one, a Timestamp added after signing. env must be the
// envelope v was verified from; any other tree has every part unsigned.
func Unsigned(env *etree.Element, v *Verified) ([]Part, error) {
	e, err := parseEnvelope(env)
	if err != nil {
		return nil, err
	}
	var out []Part
	for _, el := range e.required() {
		if v == nil || !v.Covers(el) {
			id, _ := resolvableID(el, true)
			out = append(out, Part{Space: el.NamespaceURI(), Local: el.Tag, ID: id, Place: e.place(el)})
		}
	}
	return out, nil
}

// CheckCoverage is Unsigned as an error: ErrReference naming every
// required part the signature does not cover (IDWSF2.md §2.4: "a receiver
// must check that each required part is actually referenced").
func CheckCoverage(env *etree.Element, v *Verified) error {
	missing, err := Unsigned(env, v)
	if err != nil || len(missing) == 0 {
		return err
	}
	names := make([]string, len(missing))
	for i, p := range missing {
		names[i] = p.Place.String() + " " + p.String()
	}
	return xmlsec.Errorf(xmlsec.KindReference, "not signed: %s", strings.Join(names, ", "))
}
