package conformance

import (
	"context"
	"strings"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// artifactCases are the cases of the Web SSO profile with the Response
// sent by HTTP-Artifact and of artifact resolution over SOAP (SAML
// Profiles §4.1.3.5, §5; SAML Bindings §3.6): the suite plays an SP that
// resolves the artifacts itself.
func artifactCases() []Case {
	return []Case{
		{ID: "SAML2-Bind-3.6/artifact-response", Clause: "SAML Bindings §3.6.3, §3.6.4; SAML Profiles §4.1.3.5", Row: rowArtifact, Positive: true,
			Summary: "Asked for HTTP-Artifact, the IdP redirects to our artifact ACS with a type 0x0004 artifact (its SourceID, an ArtifactResolutionService index) and the RelayState; resolved, it gives our Response with a signed assertion.",
			Run:     runArtifactResponse},
		{ID: "SAML2-Bind-3.6.5/artifact-response-signed", Clause: "SAML Bindings §3.6.5, §3.2.2; SAML Core §5.4", Row: rowResolution, Positive: true,
			Summary: "The ArtifactResponse is signed with a metadata key of the IdP. SAML Bindings §3.2.2 lets TLS authenticate the responder instead: unsigned over https is a SHOULD failure, unsigned over plain http a MUST failure (nothing authenticates it).",
			Run:     runArtifactSigned},
		{ID: "SAML2-Bind-3.6.4/artifact-one-time", Clause: "SAML Bindings §3.6.4, §3.6.5; SAML Core §3.5.3 (an artifact is resolved at most once)", Row: rowResolution,
			Summary: "An artifact resolves once: a second ArtifactResolve of the same artifact gets no message.",
			Run:     runArtifactOneTime},
		{ID: "SAML2-Bind-3.6.5/artifact-other-requester", Clause: "SAML Bindings §3.6.5; SAML Core §3.5.1", Row: rowResolution,
			Summary: "Another registered SP, authenticated, cannot resolve an artifact issued to ours.",
			Run:     runArtifactOtherRequester},
		{ID: "SAML2-Bind-3.6.5/artifact-unauthenticated", Clause: "SAML Bindings §3.6.5", Row: rowResolution,
			Summary: "An ArtifactResolve neither signed nor sent with a client certificate gets no message.",
			Run:     runArtifactUnauthenticated},
		{ID: "SAML2-Core-3.4.1/unsupported-binding", Clause: "SAML Core §3.4.1, §3.2.2.2; SAML Profiles §4.1.2, §4.1.3.5", Row: rowArtifact,
			Summary: "Asked to answer by HTTP-Redirect, which the Web SSO profile does not allow for a Response, the IdP never answers Success by another binding (MUST); a Requester/UnsupportedBinding Response is a SHOULD, an error page a conformant refusal.",
			Run:     runUnsupportedBinding},
	}
}

func runArtifactResponse(ctx context.Context, e *Env) Outcome {
	ax, _, ar, o := e.artifactResolved(ctx)
	if o != nil {
		return *o
	}
	if !ar.Status.Success() || ar.Message == nil {
		return failed("resolving a fresh artifact gave status %s and %v message", artifactStatus(ar), ar.Message != nil)
	}
	h, err := samlp.PeekResponse(ar.Message)
	if err != nil {
		return failed("the resolved message is not a samlp:Response: %v", err)
	}
	r, a, err := e.success(&exchange{Request: ax.Request, Response: ar.Message, Header: h})
	if err != nil {
		return outcomeOf(err)
	}
	switch {
	case r.InResponseTo != ax.Request.ID:
		return failed("the resolved Response is InResponseTo %q, not our request %q", r.InResponseTo, ax.Request.ID)
	case r.Destination != "" && r.Destination != e.SP.ArtifactACS():
		return failed("the resolved Response names Destination %q, not our artifact ACS", r.Destination)
	}
	return passed("artifact at %s resolved at %s to a Response with assertion %s", e.SP.ArtifactACS(), ax.Resolver, a.ID)
}

func runArtifactSigned(ctx context.Context, e *Env) Outcome {
	ax, _, ar, o := e.artifactResolved(ctx)
	if o != nil {
		return *o
	}
	if !ar.Signed {
		if strings.HasPrefix(strings.ToLower(ax.Resolver), "https://") {
			return failedAt(LevelShould, "the ArtifactResponse is not signed: only TLS authenticates the IdP at %s (SAML Bindings §3.2.2 allows it; a signature is recommended)", ax.Resolver)
		}
		return failed("the ArtifactResponse is not signed and came over plain http from %s: nothing binds it to the IdP (SAML Bindings §3.2.2)", ax.Resolver)
	}
	return passed("the ArtifactResponse is signed by a metadata key of the IdP")
}

func runArtifactOneTime(ctx context.Context, e *Env) Outcome {
	ax, _, ar, o := e.artifactResolved(ctx)
	if o != nil {
		return *o
	}
	if ar.Message == nil {
		return failed("the first resolution gave no message (status %s)", artifactStatus(ar))
	}
	el, o := e.resolve(ctx, ax, resolveOpts{})
	if o != nil {
		return *o
	}
	r, o := e.noMessage(el, "the second resolution of the same artifact")
	if o != nil {
		return *o
	}
	return passed("the second resolution gave status %s and no message", artifactStatus(r))
}

func runArtifactOtherRequester(ctx context.Context, e *Env) Outcome {
	if e.Other == nil {
		return notApplicable("no second SP is registered at the IdP")
	}
	ax, o := e.artifactLogin(ctx)
	if o != nil {
		return *o
	}
	el, o := e.resolve(ctx, ax, resolveOpts{as: e.Other})
	if o != nil {
		return *o
	}
	r, o := e.noMessage(el, "another SP resolving our artifact")
	if o != nil {
		return *o
	}
	return passed("another SP's resolution gave status %s and no message", artifactStatus(r))
}

func runArtifactUnauthenticated(ctx context.Context, e *Env) Outcome {
	ax, o := e.artifactLogin(ctx)
	if o != nil {
		return *o
	}
	el, o := e.resolve(ctx, ax, resolveOpts{unsigned: true})
	if o != nil {
		if o.Verdict == Fail && o.Side == SideTarget && serverTrouble(ax.Status) {
			return broken("the ArtifactResolutionService answered HTTP %d, a server error or a missing endpoint and not a refusal: the case cannot judge the resolution", ax.Status)
		}
		if o.Verdict == Fail && o.Side == SideTarget {
			return passed("refused without an ArtifactResponse: %s", o.Reason)
		}
		return *o
	}
	r, o := e.noMessage(el, "an unauthenticated ArtifactResolve")
	if o != nil {
		return *o
	}
	return passed("the unauthenticated resolution gave status %s and no message", artifactStatus(r))
}

func runUnsupportedBinding(ctx context.Context, e *Env) Outcome {
	dest, err := e.ssoEndpoint(md.BindingHTTPRedirect)
	if err != nil {
		return failed("%v", err)
	}
	req := e.authnRequest(dest)
	req.AssertionConsumerServiceURL, req.ProtocolBinding = "", md.BindingHTTPRedirect
	x, err := e.sendRedirect(ctx, req, redirectOpts{})
	if err != nil {
		return outcomeOf(err)
	}
	if x.Response == nil {
		// An error page is a refusal; the error Response is a SHOULD.
		return failedAt(LevelShould, "refused without an error Response: %s (SAML Core §3.4.1: Requester/UnsupportedBinding is expected)", x.describe())
	}
	top, second, err := x.status()
	switch {
	case err != nil:
		return outcomeOf(err)
	case top == samlp.StatusSuccess:
		return failed("asked for HTTP-Redirect, the IdP sent a Success Response by another binding instead of refusing")
	case second != samlp.StatusUnsupportedBinding:
		return failedAt(LevelShould, "refused with status %s %s, want second-level %s", top, second, samlp.StatusUnsupportedBinding)
	}
	return passed("refused with %s %s", top, second)
}
