package idp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec"
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

// ResolveArtifact answers an ArtifactResolve (SAML Core §3.5; SAML
// Bindings §3.6.5) with a signed ArtifactResponse, through the pipeline
// of the SOAP queries (query.go). The requester must be an SP of the
// metadata, authenticated by its signature on the request or by its TLS
// client certificate, either against its metadata keys; the request is
// schema-valid, fresh, not replayed and, when it names one, for this
// endpoint. The artifact is taken from the store once: an unknown, used
// or expired one gets Success with no message; one issued to another SP
// gets Requester/RequestDenied and is burnt, since it has leaked. The
// error is the private cause of any refusal; with a nil element nothing
// may be answered but a SOAP fault.
func (s *SSO) ResolveArtifact(ctx context.Context, in QueryInbound, now time.Time) (*etree.Element, error) {
	u, sp, err := s.queryPeek(in, "ArtifactResolve", now)
	if err != nil {
		return nil, err
	}
	msg, id, err := s.artifactMessage(ctx, in, u, sp, now)
	resp, err2 := s.artifactResponse(answerTo(u, id, err), statusOf(err), msg, now)
	if err2 != nil {
		return nil, err2
	}
	return resp, err
}

// artifactMessage authenticates the request and takes its artifact's
// message: nil with a nil error for an artifact that is not (or no
// longer) there. id is the authenticated request's ID ("" when it was
// not authenticated).
func (s *SSO) artifactMessage(ctx context.Context, in QueryInbound, u *samlp.Unverified, sp *md.SPSSODescriptor, now time.Time) (*etree.Element, string, error) {
	req, err := s.artifactAuthenticate(ctx, in, u, sp, now)
	if err != nil {
		return nil, "", err
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

// artifactAuthenticate authenticates the requester (SAML Bindings §3.6.5:
// "the requester MUST be authenticated"; queryAuthentic) and checks the
// request before its artifact is looked at: Issuer, Destination,
// freshness and replay (checkQueryHeader).
func (s *SSO) artifactAuthenticate(ctx context.Context, in QueryInbound, u *samlp.Unverified, sp *md.SPSSODescriptor, now time.Time) (*samlp.ArtifactResolve, error) {
	el, err := s.queryAuthentic(in, u, sp)
	if err != nil {
		return nil, err
	}
	req, err := samlp.DecodeArtifactResolve(el)
	if err != nil {
		return nil, decodeError(err)
	}
	return req, s.checkQueryHeader(ctx, &req.RequestHeader, u, s.cfg.Artifact.URL, now)
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
// §3.6.5 leaves it to channel security; Renkei signs every answer) and
// checked against the schema.
func (s *SSO) artifactResponse(inResponseTo string, st samlp.Status, msg *etree.Element, now time.Time) (*etree.Element, error) {
	id, err := s.p.newID()
	if err != nil {
		return nil, err
	}
	r := &samlp.ArtifactResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: id, InResponseTo: inResponseTo,
		IssueInstant: now, Issuer: &saml.Issuer{Value: s.p.cfg.EntityID}, Status: st}, Message: msg}
	if faultOn(FaultArtifactBare) {
		return r.Element(), nil
	}
	return s.signChecked(r, "artifact response")
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
