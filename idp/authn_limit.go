package idp

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Defaults of the zero AuthnLimits.
const (
	// DefaultClientBurst is how many AuthnRequests without a session one
	// client may send at once.
	// Generous: one address may be a whole office behind NAT, or a test
	// suite.
	DefaultClientBurst = 100
	// DefaultClientRate is how many more per second it may send after
	// the burst: 60 a minute.
	DefaultClientRate = 1
	// DefaultMaxPending bounds the AuthnRequests without a session
	// admitted within one PendingLifetime, all clients together.
	DefaultMaxPending = 50000
	// DefaultMaxClients bounds the clients whose buckets are kept.
	DefaultMaxClients = 20000
)

// AuthnLimits bound the AuthnRequests that arrive without a session: each
// writes a replay-cache row and parks a pending request that lives until
// the login or PendingLifetime, before anyone has authenticated. A client
// (an IP address; an IPv6 /64) has a token bucket of ClientBurst requests
// refilled at ClientRate a second, so that one client cannot use up the
// whole; MaxPending caps the requests admitted within one
// PendingLifetime, all clients together, so that the store stays bounded
// whatever the number of clients. A request with a live session is not
// counted, nor one refused before it writes anything: a request takes its
// slot only once verified (known SP, schema, signature, Destination,
// freshness: SAML2.md §3.1), just before its ID enters the replay cache,
// and gives it back when that ID is a replay, so that junk cannot use up
// MaxPending or a client's bucket. Zero fields
// take the defaults.
//
// The client is the address the connection comes from: behind a TCP
// load balancer or a NAT that does not preserve it, every user shares one
// bucket, which must then be raised (the configuration file's
// authnLimits) or the logins of all but the first ClientBurst are
// refused.
type AuthnLimits struct {
	ClientBurst int
	ClientRate  float64
	MaxPending  int
	MaxClients  int
}

func (l AuthnLimits) withDefaults() AuthnLimits {
	if l.ClientBurst <= 0 {
		l.ClientBurst = DefaultClientBurst
	}
	if l.ClientRate <= 0 {
		l.ClientRate = DefaultClientRate
	}
	if l.MaxPending <= 0 {
		l.MaxPending = DefaultMaxPending
	}
	if l.MaxClients <= 0 {
		l.MaxClients = DefaultMaxClients
	}
	return l
}

// authnLimiter applies AuthnLimits on one node. It is safe for
// concurrent use.
type authnLimiter struct {
	mu      sync.Mutex
	cfg     AuthnLimits
	life    time.Duration
	clients map[string]*bucket
	live    []time.Time // when each admitted request's pending entry expires, oldest first
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newAuthnLimiter(cfg AuthnLimits, life time.Duration) *authnLimiter {
	return &authnLimiter{cfg: cfg.withDefaults(), life: life, clients: map[string]*bucket{}}
}

// admit takes one request of client at now, or refuses it:
// ErrTooManyRequests when the client's bucket is empty (nothing is taken
// from the overall cap), ErrBusy when the overall cap is reached (nothing
// is taken from the client's bucket).
func (l *authnLimiter) admit(client string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	b := l.bucket(client, now)
	if b.tokens < 1 {
		return Errorf(CodeTooManyRequests, "client %s sent more than %d AuthnRequests without a session at %.2g a second", client, l.cfg.ClientBurst, l.cfg.ClientRate)
	}
	if len(l.live) >= l.cfg.MaxPending {
		return Errorf(CodeBusy, "%d AuthnRequests without a session within %v", len(l.live), l.life)
	}
	b.tokens--
	l.live = append(l.live, now.Add(l.life))
	return nil
}

// release gives back what admit took for client at now, for a request
// refused before it wrote anything (a replayed ID).
func (l *authnLimiter) release(client string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.clients[client]; ok {
		b.tokens = min(float64(l.cfg.ClientBurst), b.tokens+1)
	}
	exp := now.Add(l.life)
	for i := len(l.live) - 1; i >= 0; i-- {
		if l.live[i].Equal(exp) {
			l.live = slices.Delete(l.live, i, i+1)
			return
		}
	}
}

// expire forgets the admitted requests whose pending entry has expired.
func (l *authnLimiter) expire(now time.Time) {
	i := 0
	for i < len(l.live) && !now.Before(l.live[i]) {
		i++
	}
	l.live = l.live[i:]
}

// bucket is client's bucket refilled up to now; a new client starts
// full. Past MaxClients, the full buckets (clients idle long enough to
// be as new) are dropped first, then any.
func (l *authnLimiter) bucket(client string, now time.Time) *bucket {
	b, ok := l.clients[client]
	if !ok {
		l.makeRoom(now)
		b = &bucket{tokens: float64(l.cfg.ClientBurst), last: now}
		l.clients[client] = b
	}
	l.refill(b, now)
	return b
}

func (l *authnLimiter) refill(b *bucket, now time.Time) {
	if now.After(b.last) {
		b.tokens = min(float64(l.cfg.ClientBurst), b.tokens+now.Sub(b.last).Seconds()*l.cfg.ClientRate)
		b.last = now
	}
}

func (l *authnLimiter) makeRoom(now time.Time) {
	if len(l.clients) < l.cfg.MaxClients {
		return
	}
	for k, b := range l.clients {
		if l.refill(b, now); b.tokens >= float64(l.cfg.ClientBurst) {
			delete(l.clients, k)
		}
	}
	for k := range l.clients {
		if len(l.clients) < l.cfg.MaxClients {
			break
		}
		delete(l.clients, k)
	}
}

// retryAfter is how long a client refused by err should wait, in whole
// seconds: until its bucket holds a token again, or until the oldest
// admitted request expires.
func (l *authnLimiter) retryAfter(err error, now time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := time.Duration(float64(time.Second) / l.cfg.ClientRate)
	if CodeOf(err) == CodeBusy && len(l.live) > 0 {
		d = l.live[0].Sub(now)
	}
	return fmt.Sprint(max(1, int((d+time.Second-1)/time.Second)))
}
