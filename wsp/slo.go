package wsp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/kinderr"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// Defaults of the zero SLOConfig fields.
const (
	// DefaultSLOMaxBody bounds a LogoutRequest's SOAP envelope: a
	// LogoutRequest is a few kilobytes.
	DefaultSLOMaxBody = 64 << 10
	// DefaultSLOSkew is the clock skew allowed either way.
	DefaultSLOSkew = 3 * time.Minute
	// DefaultRequestLifetime is how old a LogoutRequest may be.
	DefaultRequestLifetime = 5 * time.Minute
	// DefaultEndedLifetime is how long an ended SessionIndex is kept: at
	// least as long as any token the DS mints can live (the DS's default
	// is 10 minutes; a bootstrap at most the IdP session).
	DefaultEndedLifetime = 12 * time.Hour
)

// SLOConfig configures the WSP's SOAP SingleLogoutService.
type SLOConfig struct {
	// EntityID is the WSP's entityID, the Issuer of its LogoutResponses.
	EntityID string
	// IdP is the entityID of the IdP whose LogoutRequests are accepted.
	IdP string
	// URL is the SingleLogoutService's location, the Destination a
	// LogoutRequest may name.
	URL string
	// IdPKeys returns the signing keys the metadata lists for the IdP's
	// IDPSSODescriptor now; a request signed by any other key is refused.
	IdPKeys func(ctx context.Context, entityID string, now time.Time) (*xmlsec.TrustSet, error)
	// Signer signs the LogoutResponses with the institution's metadata key.
	Signer *dsig.Signer
	// Store is the WSP's own store: the IDs of the LogoutRequests seen and
	// the SessionIndexes they ended.
	Store store.ReplayCache
	// Schema checks every request and response (xmlsec/xsd).
	Schema interface {
		ValidateElement(el *etree.Element) error
	}
	// MaxBody, Skew, RequestLifetime and EndedLifetime: 0 means the
	// defaults. EndedLifetime must outlast every token the WSP accepts.
	MaxBody         int
	Skew            time.Duration
	RequestLifetime time.Duration
	EndedLifetime   time.Duration
	Now             func() time.Time
	Rand            io.Reader
}

// SLO is the WSP's SOAP SingleLogoutService (SAML Profiles §4.4.3.4,
// §4.4.4; SAML Bindings §3.2): the WSP participates in the IdP sessions of
// the tokens the DS minted for it, and a LogoutRequest of the IdP ends
// them. It is also the secmech.EndedSessions its receiver consults. It is
// safe for concurrent use.
type SLO struct {
	cfg SLOConfig
}

var _ secmech.EndedSessions = (*SLO)(nil)

// NewSLO checks cfg and returns the service; every problem at once.
func NewSLO(cfg SLOConfig) (*SLO, error) {
	var errs []error
	if cfg.EntityID == "" || cfg.IdP == "" || cfg.URL == "" {
		errs = append(errs, errors.New("wsp slo: EntityID, IdP and URL are required"))
	}
	if cfg.IdPKeys == nil || cfg.Signer == nil || cfg.Store == nil || cfg.Schema == nil {
		errs = append(errs, errors.New("wsp slo: IdPKeys, Signer, Store and Schema are required"))
	}
	for name, d := range map[string]time.Duration{"Skew": cfg.Skew, "RequestLifetime": cfg.RequestLifetime,
		"EndedLifetime": cfg.EndedLifetime} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("wsp slo: %s %v is negative", name, d))
		}
	}
	if cfg.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("wsp slo: MaxBody %d is negative", cfg.MaxBody))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.MaxBody = orDefault(cfg.MaxBody, DefaultSLOMaxBody)
	cfg.Skew = orDefault(cfg.Skew, DefaultSLOSkew)
	cfg.RequestLifetime = orDefault(cfg.RequestLifetime, DefaultRequestLifetime)
	cfg.EndedLifetime = orDefault(cfg.EndedLifetime, DefaultEndedLifetime)
	return &SLO{cfg: cfg}, nil
}

func orDefault[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}

// MaxBody is the largest envelope accepted, for the HTTP adapter's bound.
func (s *SLO) MaxBody() int { return s.cfg.MaxBody }

// Logout is a LogoutRequest of the IdP that the WSP honoured.
type Logout struct {
	RequestID      string
	SessionIndexes []string
}

// SOAPReply is the answer to send: a SOAP envelope with HTTP 200, or with
// HTTP 500 when Fault is set (SAML Bindings §3.2.3.3: a SOAP fault only
// when no SAML answer can be given). Logout is set when sessions ended.
type SOAPReply struct {
	Envelope []byte
	Fault    bool
	Logout   *Logout
}

// Receive answers the SOAP body of a LogoutRequest. The request must be
// a SOAP 1.1 envelope of at most MaxBody bytes with no header block that
// must be understood, schema-valid, issued by the IdP and signed by a
// signing key of its metadata (SHA-1 refused); a request that fails there
// cannot be answered with a SAML message and gets a SOAP fault. An
// authenticated request is then checked (checkLogout) and answered with a
// LogoutResponse signed by the WSP: Success once its SessionIndexes are
// recorded as ended, else the status of the failure (LogoutStatus). A
// refused request records nothing. The error says why a request was
// refused, for the log; the reply is nil only when the WSP could not sign.
func (s *SLO) Receive(ctx context.Context, body io.Reader) (*SOAPReply, error) {
	now := s.now()
	req, err := s.authenticate(ctx, body, now)
	if req == nil {
		return s.fault(err), err
	}
	if err == nil {
		err = s.end(ctx, req, now)
	}
	env, err2 := s.response(req, LogoutStatus(err), now)
	if err2 != nil {
		return nil, errors.Join(err, err2)
	}
	reply := &SOAPReply{Envelope: env}
	if err == nil {
		reply.Logout = &Logout{RequestID: req.ID, SessionIndexes: req.SessionIndexes}
	}
	return reply, err
}

// authenticate decodes the envelope and verifies the request; the request
// is nil when it could not be authenticated, and returned with the error
// of a later check (version) otherwise.
func (s *SLO) authenticate(ctx context.Context, body io.Reader, now time.Time) (*samlp.LogoutRequest, error) {
	env, err := (&binding.SOAPDecoder{MaxBody: s.cfg.MaxBody, Understood: []string{}}).Decode(body)
	if err != nil {
		return nil, wrapLogout(LogoutMalformed, err, "SOAP envelope")
	}
	if err := s.cfg.Schema.ValidateElement(env.Body); err != nil {
		return nil, wrapLogout(LogoutMalformed, err, "schema")
	}
	u, err := samlp.Peek(env.Body)
	switch {
	case err != nil:
		return nil, wrapLogout(LogoutMalformed, err, "peek")
	case u.Name != "LogoutRequest":
		return nil, logoutErrorf(LogoutMalformed, "a %s, not a LogoutRequest", u.Name)
	case u.Issuer == nil || u.Issuer.Value != s.cfg.IdP || u.Issuer.Format != "" && u.Issuer.Format != saml.NameIDEntity:
		return nil, logoutErrorf(LogoutUntrusted, "issuer %+v is not the IdP %s", u.Issuer, s.cfg.IdP)
	case !u.Signed:
		return nil, logoutErrorf(LogoutUntrusted, "unsigned LogoutRequest")
	}
	if u.Version != saml.Version {
		// SAML 2.0's signature and schema are all this WSP can
		// authenticate: another version gets a SOAP fault.
		return nil, logoutErrorf(LogoutVersion, "version %q", u.Version)
	}
	keys, err := s.cfg.IdPKeys(ctx, s.cfg.IdP, now)
	if err != nil {
		return nil, wrapLogout(LogoutInternal, err, "the IdP's keys in the metadata")
	}
	req, _, err := samlp.VerifyLogoutRequest(env.Body, &dsig.Verifier{Trust: keys})
	if err != nil {
		return nil, wrapLogout(LogoutUntrusted, err, "signature")
	}
	return req, nil
}

// end checks an authenticated request and that its ID was never
// recorded, records its SessionIndexes, and only then its ID: a store
// failure in between leaves the ID unrecorded, so the IdP's retry of the
// same request still ends the sessions (recording a SessionIndex twice
// changes nothing), while a replayed request records nothing.
func (s *SLO) end(ctx context.Context, req *samlp.LogoutRequest, now time.Time) error {
	remember, err := s.checkLogout(req, now)
	if err != nil {
		return err
	}
	key := store.NewReplayKey(store.ReplayRequestID, s.cfg.IdP, req.ID)
	switch seen, err := s.cfg.Store.Seen(ctx, key, now); {
	case err != nil:
		return wrapLogout(LogoutInternal, err, "replay cache")
	case seen:
		return logoutErrorf(LogoutReplay, "LogoutRequest %s was received before", req.ID)
	}
	until := now.Add(s.cfg.EndedLifetime)
	for _, index := range req.SessionIndexes {
		err := s.cfg.Store.CheckAndInsert(ctx, s.endedKey(index), until, now)
		if err != nil && !errors.Is(err, store.ErrReplay) { // ended before: still ended
			return wrapLogout(LogoutInternal, err, "recording the ended session")
		}
	}
	switch err := s.cfg.Store.CheckAndInsert(ctx, key, remember, now); {
	case errors.Is(err, store.ErrReplay):
		return wrapLogout(LogoutReplay, err, "LogoutRequest "+req.ID)
	case err != nil:
		return wrapLogout(LogoutInternal, err, "replay cache")
	}
	return nil
}

// checkLogout runs the checks of an authenticated request: Destination
// is this endpoint (SAML Bindings §3.2.2.1 leaves it optional on SOAP,
// but the IdP always names the participant it sends to, so a request
// made for another participant is refused); IssueInstant and
// NotOnOrAfter (samlp.LogoutRequest.CheckWindow); at least one
// SessionIndex (the WSP keeps no sessions by NameID: the IdP names the
// ones it joined the WSP to). It returns how long the request's ID must
// be remembered.
func (s *SLO) checkLogout(req *samlp.LogoutRequest, now time.Time) (time.Time, error) {
	if req.Destination != s.cfg.URL {
		return time.Time{}, logoutErrorf(LogoutDestination, "Destination %q, this endpoint is %q", req.Destination, s.cfg.URL)
	}
	remember, err := req.CheckWindow(now, s.cfg.Skew, s.cfg.RequestLifetime)
	if err != nil {
		return time.Time{}, wrapLogout(LogoutStale, err, "LogoutRequest "+req.ID)
	}
	if len(req.SessionIndexes) == 0 {
		return time.Time{}, logoutErrorf(LogoutUnsupported, "no SessionIndex")
	}
	return remember, nil
}

// Remembers implements secmech.EndedSessions: how long an ended session
// is recorded (SLOConfig.EndedLifetime).
func (s *SLO) Remembers() time.Duration { return s.cfg.EndedLifetime }

// Ended implements secmech.EndedSessions: whether a LogoutRequest of the
// IdP ended the session sessionIndex names at this WSP.
func (s *SLO) Ended(ctx context.Context, sessionIndex string, now time.Time) (bool, error) {
	return s.cfg.Store.Seen(ctx, s.endedKey(sessionIndex), now)
}

func (s *SLO) endedKey(index string) store.ReplayKey {
	return store.NewReplayKey(store.ReplayEndedSession, s.cfg.IdP, index)
}

// response is the signed, schema-checked LogoutResponse in its envelope,
// without Destination: SOAP answers in place.
func (s *SLO) response(req *samlp.LogoutRequest, status samlp.Status, now time.Time) ([]byte, error) {
	id, err := saml.NewID(s.cfg.Rand)
	if err != nil {
		return nil, wrapLogout(LogoutInternal, err, "response ID")
	}
	r := &samlp.LogoutResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: id, InResponseTo: req.ID,
		IssueInstant: now, Issuer: &saml.Issuer{Value: s.cfg.EntityID}, Status: status}}
	el, err := samlp.Sign(r, s.cfg.Signer)
	if err != nil {
		return nil, wrapLogout(LogoutInternal, err, "sign LogoutResponse")
	}
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return nil, wrapLogout(LogoutInternal, err, "outgoing LogoutResponse is not schema-valid")
	}
	return envelope(el)
}

// fault is the SOAP fault for a request that was not authenticated: the
// decoder's own fault (MustUnderstand, VersionMismatch), Server when the
// WSP could not judge it, Client otherwise; the public text only.
func (s *SLO) fault(err error) *SOAPReply {
	var f *binding.Fault
	if !errors.As(err, &f) {
		k := LogoutKindOf(err)
		f = &binding.Fault{Code: binding.FaultClient, String: k.String()}
		if k == LogoutInternal {
			f.Code = binding.FaultServer
		}
	}
	b, _ := envelope(f.Element())
	return &SOAPReply{Envelope: b, Fault: true}
}

func envelope(body *etree.Element) ([]byte, error) {
	b, err := xmlsec.Serialize((&binding.Envelope{Body: body}).Element())
	if err != nil {
		return nil, wrapLogout(LogoutInternal, err, "SOAP envelope")
	}
	return b, nil
}

func (s *SLO) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// LogoutKind classifies why the WSP refused a LogoutRequest.
type LogoutKind int

// The kinds of refusal, each with its answer in LogoutStatus.
const (
	LogoutMalformed   LogoutKind = iota + 1 // not a schema-valid LogoutRequest in a SOAP 1.1 envelope, or too large
	LogoutUntrusted                         // not issued by the IdP, unsigned, or not signed by its metadata key
	LogoutVersion                           // not SAML 2.0
	LogoutDestination                       // Destination is another endpoint
	LogoutStale                             // IssueInstant out of the window, or NotOnOrAfter passed
	LogoutReplay                            // the request's ID was seen before
	LogoutUnsupported                       // no SessionIndex
	LogoutInternal                          // the WSP could not judge or record it
)

var logoutKindText = map[LogoutKind]string{
	LogoutMalformed:   "malformed logout request",
	LogoutUntrusted:   "logout request not authenticated",
	LogoutVersion:     "unsupported SAML version",
	LogoutDestination: "wrong destination",
	LogoutStale:       "logout request out of its validity window",
	LogoutReplay:      "logout request replayed",
	LogoutUnsupported: "logout request not supported",
	LogoutInternal:    "internal error",
}

// String returns the public, stable text of the kind.
func (k LogoutKind) String() string {
	if s, ok := logoutKindText[k]; ok {
		return s
	}
	return fmt.Sprintf("wsp.LogoutKind(%d)", int(k))
}

// Package names the package in error texts.
func (LogoutKind) Package() string { return "wsp" }

// LogoutError is a refusal of a LogoutRequest (internal/kinderr).
type LogoutError = kinderr.Error[LogoutKind]

// Sentinels for errors.Is, one per kind.
var (
	ErrLogoutMalformed   = &LogoutError{Kind: LogoutMalformed}
	ErrLogoutUntrusted   = &LogoutError{Kind: LogoutUntrusted}
	ErrLogoutVersion     = &LogoutError{Kind: LogoutVersion}
	ErrLogoutDestination = &LogoutError{Kind: LogoutDestination}
	ErrLogoutStale       = &LogoutError{Kind: LogoutStale}
	ErrLogoutReplay      = &LogoutError{Kind: LogoutReplay}
	ErrLogoutUnsupported = &LogoutError{Kind: LogoutUnsupported}
	ErrLogoutInternal    = &LogoutError{Kind: LogoutInternal}
)

func logoutErrorf(k LogoutKind, format string, args ...any) error {
	return kinderr.New(k, format, args...)
}

func wrapLogout(k LogoutKind, err error, detail string) error {
	return kinderr.Wrap(k, err, detail)
}

// LogoutKindOf returns the kind of err; LogoutInternal for any other error.
func LogoutKindOf(err error) LogoutKind {
	var e *LogoutError
	if errors.As(err, &e) {
		return e.Kind
	}
	return LogoutInternal
}

// LogoutStatus is the LogoutResponse status of an outcome (SAML Core
// §3.2.2.2): Success for nil; VersionMismatch for another version
// (Receive answers that one with a SOAP fault, as it cannot be
// authenticated);
// Requester/RequestDenied for a wrong Destination, a stale or replayed
// request; Requester/RequestUnsupported for one without a SessionIndex;
// Responder for what the WSP could not do.
func LogoutStatus(err error) samlp.Status {
	if err == nil {
		return samlp.NewStatus(samlp.StatusSuccess, "")
	}
	switch LogoutKindOf(err) {
	case LogoutVersion:
		return samlp.NewStatus(samlp.StatusVersionMismatch, "")
	case LogoutDestination, LogoutStale, LogoutReplay, LogoutMalformed, LogoutUntrusted:
		return samlp.NewStatus(samlp.StatusRequester, samlp.StatusRequestDenied)
	case LogoutUnsupported:
		return samlp.NewStatus(samlp.StatusRequester, samlp.StatusRequestUnsupported)
	}
	return samlp.NewStatus(samlp.StatusResponder, "")
}
