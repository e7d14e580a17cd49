package idp

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// Inbound is an AuthnRequest as a binding delivered it, not yet trusted.
type Inbound struct {
	// Binding is samlp.BindingHTTPRedirect, BindingHTTPPOST or BindingSOAP.
	Binding string
	// Redirect is the decoded query of the HTTP-Redirect binding.
	Redirect *binding.RedirectMessage
	// Element is the message of the POST and SOAP bindings.
	Element    *etree.Element
	RelayState string

	// admit, when set, is called once the request is verified (known SP,
	// schema, version, signature, Destination, freshness: SAML2.md §3.1)
	// and before its ID is written to the replay cache; an error refuses
	// the request, which then wrote nothing, and undo is called when the
	// replay check refuses it (nothing written either). The HTTP adapter
	// takes the request's slot of its AuthnLimits here, so that a request
	// refused by those checks holds none.
	admit func() (undo func(), err error)
}

func (in Inbound) unverified() *etree.Element {
	if in.Redirect != nil {
		return in.Redirect.Unverified()
	}
	return in.Element
}

// Pending is an AuthnRequest that passed every check of SAML2.md §3.1: what
// the response needs, kept in the store while the user logs in.
type Pending struct {
	SP         string `json:"sp"`
	ACS        string `json:"acs"`
	ACSBinding string `json:"acsBinding"`
	RequestID  string `json:"id,omitempty"` // "" for IdP-initiated SSO
	RelayState string `json:"relayState,omitempty"`

	NameIDFormat string   `json:"nameIDFormat,omitempty"`
	AllowCreate  bool     `json:"allowCreate"`
	ForceAuthn   bool     `json:"forceAuthn,omitempty"`
	IsPassive    bool     `json:"isPassive,omitempty"`
	Comparison   string   `json:"comparison,omitempty"`
	ClassRefs    []string `json:"classRefs,omitempty"`
	ECP          bool     `json:"ecp,omitempty"`
	// Subject is the NameID of the request's saml:Subject: the assertion
	// must be about that principal (SAML Core §3.4.1.4; checkSubject).
	Subject *saml.NameID `json:"subject,omitempty"`
}

// Accept checks an AuthnRequest (SAML2.md §3.1) and returns what it asks
// for. On failure the Pending, when not nil, says where a signed error
// Response may safely go (an ACS from the SP's metadata); when it is nil,
// or StatusFor(err).SendNothing, only an error page may be shown.
func (s *SSO) Accept(ctx context.Context, in Inbound, now time.Time) (*Pending, error) {
	el := in.unverified()
	u, err := peekIssuer(el)
	if err != nil {
		return nil, err
	}
	sp, err := s.lookupSP(u.Issuer.Value, now)
	if err != nil {
		return nil, err
	}
	acs, err := s.resolveACS(u.Issuer.Value, sp, acsAttrs(el), in.Binding)
	if errors.Is(err, ErrUnsupportedBinding) {
		return s.refuseBinding(ctx, in, sp, u, err, now)
	}
	if err != nil {
		return nil, err
	}
	pend := &Pending{SP: u.Issuer.Value, ACS: acs.Location, ACSBinding: acs.Binding, RequestID: u.ID,
		RelayState: in.RelayState, ECP: in.Binding == samlp.BindingSOAP}
	if pend.ECP {
		pend.RelayState = ""
	}
	req, err := s.checkRequest(ctx, in, sp, u, now)
	if errors.Is(err, ErrInvalidRequest) {
		pend.RequestID = "" // not even its ID can be trusted to be an xs:ID
	}
	if err != nil {
		return pend, err
	}
	if err := s.sameACS(u.Issuer.Value, sp, req, in.Binding, pend); err != nil {
		return nil, err
	}
	return pend, s.fill(pend, req)
}

// sameACS resolves the ACS again from the verified request: only what was
// verified is used, and it must name the endpoint chosen before.
func (s *SSO) sameACS(spID string, sp *md.SPSSODescriptor, req *samlp.AuthnRequest, reqBinding string, pend *Pending) error {
	ep, err := s.resolveACS(spID, sp, acsRequest{URL: req.AssertionConsumerServiceURL, Binding: req.ProtocolBinding,
		Index: req.AssertionConsumerServiceIndex}, reqBinding)
	if err != nil {
		return err
	}
	if ep.Location != pend.ACS || ep.Binding != pend.ACSBinding {
		return Errorf(CodeACSNotInMetadata, "verified request names ACS %q, not %q", ep.Location, pend.ACS)
	}
	return nil
}

// checkRequest runs the steps between the key lookup and the use of the
// request: schema, version, signature, Destination, freshness, then
// in.admit and replay.
func (s *SSO) checkRequest(ctx context.Context, in Inbound, sp *md.SPSSODescriptor, u *samlp.Unverified, now time.Time) (*samlp.AuthnRequest, error) {
	if err := s.checkSchema(u.Element); err != nil {
		return nil, err
	}
	if u.Version != saml.Version {
		return nil, Errorf(CodeVersionMismatch, "version %q", u.Version)
	}
	req, err := s.authenticate(in, sp, u)
	if err != nil {
		return nil, err
	}
	if err := s.checkDestination(req, in.Binding); err != nil {
		return nil, err
	}
	if err := s.checkFresh(&req.RequestHeader, now); err != nil {
		return nil, err
	}
	undo := func() {}
	if in.admit != nil {
		if undo, err = in.admit(); err != nil {
			return nil, err
		}
	}
	if err := s.checkReplay(ctx, &req.RequestHeader, now); err != nil {
		undo()
		return nil, err
	}
	return req, nil
}

// peekIssuer reads the unverified header for the key lookup: an
// AuthnRequest with an entity Issuer (SAML2.md §3.1 item 1).
func peekIssuer(el *etree.Element) (*samlp.Unverified, error) {
	u, err := samlp.Peek(el)
	if err != nil {
		return nil, Wrap(CodeInvalidRequest, err, "peek")
	}
	if u.Name != "AuthnRequest" {
		return nil, Errorf(CodeInvalidRequest, "a %s, not an AuthnRequest", u.Name)
	}
	if u.Issuer == nil || u.Issuer.Value == "" || u.Issuer.Format != "" && u.Issuer.Format != saml.NameIDEntity {
		return nil, Errorf(CodeUnknownSP, "no entity Issuer")
	}
	return u, nil
}

// lookupSP finds the SP's SAML 2.0 role in the metadata.
func (s *SSO) lookupSP(entityID string, now time.Time) (*md.SPSSODescriptor, error) {
	e, err := s.cfg.Metadata.Entity(entityID, now)
	if err != nil {
		return nil, Wrap(CodeUnknownSP, err, entityID)
	}
	sp, err := e.SP()
	if err != nil {
		return nil, Wrap(CodeUnknownSP, err, entityID)
	}
	return sp, nil
}

// acsRequest is how a request names its ACS (SAML Core §3.4.1).
type acsRequest struct {
	URL, Binding string
	Index        *uint16
}

// acsAttrs reads the ACS attributes of the unverified element; the result
// is only ever matched against the metadata.
func acsAttrs(el *etree.Element) acsRequest {
	r := acsRequest{URL: el.SelectAttrValue("AssertionConsumerServiceURL", ""),
		Binding: el.SelectAttrValue("ProtocolBinding", "")}
	if v := el.SelectAttr("AssertionConsumerServiceIndex"); v != nil {
		if n, err := strconv.ParseUint(v.Value, 10, 16); err == nil {
			i := uint16(n)
			r.Index = &i
		} else {
			r.Index = new(uint16)
			*r.Index = 65535 // unparsable: never a listed index by accident
			r.URL = "\x00"
		}
	}
	return r
}

// offeredBindings are the bindings the response may go back with, the
// preferred first: PAOS for ECP; HTTP-POST for the browser bindings, and
// HTTP-Artifact when the ArtifactResolutionService is configured.
func (s *SSO) offeredBindings(requestBinding string) []string {
	switch {
	case requestBinding == samlp.BindingSOAP:
		return []string{samlp.BindingPAOS}
	case s.cfg.Artifact.URL != "":
		return []string{samlp.BindingHTTPPOST, samlp.BindingHTTPArtifact}
	}
	return []string{samlp.BindingHTTPPOST}
}

// resolveACS picks the ACS of SAML2.md §3.1 item 4: the URL must be listed
// exactly (with the binding), or the index, or the default; an ACS not in
// metadata or not an https URL is ErrACSNotInMetadata, and a listed http
// one ErrACSNotHTTPS unless the SP's quirks allow http; each is answered
// by a page. A binding the IdP does not offer, named by ProtocolBinding or
// by the indexed ACS, is ErrUnsupportedBinding (SAML Core §3.4.1): the
// response never goes by another binding than the one asked for (see
// unsupportedBinding for where that refusal goes).
func (s *SSO) resolveACS(spID string, sp *md.SPSSODescriptor, r acsRequest, reqBinding string) (*md.IndexedEndpoint, error) {
	offered := s.offeredBindings(reqBinding)
	if r.Binding != "" && !slices.Contains(offered, r.Binding) {
		return nil, Errorf(CodeUnsupportedBinding, "ProtocolBinding %q, this IdP answers by %v", r.Binding, offered)
	}
	var ep *md.IndexedEndpoint
	var err error
	switch {
	case r.Index != nil:
		ep, err = sp.AssertionConsumerServiceByIndex(*r.Index)
	case r.URL != "":
		ep, err = byLocation(sp, r.URL, bindingsOr(r.Binding, offered))
		if err != nil && faultOn(FaultIgnoreACS) {
			return &md.IndexedEndpoint{Endpoint: md.Endpoint{Binding: offered[0], Location: r.URL}}, nil
		}
	default:
		ep, err = defaultACS(sp, bindingsOr(r.Binding, offered))
	}
	if err != nil {
		return nil, Wrap(CodeACSNotInMetadata, err, "ACS")
	}
	if !slices.Contains(offered, ep.Binding) || r.Binding != "" && ep.Binding != r.Binding {
		return nil, Errorf(CodeUnsupportedBinding, "ACS binding %q, ProtocolBinding %q, this IdP answers by %v", ep.Binding, r.Binding, offered)
	}
	return ep, s.checkACSURL(spID, ep.Location)
}

// checkACSURL refuses a listed ACS that is not an absolute https URL: an
// http one (its metadata lists it, but the IdP sends only to https) unless
// the SP's AllowHTTPACS quirk lifts that for a test lab, anything else
// (javascript:, data:, relative) always.
func (s *SSO) checkACSURL(spID, loc string) error {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.Opaque != "" {
		return safeURL(loc)
	}
	if s.quirks(spID).AllowHTTPACS {
		return nil
	}
	return Errorf(CodeACSNotHTTPS, "ACS %q of %q is in its metadata but is http, and the IdP sends only to https "+
		"(the SP's allowHTTPACS quirk allows http, for test labs)", loc, spID)
}

// bindingsOr is the one binding asked for, or every binding offered.
func bindingsOr(asked string, offered []string) []string {
	if asked != "" {
		return []string{asked}
	}
	return offered
}

// byLocation is the ACS at loc with the first of bindings that lists it.
func byLocation(sp *md.SPSSODescriptor, loc string, bindings []string) (*md.IndexedEndpoint, error) {
	var err error
	for _, b := range bindings {
		var ep *md.IndexedEndpoint
		if ep, err = sp.AssertionConsumerServiceByLocation(loc, b); err == nil {
			return ep, nil
		}
	}
	return nil, err
}

// defaultACS is the SP's default ACS among those of bindings: one marked
// isDefault, else the default of the first binding that has any.
func defaultACS(sp *md.SPSSODescriptor, bindings []string) (*md.IndexedEndpoint, error) {
	for i, e := range sp.AssertionConsumer {
		if e.IsDefault != nil && *e.IsDefault && slices.Contains(bindings, e.Binding) {
			return &sp.AssertionConsumer[i], nil
		}
	}
	var err error
	for _, b := range bindings {
		var eps []md.IndexedEndpoint
		for _, e := range sp.AssertionConsumer {
			if e.Binding == b {
				eps = append(eps, e)
			}
		}
		var ep *md.IndexedEndpoint
		if ep, err = md.DefaultEndpoint(eps); err == nil {
			return ep, nil
		}
	}
	return nil, err
}

// unsupportedBinding is where the refusal of a binding the IdP does not
// offer goes (SAML Core §3.4.1: the IdP answers with an error Response,
// Requester/UnsupportedBinding, rather than switching binding silently):
// the SP's default ACS among the offered bindings, or nil when it has
// none, and then only a page may be shown.
func (s *SSO) unsupportedBinding(sp *md.SPSSODescriptor, u *samlp.Unverified, in Inbound) *Pending {
	ep, err := defaultACS(sp, s.offeredBindings(in.Binding))
	if err != nil || safeURL(ep.Location) != nil {
		return nil
	}
	pend := &Pending{SP: u.Issuer.Value, ACS: ep.Location, ACSBinding: ep.Binding, RequestID: u.ID, RelayState: in.RelayState,
		ECP: in.Binding == samlp.BindingSOAP}
	if pend.ECP {
		pend.RelayState = ""
	}
	return pend
}

// refuseBinding answers a request for a binding the IdP does not offer:
// the request is checked as any other (a failure of those checks is what
// the SP hears), then refused with ErrUnsupportedBinding at the ACS
// unsupportedBinding picks.
func (s *SSO) refuseBinding(ctx context.Context, in Inbound, sp *md.SPSSODescriptor, u *samlp.Unverified, cause error, now time.Time) (*Pending, error) {
	pend := s.unsupportedBinding(sp, u, in)
	if pend == nil {
		return nil, cause
	}
	_, err := s.checkRequest(ctx, in, sp, u, now)
	if errors.Is(err, ErrInvalidRequest) {
		pend.RequestID = ""
	}
	if err != nil {
		return pend, err
	}
	return pend, cause
}

// safeURL refuses anything but an absolute https URL: no javascript:,
// data: or relative location can become a form action.
func safeURL(loc string) error {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return Errorf(CodeACSNotInMetadata, "ACS %q is not an https URL", loc)
	}
	return nil
}

func (s *SSO) checkSchema(el *etree.Element) error {
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return Wrap(CodeInvalidRequest, err, "schema")
	}
	return nil
}

// authenticate checks the signature when there is one, or when the IdP's
// WantAuthnRequestsSigned or the SP's AuthnRequestsSigned requires one
// (SAML2.md §3.1 item 2), and decodes only what was verified. SHA-1 is
// refused unless the SP's quirks allow it.
func (s *SSO) authenticate(in Inbound, sp *md.SPSSODescriptor, u *samlp.Unverified) (*samlp.AuthnRequest, error) {
	required := s.cfg.WantAuthnRequestsSigned || sp.AuthnRequestsSigned
	pol := xmlsec.Policy{AllowSHA1: s.quirks(u.Issuer.Value).AllowSHA1}
	if faultOn(FaultSkipSignature) {
		return skipSignature(in, u)
	}
	if in.Redirect != nil {
		return authenticateRedirect(in.Redirect, sp, pol, required)
	}
	if !u.Signed {
		if required {
			return nil, Errorf(CodeRequestDenied, "unsigned request from %q, which must sign", u.Issuer.Value)
		}
		return decodeRequest(samlp.DecodeAuthnRequest(u.Element))
	}
	req, _, err := samlp.VerifyAuthnRequest(u.Element, &dsig.Verifier{Trust: sp.TrustSet(), Policy: pol})
	if err != nil {
		return nil, signatureError(err)
	}
	return req, nil
}

// skipSignature is FaultSkipSignature: the request is decoded without any
// signature check.
func skipSignature(in Inbound, u *samlp.Unverified) (*samlp.AuthnRequest, error) {
	if in.Redirect != nil {
		return decodeRequest(samlp.DecodeAuthnRequest(in.Redirect.Unverified()))
	}
	return decodeRequest(samlp.DecodeAuthnRequest(u.Element))
}

func authenticateRedirect(m *binding.RedirectMessage, sp *md.SPSSODescriptor, pol xmlsec.Policy, required bool) (*samlp.AuthnRequest, error) {
	if !m.Signed() {
		if required {
			return nil, Errorf(CodeRequestDenied, "unsigned Redirect request from an SP that must sign")
		}
		el, err := m.UnsignedElement()
		if err != nil {
			return nil, Wrap(CodeInvalidRequest, err, "redirect")
		}
		return decodeRequest(samlp.DecodeAuthnRequest(el))
	}
	el, _, err := m.Verify(sp.TrustSet(), pol)
	if err != nil {
		return nil, signatureError(err)
	}
	req, err := decodeRequest(samlp.DecodeAuthnRequest(el))
	if req != nil {
		req.Signed = true
	}
	return req, err
}

func signatureError(err error) error {
	var pe *samlp.Error
	if errors.As(err, &pe) {
		return Wrap(CodeInvalidRequest, err, "decode")
	}
	if errors.Is(err, saml.ErrVersion) {
		return Wrap(CodeVersionMismatch, err, "decode")
	}
	return Wrap(CodeRequestDenied, err, "signature")
}

func decodeRequest(req *samlp.AuthnRequest, err error) (*samlp.AuthnRequest, error) {
	switch {
	case errors.Is(err, saml.ErrVersion):
		return nil, Wrap(CodeVersionMismatch, err, "decode")
	case err != nil:
		return nil, Wrap(CodeInvalidRequest, err, "decode")
	}
	return req, nil
}

// checkDestination enforces SAML Bindings §3.4.5.2 and §3.5.5.2: a signed
// request carries the Destination it was sent to; any Destination must be
// the endpoint that received it.
func (s *SSO) checkDestination(req *samlp.AuthnRequest, reqBinding string) error {
	want := s.cfg.SSOURL
	if reqBinding == samlp.BindingSOAP {
		want = s.cfg.ECPURL
	}
	switch {
	case req.Destination == "" && req.Signed && reqBinding != samlp.BindingSOAP:
		return Errorf(CodeRequestDenied, "signed request without Destination")
	case req.Destination != "" && req.Destination != want:
		return Errorf(CodeRequestDenied, "Destination %q, this endpoint is %q", req.Destination, want)
	}
	return nil
}

// checkFresh refuses a request (AuthnRequest, LogoutRequest,
// ManageNameIDRequest) whose IssueInstant is further than the skew from
// now (SAML2.md §2).
func (s *SSO) checkFresh(h *samlp.RequestHeader, now time.Time) error {
	d := now.Sub(h.IssueInstant)
	if (d > s.cfg.Skew || -d > s.cfg.Skew) && !faultOn(FaultAcceptStale) {
		return Errorf(CodeRequestDenied, "IssueInstant %s is %v from now", h.IssueInstant.Format(time.RFC3339), d)
	}
	return nil
}

// checkReplay records the request ID for as long as checkFresh would
// accept the request, and at least a skew past now: a second use is
// refused. (The floor matters only for a request checkFresh let through
// although its IssueInstant is further back than the skew; the store refuses
// an entry that has already expired.)
func (s *SSO) checkReplay(ctx context.Context, h *samlp.RequestHeader, now time.Time) error {
	if faultOn(FaultAcceptReplay) {
		return nil
	}
	key := store.NewReplayKey(store.ReplayRequestID, h.Issuer.Value, h.ID)
	until := h.IssueInstant.Add(2*s.cfg.Skew + time.Second)
	if floor := now.Add(s.cfg.Skew); until.Before(floor) {
		until = floor
	}
	err := s.cfg.Replay.CheckAndInsert(ctx, key, until, now)
	switch {
	case errors.Is(err, store.ErrReplay):
		return Wrap(CodeRequestDenied, err, "replayed request ID "+h.ID)
	case err != nil:
		return Wrap(CodeInternal, err, "replay cache")
	}
	return nil
}

// fill copies what the verified request asks for into pend, refusing a
// NameIDPolicy or an authentication context that cannot be met, a
// Subject that cannot be read, and a NameIDPolicy whose format is not the
// Subject's (SAML Core §3.4.1.4: the Subject's NameID is the one issued).
func (s *SSO) fill(pend *Pending, req *samlp.AuthnRequest) error {
	pend.ForceAuthn, pend.IsPassive, pend.AllowCreate = req.ForceAuthn, req.IsPassive, true
	subject, err := s.requestedSubject(req.Subject)
	if err != nil {
		return err
	}
	pend.Subject = subject
	if np := req.NameIDPolicy; np != nil {
		pend.NameIDFormat, pend.AllowCreate = np.Format, np.AllowCreate
		if np.SPNameQualifier != "" && np.SPNameQualifier != pend.SP {
			return Errorf(CodeInvalidNameIDPolicy, "SPNameQualifier %q: no affiliations", np.SPNameQualifier)
		}
	}
	switch pend.NameIDFormat {
	case "", saml.NameIDUnspecified, saml.NameIDPersistent, saml.NameIDTransient:
	default:
		return Errorf(CodeUnsupportedNameIDFormat, "format %q", pend.NameIDFormat)
	}
	if policyConflicts(pend) {
		return Errorf(CodeInvalidNameIDPolicy, "NameIDPolicy format %q, Subject of format %q", pend.NameIDFormat, pend.Subject.Format)
	}
	if rac := req.RequestedAuthnContext; rac != nil {
		if len(rac.DeclRefs) > 0 {
			return Errorf(CodeNoAuthnContext, "declaration references are not supported")
		}
		pend.Comparison, pend.ClassRefs = rac.Comparison, rac.ClassRefs
		if !pend.satisfiable() {
			return Errorf(CodeNoAuthnContext, "%s of %v", pend.Comparison, pend.ClassRefs)
		}
	}
	return nil
}

// Unsolicited starts IdP-initiated SSO at sp (SAML2.md §3.4), only for an
// SP the configuration lists: the response goes to its default ACS with
// a persistent NameID.
func (s *SSO) Unsolicited(sp, relayState string, now time.Time) (*Pending, error) {
	if !s.allowsIdPInitiated(sp) {
		return nil, Errorf(CodeUnknownSP, "IdP-initiated SSO is not enabled for %q", sp)
	}
	if len(relayState) > binding.MaxRelayState {
		return nil, Errorf(CodeInvalidRequest, "RelayState of %d bytes", len(relayState))
	}
	d, err := s.lookupSP(sp, now)
	if err != nil {
		return nil, err
	}
	acs, err := s.resolveACS(sp, d, acsRequest{}, samlp.BindingHTTPPOST)
	if err != nil {
		return nil, err
	}
	return &Pending{SP: sp, ACS: acs.Location, ACSBinding: acs.Binding, RelayState: relayState, AllowCreate: true}, nil
}
