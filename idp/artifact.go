package idp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// DefaultArtifactLifetime is how long an artifact waits for its
// resolution: SAML Bindings §3.6.5 asks for a short one, and the SP
// resolves it at once when the browser arrives.
const DefaultArtifactLifetime = 60 * time.Second

// artifactPrefix keeps artifact handles apart from pending requests,
// logout chains and enrolments in the shared ArtifactStore.
const artifactPrefix = "art:"

// ArtifactConfig is the HTTP-Artifact binding of the IdP's responses
// (SAML Bindings §3.6) and its ArtifactResolutionService.
type ArtifactConfig struct {
	// URL is the ArtifactResolutionService (SOAP binding), published in
	// the metadata with Index; "" turns the binding off, and a request for
	// it is then refused as UnsupportedBinding.
	URL   string
	Index uint16
	// Lifetime bounds the time from issue to resolution; zero takes
	// DefaultArtifactLifetime.
	Lifetime time.Duration
}

func (c ArtifactConfig) validate() []error {
	if c.Lifetime < 0 || c.Lifetime > MaxLifetime {
		return []error{fmt.Errorf("sso config: Artifact Lifetime %v is outside [0, %v]", c.Lifetime, MaxLifetime)}
	}
	return nil
}

func (c ArtifactConfig) lifetime() time.Duration {
	return orDefault(c.Lifetime, DefaultArtifactLifetime)
}

// IssueArtifact keeps out's Response in the store for its one resolution
// by out's SP, shared by every IdP node on that store, and returns the
// type 0x0004 artifact that stands for it (SAML Bindings §3.6.4: SourceID
// the SHA-1 of the IdP's entityID, a 20-byte random MessageHandle).
func (s *SSO) IssueArtifact(ctx context.Context, out *Outcome, now time.Time) (*binding.Artifact, error) {
	art, err := binding.NewArtifact(s.p.cfg.EntityID, s.cfg.Artifact.Index, s.p.rand())
	if err != nil {
		return nil, Wrap(CodeInternal, err, "randomness")
	}
	b, err := xmlsec.Serialize(out.Response)
	if err != nil {
		return nil, Wrap(CodeInternal, err, "serialize response")
	}
	a := store.Artifact{Handle: artifactPrefix + art.Handle(), Issuer: s.p.cfg.EntityID, Recipient: out.SP,
		Message: b, Created: now, Expires: now.Add(s.cfg.Artifact.lifetime())}
	if err := s.cfg.Pending.PutArtifact(ctx, a); err != nil {
		return nil, Wrap(CodeInternal, err, "store artifact")
	}
	return art, nil
}

// ArtifactInbound is an ArtifactResolve as the SOAP binding delivered
// it, not yet trusted, with the TLS client certificates of the
// connection (none when the client sent none).
type ArtifactInbound struct {
	Element     *etree.Element
	ClientCerts []*x509.Certificate
}

// ResolveArtifact answers an ArtifactResolve (SAML Core §3.5; SAML
// Bindings §3.6.5) with a signed ArtifactResponse. The requester must be
// an SP of the metadata, authenticated by its signature on the request or
// by its TLS client certificate, either against its metadata keys; the
// request is schema-valid, fresh, not replayed and, when it names one, for
// this endpoint. The artifact is taken from the store once: an unknown,
// used or expired one gets Success with no message; one issued to another
// SP gets Requester/RequestDenied and is burnt, since it has leaked. The
// error is the private cause of any refusal; with a nil element nothing
// may be answered but a SOAP fault.
func (s *SSO) ResolveArtifact(ctx context.Context, in ArtifactInbound, now time.Time) (*etree.Element, error) {
	u, sp, err := s.artifactPeek(in, now)
	if err != nil {
		return nil, err
	}
	msg, id, err := s.artifactMessage(ctx, in, u, sp, now)
	st := samlp.NewStatus(samlp.StatusSuccess, "")
	if err != nil {
		e := StatusFor(err)
		st = samlp.NewStatus(e.Top, e.Second)
		st.Message = e.Message
	}
	resp, err2 := s.artifactResponse(id, st, msg, now)
	if err2 != nil {
		return nil, err2
	}
	return resp, err
}

// artifactPeek finds the requesting SP before any check of the message.
func (s *SSO) artifactPeek(in ArtifactInbound, now time.Time) (*samlp.Unverified, *md.SPSSODescriptor, error) {
	u, err := samlp.Peek(in.Element)
	if err != nil {
		return nil, nil, Wrap(CodeInvalidRequest, err, "peek")
	}
	if u.Name != "ArtifactResolve" {
		return nil, nil, Errorf(CodeInvalidRequest, "a %s at the ArtifactResolutionService", u.Name)
	}
	if u.Issuer == nil || u.Issuer.Value == "" || u.Issuer.Format != "" && u.Issuer.Format != saml.NameIDEntity {
		return nil, nil, Errorf(CodeUnknownSP, "no entity Issuer")
	}
	sp, err := s.lookupSP(u.Issuer.Value, now)
	return u, sp, err
}

// artifactMessage authenticates the request and takes its artifact's
// message: nil with a nil error for an artifact that is not (or no
// longer) there. id is what the answer is InResponseTo.
func (s *SSO) artifactMessage(ctx context.Context, in ArtifactInbound, u *samlp.Unverified, sp *md.SPSSODescriptor, now time.Time) (*etree.Element, string, error) {
	req, err := s.artifactAuthenticate(ctx, in, u, sp, now)
	if err != nil {
		return nil, inResponseToUnverified(u, err), err
	}
	art, err := binding.ParseArtifact(req.Artifact)
	if err != nil {
		return nil, req.ID, Wrap(CodeInvalidRequest, err, "artifact")
	}
	if !art.IssuedBy(s.p.cfg.EntityID) || art.EndpointIndex != s.cfg.Artifact.Index {
		return nil, req.ID, nil // not one of ours: unknown here
	}
	msg, err := s.takeArtifact(ctx, art, u.Issuer.Value, now)
	return msg, req.ID, err
}

// inResponseToUnverified is the unverified request ID, unless the
// request was malformed (then not even its ID is trusted to be an xs:ID).
func inResponseToUnverified(u *samlp.Unverified, err error) string {
	if errors.Is(err, ErrInvalidRequest) {
		return ""
	}
	return u.ID
}

// artifactAuthenticate runs the checks of the request before its
// artifact is looked at: schema, version, the requester's signature or
// TLS client certificate, Destination, freshness and replay.
func (s *SSO) artifactAuthenticate(ctx context.Context, in ArtifactInbound, u *samlp.Unverified, sp *md.SPSSODescriptor, now time.Time) (*samlp.ArtifactResolve, error) {
	if err := s.checkSchema(u.Element); err != nil {
		return nil, err
	}
	if u.Version != saml.Version {
		return nil, Errorf(CodeVersionMismatch, "version %q", u.Version)
	}
	req, err := s.artifactVerify(in, u, sp)
	if err != nil {
		return nil, err
	}
	if req.Issuer == nil || req.Issuer.Value != u.Issuer.Value {
		return nil, Errorf(CodeRequestDenied, "verified Issuer differs from %q", u.Issuer.Value)
	}
	if req.Destination != "" && req.Destination != s.cfg.Artifact.URL {
		return nil, Errorf(CodeRequestDenied, "Destination %q, this endpoint is %q", req.Destination, s.cfg.Artifact.URL)
	}
	if err := s.checkFresh(&req.RequestHeader, now); err != nil {
		return nil, err
	}
	return req, s.checkReplay(ctx, &req.RequestHeader, now)
}

// artifactVerify authenticates the requester (SAML Bindings §3.6.5: "the
// requester MUST be authenticated"): a signature on the request must
// verify with the SP's metadata keys; an unsigned request is taken only
// over a TLS connection whose client certificate is one of those keys.
func (s *SSO) artifactVerify(in ArtifactInbound, u *samlp.Unverified, sp *md.SPSSODescriptor) (*samlp.ArtifactResolve, error) {
	if u.Signed {
		pol := xmlsec.Policy{AllowSHA1: s.quirks(u.Issuer.Value).AllowSHA1}
		req, _, err := samlp.VerifyArtifactResolve(u.Element, &dsig.Verifier{Trust: sp.TrustSet(), Policy: pol})
		if err != nil {
			return nil, signatureError(err)
		}
		return req, nil
	}
	if len(in.ClientCerts) == 0 {
		return nil, Errorf(CodeRequestDenied, "unsigned ArtifactResolve from %q without a TLS client certificate", u.Issuer.Value)
	}
	if _, err := sp.TrustSet().ByCertificate(in.ClientCerts[0].Raw); err != nil {
		return nil, Wrap(CodeRequestDenied, err, "TLS client certificate is not a metadata key of "+u.Issuer.Value)
	}
	return decodeResolve(samlp.DecodeArtifactResolve(u.Element))
}

func decodeResolve(req *samlp.ArtifactResolve, err error) (*samlp.ArtifactResolve, error) {
	if err != nil {
		return nil, Wrap(CodeInvalidRequest, err, "decode")
	}
	return req, nil
}

// takeArtifact removes the artifact from the store (atomically: of
// concurrent resolutions on any node one gets it) and returns its message
// when requester is its recipient.
func (s *SSO) takeArtifact(ctx context.Context, art *binding.Artifact, requester string, now time.Time) (*etree.Element, error) {
	a, err := s.takeDurably(ctx, artifactPrefix+art.Handle(), now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, Wrap(CodeInternal, err, "take artifact")
	}
	if faultOn(FaultArtifactReuse) {
		_ = s.cfg.Pending.PutArtifact(ctx, a)
	}
	if a.Recipient != requester && !faultOn(FaultArtifactAnySP) {
		return nil, Errorf(CodeRequestDenied, "artifact issued to %q, resolved by %q", a.Recipient, requester)
	}
	el, err := xmlsec.ParseElement(a.Message, xmlsec.Limits{})
	if err != nil {
		return nil, Wrap(CodeInternal, err, "stored message")
	}
	return el, nil
}

// artifactResponse builds the ArtifactResponse, signed (SAML Bindings
// §3.6.5 leaves it to channel security, SAML2.md §4.4 says "responder
// should sign responses": Renkei signs), and checks it against the schema.
func (s *SSO) artifactResponse(inResponseTo string, st samlp.Status, msg *etree.Element, now time.Time) (*etree.Element, error) {
	id, err := s.p.newID()
	if err != nil {
		return nil, err
	}
	r := &samlp.ArtifactResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: id, InResponseTo: inResponseTo,
		IssueInstant: now, Issuer: &saml.Issuer{Value: s.p.cfg.EntityID}, Status: st}, Message: msg}
	el := r.Element()
	if !faultOn(FaultArtifactBare) {
		el, err = samlp.Sign(r, s.signer())
		wsf.CountSignature(s.p.cfg.Meter, wsf.SigSign, err)
		if err != nil {
			return nil, Wrap(CodeInternal, err, "sign artifact response")
		}
	}
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return nil, Wrap(CodeInternal, err, "outgoing artifact response is not schema-valid")
	}
	return el, nil
}

// takeDurably takes a SAML artifact durably where the store's plain take
// is lazy (store.DurableTaker): nothing synced follows a resolution, and a
// take lost to a power cut would let the artifact resolve twice.
func (s *SSO) takeDurably(ctx context.Context, handle string, now time.Time) (store.Artifact, error) {
	if d, ok := s.cfg.Pending.(store.DurableTaker); ok {
		return d.TakeArtifactDurable(ctx, handle, now)
	}
	return s.cfg.Pending.TakeArtifact(ctx, handle, now)
}
