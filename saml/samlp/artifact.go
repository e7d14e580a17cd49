package samlp

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// ArtifactResolve is a samlp:ArtifactResolve (SAML Core §3.5.1): the
// artifact, as its base64 text, whose message the requester asks for.
type ArtifactResolve struct {
	RequestHeader
	Signed   bool
	Artifact string
}

// ArtifactResponse is a samlp:ArtifactResponse (SAML Core §3.5.2): the
// status, and the message the artifact stood for, or nil when there is
// none to give (an unknown, used or expired artifact).
type ArtifactResponse struct {
	StatusResponseHeader
	Signed  bool
	Message *etree.Element
}

var (
	_ Message = (*ArtifactResolve)(nil)
	_ Message = (*ArtifactResponse)(nil)
)

// maxArtifactText bounds the samlp:Artifact text: a type 0x0004 artifact
// is 60 characters of base64.
const maxArtifactText = 256

var artifactResolveChildren = []qname{qIssuer, qSignature, qExtensions, {NS, "Artifact"}}

// Element renders the request as a samlp:ArtifactResolve.
func (r *ArtifactResolve) Element() *etree.Element {
	el := r.RequestHeader.element("ArtifactResolve")
	wire.TextElement(el, "samlp:Artifact", r.Artifact)
	return el
}

// Element renders the response as a samlp:ArtifactResponse: the header,
// the status, then the message when there is one.
func (r *ArtifactResponse) Element() *etree.Element {
	el := r.StatusResponseHeader.element("ArtifactResponse")
	if r.Message != nil {
		el.AddChild(xmlsec.DetachCopy(r.Message))
	}
	return el
}

// DecodeArtifactResolve reads a samlp:ArtifactResolve that the caller has
// authenticated (VerifyArtifactResolve, or an authenticated SOAP channel):
// exactly one non-empty samlp:Artifact, after the header.
func DecodeArtifactResolve(el *etree.Element) (*ArtifactResolve, error) {
	if err := expect(el, "ArtifactResolve"); err != nil {
		return nil, err
	}
	r := &ArtifactResolve{Signed: hasSignature(el)}
	if err := r.RequestHeader.decode(el); err != nil {
		return nil, err
	}
	if err := checkSequence(el, artifactResolveChildren); err != nil {
		return nil, err
	}
	a := wire.Children(el, NS, "Artifact")
	if len(a) != 1 {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "samlp:ArtifactResolve needs one samlp:Artifact")
	}
	v, err := wire.Text(a[0])
	if err != nil {
		return nil, err
	}
	if v == "" || len(v) > maxArtifactText {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "samlp:Artifact of %d characters", len(v))
	}
	r.Artifact = v
	return r, nil
}

// DecodeArtifactResponse reads a samlp:ArtifactResponse that the caller
// has authenticated; the message inside is kept as a standalone copy.
func DecodeArtifactResponse(el *etree.Element) (*ArtifactResponse, error) {
	if err := expect(el, "ArtifactResponse"); err != nil {
		return nil, err
	}
	r := &ArtifactResponse{Signed: hasSignature(el)}
	if err := r.StatusResponseHeader.decode(el); err != nil {
		return nil, err
	}
	cs := el.ChildElements()
	head := cs
	for i, c := range cs {
		if wire.Is(c, NS, "Status") {
			head = cs[:i+1]
			switch rest := cs[i+1:]; len(rest) {
			case 0:
			case 1:
				r.Message = xmlsec.DetachCopy(rest[0])
			default:
				return nil, xmlsec.Errorf(xmlsec.KindMalformed, "samlp:ArtifactResponse carries %d messages", len(rest))
			}
			break
		}
	}
	return r, checkElements(el, head, responseChildren)
}

// VerifyArtifactResolve checks the enveloped signature with v and decodes
// what was signed.
func VerifyArtifactResolve(el *etree.Element, v *dsig.Verifier) (*ArtifactResolve, *etree.Element, error) {
	signed, err := verifyNamed(el, "ArtifactResolve", v)
	if err != nil {
		return nil, nil, err
	}
	r, err := DecodeArtifactResolve(signed)
	if err != nil {
		return nil, nil, err
	}
	r.Signed = true
	return r, signed, nil
}

// VerifyArtifactResponse checks the enveloped signature with v and decodes
// what was signed, the message inside included.
func VerifyArtifactResponse(el *etree.Element, v *dsig.Verifier) (*ArtifactResponse, *etree.Element, error) {
	signed, err := verifyNamed(el, "ArtifactResponse", v)
	if err != nil {
		return nil, nil, err
	}
	r, err := DecodeArtifactResponse(signed)
	if err != nil {
		return nil, nil, err
	}
	r.Signed = true
	return r, signed, nil
}
