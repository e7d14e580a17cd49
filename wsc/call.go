package wsc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// ErrNotDiscovered reports that the DS gave no EPR of the service type at
// the provider for the principal: the citizen is not enrolled there, or
// has not consented to the service.
var ErrNotDiscovered = errors.New("wsc: no EPR discovered")

// Call is one operation at a WSP.
type Call struct {
	// ServiceType is the service's type (a wsf/dst namespace, audit.NS).
	ServiceType string
	// Provider is the WSP's entityID; "" is the first EPR of the type.
	Provider string
	// Op is the local name of the request element ("Query", "Create"):
	// the wsa:Action is ServiceType ":" Op (IDWSF2 §5).
	Op      string
	Payload *etree.Element
	// Purpose replaces Config.Purpose for this call.
	Purpose string
	// Header carries the optional header blocks the caller sets:
	// RelatesTo = RedirectError.FaultMessageID when re-sending after the
	// user came back from a RedirectRequest, UserInteraction, Consent...
	// Its UsageDirectives, when set, replace the purpose directive.
	Header wsf.Header
}

// Call sends op with payload to the provider's service of serviceType
// (see Do).
func (s *Session) Call(ctx context.Context, serviceType, provider, op string, payload *etree.Element) (*client.Result, error) {
	return s.Do(ctx, &Call{ServiceType: serviceType, Provider: provider, Op: op, Payload: payload})
}

// Do sends c to the EPR of its service type at its provider, taken from
// the cache or discovered, with the purpose directive. The client signs
// the request by the EPR's mechanism and checks the response's signature,
// Timestamp and RelatesTo; an EndpointUpdate is followed, and the updated
// EPR replaces the cached one. A fault InappropriateCredentials (which is
// also what a WSP answers to an expired token) drops the type's cached
// EPRs, discovers them again and re-sends once. A RedirectRequest is
// returned as the *client.RedirectError, for the WSC to send the browser
// there; other faults as *wsf.Fault.
func (s *Session) Do(ctx context.Context, c *Call) (*client.Result, error) {
	if c.ServiceType == "" || c.Op == "" || c.Payload == nil {
		return nil, errors.New("wsc: a call needs a service type, an operation and a payload")
	}
	for attempt := 0; ; attempt++ {
		epr, err := s.pick(ctx, c.ServiceType, c.Provider)
		if err != nil {
			return nil, err
		}
		res, err := s.cfg.Client.Call(ctx, s.request(c, epr))
		if err == nil {
			if res.EPR != nil && res.EPR != epr {
				s.replace(c.ServiceType, epr, res.EPR)
			}
			return res, nil
		}
		var redirect *client.RedirectError
		if attempt == 0 && errors.Is(err, wsf.ErrInappropriateCreds) && !errors.As(err, &redirect) {
			s.drop(c.ServiceType, epr)
			continue
		}
		return nil, err
	}
}

func (s *Session) request(c *Call, epr *wsf.EPR) *client.Call {
	h := c.Header
	purpose := c.Purpose
	if purpose == "" {
		purpose = s.cfg.Purpose
	}
	if len(h.UsageDirectives) == 0 && purpose != "" {
		h.UsageDirectives = []wsf.UsageDirective{wsf.PurposeDirective(purpose)}
	}
	return &client.Call{EPR: epr, Action: c.ServiceType + ":" + c.Op, Payload: c.Payload, Header: h}
}

// pick returns the EPR of serviceType at provider.
func (s *Session) pick(ctx context.Context, serviceType, provider string) (*wsf.EPR, error) {
	eprs, err := s.Discover(ctx, serviceType)
	if err != nil {
		return nil, err
	}
	for _, e := range eprs {
		if provider == "" || e.Metadata.ProviderID == provider {
			return e, nil
		}
	}
	return nil, fmt.Errorf("%w: %s at %q", ErrNotDiscovered, serviceType, provider)
}

// drop forgets serviceType's cached EPRs if they still hold stale: an
// entry another caller discovered since is kept.
func (s *Session) drop(serviceType string, stale *wsf.EPR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.cache[serviceType]; e != nil && contains(e.eprs, stale) {
		delete(s.cache, serviceType)
	}
}

// replace puts the EPR an EndpointUpdate gave in the place of old.
func (s *Session) replace(serviceType string, old, updated *wsf.EPR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.cache[serviceType]
	if e == nil {
		return
	}
	eprs := make([]*wsf.EPR, len(e.eprs))
	for i, x := range e.eprs {
		eprs[i] = x
		if x == old {
			eprs[i] = updated
		}
	}
	s.cache[serviceType] = &entry{eprs: eprs, expires: e.expires}
}

func contains(eprs []*wsf.EPR, e *wsf.EPR) bool {
	for _, x := range eprs {
		if x == e {
			return true
		}
	}
	return false
}

// Outcome is the result of one call of CallAll.
type Outcome struct {
	Result *client.Result
	Err    error
}

// CallAll sends every call at once, each under its own timeout (none when
// timeout is 0), and returns the outcomes in the order of calls: a WSP
// that is slow or down costs its own call the timeout and nothing to the
// others. The service types not cached are discovered first in one
// disco:Query the calls share, under the same timeout.
func (s *Session) CallAll(ctx context.Context, calls []Call, timeout time.Duration) []Outcome {
	out := make([]Outcome, len(calls))
	types := make([]string, 0, len(calls))
	for _, c := range calls {
		if c.ServiceType != "" {
			types = append(types, c.ServiceType)
		}
	}
	if len(types) > 0 {
		dctx, cancel := withTimeout(ctx, timeout)
		defer cancel() // after every call has returned: the query is theirs
		s.start(dctx, dedupe(types))
	}
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := withTimeout(ctx, timeout)
			defer cancel()
			out[i].Result, out[i].Err = s.Do(cctx, &calls[i])
		}()
	}
	wg.Wait()
	return out
}

func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// DSTQuery is the Call of a DST query of serviceType (a wsf/dst service)
// at provider; DecodeQuery reads its result.
func DSTQuery(serviceType, provider string, q *dst.Query) (Call, error) {
	svc := dst.Lookup(serviceType)
	if svc == nil {
		return Call{}, fmt.Errorf("wsc: %s is not a DST service", serviceType)
	}
	return Call{ServiceType: serviceType, Provider: provider, Op: "Query", Payload: svc.QueryElement(q)}, nil
}

// DecodeQuery reads the answer to a DSTQuery of serviceType.
func DecodeQuery(serviceType string, res *client.Result) (*dst.QueryResponse, error) {
	svc := dst.Lookup(serviceType)
	if svc == nil {
		return nil, fmt.Errorf("wsc: %s is not a DST service", serviceType)
	}
	return svc.DecodeQueryResponse(res.Payload)
}

// Query sends a DST query of serviceType to provider and decodes the
// answer, as Do does.
func (s *Session) Query(ctx context.Context, serviceType, provider string, q *dst.Query) (*dst.QueryResponse, error) {
	c, err := DSTQuery(serviceType, provider, q)
	if err != nil {
		return nil, err
	}
	res, err := s.Do(ctx, &c)
	if err != nil {
		return nil, err
	}
	return DecodeQuery(serviceType, res)
}
