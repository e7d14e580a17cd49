package wsp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// Config configures a WSP engine.
type Config struct {
	// EntityID is the WSP's entityID: the provider of its audit events.
	EntityID string
	// Backend is the institution's back office.
	Backend Backend
	// Services are the service types served, each with the item types
	// the back office maps and the purposes the WSP honours.
	Services []ServiceConfig
	// Audit is the WSP's own audit log; required.
	Audit store.AuditLog
	// AuditReaders are the WSCs that may read a citizen's access log (the
	// portals); none means the audit service is not served.
	AuditReaders []string
	// Timeout bounds the back-office work of one request, every call it
	// makes together; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf receives back-office failures (their detail never goes to the
	// requester); nil discards them.
	Logf func(format string, args ...any)
}

// ServiceConfig is one service type a WSP serves.
type ServiceConfig struct {
	Type string
	// Items are the item types the back office maps; Writable those it
	// maps writes for.
	Items    []string
	Writable []string
	// Purposes are the purposes of sb:UsageDirective honoured; nil means
	// DefaultPurposes of the type.
	Purposes []string
}

// DefaultTimeout bounds a call to the back office.
const DefaultTimeout = 3 * time.Second

// DefaultPurposes are the purposes a service type honours by default: the
// citizen's own reading everywhere; at a reception desk, treatment for
// clinical results, check-ups and eligibility, and the eligibility check.
func DefaultPurposes(serviceType string) []string {
	switch serviceType {
	case dst.Clinical, dst.Checkup:
		return []string{wsf.PurposeSelf, wsf.PurposeTreatment}
	case dst.Eligibility:
		return []string{wsf.PurposeSelf, wsf.PurposeEligibility, wsf.PurposeTreatment}
	}
	return []string{wsf.PurposeSelf}
}

// WSP is the engine.
type WSP struct {
	cfg      Config
	services map[string]*service
}

type service struct {
	svc      *dst.Service
	items    map[string]bool
	writable map[string]bool
	purposes []string
}

// New checks cfg and returns the engine; every problem is reported at
// once.
func New(cfg Config) (*WSP, error) {
	var errs []error
	if cfg.EntityID == "" {
		errs = append(errs, errors.New("wsp: EntityID is required"))
	}
	if cfg.Backend == nil {
		errs = append(errs, errors.New("wsp: Backend is required"))
	}
	if cfg.Audit == nil {
		errs = append(errs, errors.New("wsp: Audit is required"))
	}
	if len(cfg.Services) == 0 {
		errs = append(errs, errors.New("wsp: no service type to serve"))
	}
	w := &WSP{cfg: cfg, services: map[string]*service{}}
	for _, sc := range cfg.Services {
		svc := dst.Lookup(sc.Type)
		if svc == nil {
			errs = append(errs, fmt.Errorf("wsp: %q is not a service type of the federation", sc.Type))
			continue
		}
		if w.services[sc.Type] != nil {
			errs = append(errs, fmt.Errorf("wsp: service type %s listed twice", sc.Type))
			continue
		}
		s := &service{svc: svc, items: map[string]bool{}, writable: map[string]bool{}, purposes: sc.Purposes}
		if s.purposes == nil {
			s.purposes = DefaultPurposes(sc.Type)
		}
		for _, it := range sc.Items {
			if svc.Item(it) == nil {
				errs = append(errs, fmt.Errorf("wsp: %s has no item type %q", sc.Type, it))
			}
			s.items[it] = true
		}
		for _, it := range sc.Writable {
			if t := svc.Item(it); t == nil || !t.Writable() || !s.items[it] {
				errs = append(errs, fmt.Errorf("wsp: %s: item type %q cannot be written", sc.Type, it))
			}
			s.writable[it] = true
		}
		w.services[sc.Type] = s
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return w, nil
}

// ServiceTypes returns the service types served, the audit service last
// when it is served.
func (w *WSP) ServiceTypes() []string {
	var out []string
	for _, sc := range w.cfg.Services {
		out = append(out, sc.Type)
	}
	if len(w.cfg.AuditReaders) > 0 {
		out = append(out, auditNS)
	}
	return out
}

func (w *WSP) now() time.Time {
	if w.cfg.Now != nil {
		return w.cfg.Now()
	}
	return time.Now()
}

func (w *WSP) timeout() time.Duration {
	if w.cfg.Timeout > 0 {
		return w.cfg.Timeout
	}
	return DefaultTimeout
}

func (w *WSP) logf(format string, args ...any) {
	if w.cfg.Logf != nil {
		w.cfg.Logf(format, args...)
	}
}

// Invoker is what the receiver verified about a request.
type Invoker struct {
	// Provider is the sender's entityID; Proven that its metadata key
	// signed the message or is the TLS client key.
	Provider string
	Proven   bool
	// Mechanism is the security mechanism the message satisfied.
	Mechanism wsf.Mechanism
	// Subject is the principal at this WSP: the invocation token's
	// subject, or the TargetIdentity token's when one was sent. Nil under
	// ClientTLS:X509.
	Subject *saml.NameID
	// TokenIssuer and TokenID name the token (the audit keeps them).
	TokenIssuer, TokenID string
	// TokenServices are the service types the token was issued for
	// (secmech.AttrServiceType); nil when it names none.
	TokenServices []string
	// Purpose is the purpose URI of sb:UsageDirective (wsf.Purpose), ""
	// when none was stated; PurposeErr an error to answer with.
	Purpose    string
	PurposeErr error
	MessageID  string
}

// local returns the subject's local identifier, or the status to answer.
func (inv *Invoker) local() (string, *wsf.Status) {
	switch {
	case !inv.Proven || inv.Subject == nil:
		return "", &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: ActionNotAuthorized,
			Comment: "no token names the subject of the request"}}}
	case inv.Subject.SPProvidedID == "":
		return "", &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: ActionNotAuthorized,
			Comment: "the token names no local identifier at this institution"}}}
	}
	return inv.Subject.SPProvidedID, nil
}

// checkPurpose answers CannotHonourUsageDirective for a purpose the
// service's policy does not name.
func (s *service) checkPurpose(inv *Invoker) error {
	if inv.PurposeErr != nil {
		return inv.PurposeErr
	}
	if inv.Purpose != "" && !slices.Contains(s.purposes, inv.Purpose) {
		return wsf.Errorf(wsf.CannotHonourUsageDirective, "purpose %s is not one %s serves", inv.Purpose, s.svc.NS)
	}
	return nil
}

// issuedFor answers ActionNotAuthorized for a token issued for another
// service of this provider: the DS mints one token per service, after the
// citizen's consent to that service (an association with its SvcMD), and a
// token for the bookings must not read the lab results. A token that names
// no service (an issuer that does not bind tokens to services) is taken
// for any.
func issuedFor(inv *Invoker, serviceType string) *wsf.Status {
	if inv.TokenServices == nil || slices.Contains(inv.TokenServices, serviceType) {
		return nil
	}
	return &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: ActionNotAuthorized,
		Comment: "the token was issued for another service"}}}
}

// subject resolves the request's subject at the back office (ctx carries
// the request's bound): the local
// identifier, or the status to answer (the identifier unknown,
// DoesNotExist; the back office failing, its status).
func (w *WSP) subject(ctx context.Context, s *service, inv *Invoker) (string, *wsf.Status, error) {
	local, st := inv.local()
	if st == nil {
		st = issuedFor(inv, s.svc.NS)
	}
	if st != nil {
		return local, st, nil
	}
	ok, err := w.cfg.Backend.Subject(ctx, s.svc.NS, local)
	if err != nil {
		st, err := w.backendStatus(err, "")
		return local, st, err
	}
	if !ok && !w.fault(FaultNoSubjectCheck) {
		return local, &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: DoesNotExist,
			Comment: "the back office knows no such subject"}}}, nil
	}
	return local, nil, nil
}

// backendStatus turns a back-office error into the status answered for
// the item ref: TimeOut for a deadline, the refusal's code, or
// UnexpectedError (logged, detail withheld). An error of the caller's own
// context is returned as is.
func (w *WSP) backendStatus(err error, ref string) (*wsf.Status, error) {
	var r *Refusal
	switch {
	case errors.As(err, &r):
		sub := wsf.Status{Code: wsf.Code(r.Code), Ref: ref, Comment: r.Detail}
		if r.Third != "" {
			sub.Sub = []wsf.Status{{Code: wsf.Code(r.Third)}}
		}
		return &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{sub}}, nil
	case errors.Is(err, context.DeadlineExceeded):
		return &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: TimeOut, Ref: ref,
			Comment: "the back office did not answer in time"}}}, nil
	case errors.Is(err, context.Canceled):
		return nil, err
	}
	w.logf("wsp: back office: %v", err)
	return &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: UnexpectedError, Ref: ref,
		Comment: "the back office is unavailable"}}}, nil
}

// DST status codes the engine answers beside the adapters' (IDWSF2 §5.2).
const (
	Partial                 wsf.Code = "Partial"
	TimeOut                 wsf.Code = "TimeOut"
	UnexpectedError         wsf.Code = "UnexpectedError"
	MissingSelect           wsf.Code = "MissingSelect"
	InvalidSelect           wsf.Code = "InvalidSelect"
	ObjectTypeMismatch      wsf.Code = "ObjectTypeMismatch"
	UnsupportedObjectType   wsf.Code = "UnsupportedObjectType"
	UnsupportedPredefined   wsf.Code = "UnsupportedPredefined"
	SortNotSupported        wsf.Code = "SortNotSupported"
	StaticNotSupported      wsf.Code = "StaticNotSupported"
	InvalidSetID            wsf.Code = "InvalidSetID"
	FormatNotSupported      wsf.Code = "FormatNotSupported"
	NoSuchTest              wsf.Code = "NoSuchTest"
	ItemIDDuplicated        wsf.Code = "ItemIDDuplicated"
	MissingItemID           wsf.Code = "MissingItemID"
	ChangedSinceReturnsAll  wsf.Code = "ChangedSinceReturnsAll"
	MissingNewDataElement   wsf.Code = "MissingNewDataElement"
	NoMultipleAllowed       wsf.Code = "NoMultipleAllowed"
	MissingDataElement      wsf.Code = "MissingDataElement"
	ResultQueryNotSupported wsf.Code = "ResultQueryNotSupported"
)
