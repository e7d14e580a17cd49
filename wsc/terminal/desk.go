package terminal

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/card"
	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsf"
)

// Phase is where the desk is with the patient in front of it.
type Phase int

// The phases of the desk.
const (
	// Idle: no card; the screen shows nothing of anybody.
	Idle Phase = iota
	// NeedPIN: a card is in; the patient types the PIN.
	NeedPIN
	// Working: the card is logging in and the insurer is being asked.
	Working
	// Ready: the eligibility is on the screen (and the other
	// hospitals' results once they arrive).
	Ready
	// Stopped: the card, the IdP or the DS refused; Message says why.
	Stopped
)

// Screen is what the staff page shows: everything of the patient in
// front of the desk, and nothing once the card is out.
type Screen struct {
	// Version changes with every change of the screen; Visit counts the
	// cards inserted since the desk started.
	Version, Visit uint64
	Phase          Phase
	// Message is the key of the words (words.go) saying why the desk
	// refused or what the patient must do; Detail the other party's own
	// text, when it gave one.
	Message, Detail string
	// TriesLeft is the PIN tries left after a wrong PIN; -1 when unknown.
	TriesLeft   int
	Eligibility *Eligibility
	// EligibilityMessage says why the eligibility is missing.
	EligibilityMessage string
	// Records are the other hospitals' results; RecordsPending until
	// they arrive, RecordsMessage when the DS could not be asked.
	Records        []*Section
	RecordsPending bool
	RecordsMessage string
	// Enrolled is the patient number linked at this visit; EnrolMessage
	// why the last enrolment was refused.
	Enrolled, EnrolMessage, EnrolDetail string
	// Timing is where the login and the eligibility's time went.
	Timing Timing
	// Since is when the phase began.
	Since time.Time
}

// Desk drives the terminal from the card reader: a card in asks for the
// PIN, logs in by ECP with it, shows the eligibility at once and the
// other hospitals' results after; the card out ends the visit: the screen
// is cleared first, every token dropped, the IdP told. It renews the
// card login before TokenLife runs out while the card stays in.
type Desk struct {
	t      *Terminal
	reader Reader
	logf   func(format string, args ...any)

	mu      sync.Mutex
	screen  Screen
	visit   *Visit
	vctx    context.Context // the visit's: cancelled when its card leaves
	pins    chan pinEntry
	changed chan struct{}
	// ended receives the outcome of each visit's logout, for tests and
	// the log; nil when nobody listens.
	ended func(*sp.LogoutResult, error)
}

// NewDesk returns the desk of t reading r. logf receives events; ended,
// when not nil, each visit's logout outcome.
func NewDesk(t *Terminal, r Reader, logf func(string, ...any), ended func(*sp.LogoutResult, error)) *Desk {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	d := &Desk{t: t, reader: r, logf: logf, pins: make(chan pinEntry), changed: make(chan struct{}), ended: ended}
	d.screen.Since = t.cfg.Now()
	return d
}

// Screen returns the current screen.
func (d *Desk) Screen() Screen {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.screen
}

// Changed returns a channel closed at the next change of the screen.
func (d *Desk) Changed() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.changed
}

// update changes the screen of visit n with fn, unless that visit is
// over: a late answer never shows on the next patient's screen, nor on
// an empty one.
func (d *Desk) update(n uint64, fn func(*Screen)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.screen.Visit != n || d.screen.Phase == Idle {
		return
	}
	fn(&d.screen)
	d.bump()
}

func (d *Desk) bump() {
	d.screen.Version++
	close(d.changed)
	d.changed = make(chan struct{})
}

func (d *Desk) phase(n uint64, p Phase, message, detail string) {
	d.update(n, func(s *Screen) {
		s.Phase, s.Message, s.Detail, s.Since = p, message, detail, d.t.cfg.Now()
	})
}

// ErrNoPatient reports a PIN or an enrolment with no card waiting for it.
var ErrNoPatient = errors.New("terminal: no card is waiting for that")

// pinEntry is a PIN typed at the prompt of visit shown at version.
type pinEntry struct {
	visit, version uint64
	pin            string
}

// SubmitPIN hands the patient's PIN to the card waiting for it: the
// prompt of visit shown at version (Screen.Visit, Screen.Version). A PIN
// typed at an earlier prompt (sent twice, or meant for the previous
// card) is ErrNoPatient, and never reaches a card.
func (d *Desk) SubmitPIN(ctx context.Context, visit, version uint64, pin string) error {
	d.mu.Lock()
	s := d.screen
	d.mu.Unlock()
	if s.Phase != NeedPIN || s.Visit != visit || s.Version != version {
		return ErrNoPatient
	}
	select {
	case d.pins <- pinEntry{visit, version, pin}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second):
		return ErrNoPatient
	}
}

// Enrol links number to the patient at the desk (Visit.Enrol) and shows
// the outcome. The enrolment runs under the visit: the card leaving
// stops it, whatever ctx does (the card's presence is the consent it
// records); ctx only carries values.
func (d *Desk) Enrol(ctx context.Context, number string) error {
	d.mu.Lock()
	v, n, vctx := d.visit, d.screen.Visit, d.vctx
	d.mu.Unlock()
	if v == nil {
		return ErrNoPatient
	}
	ectx, cancel := context.WithCancel(vctx)
	defer cancel()
	err := v.Enrol(ectx, number)
	d.update(n, func(s *Screen) {
		if err == nil {
			s.Enrolled, s.EnrolMessage, s.EnrolDetail = number, "", ""
			return
		}
		s.EnrolMessage, s.EnrolDetail = explain(err)
	})
	return err
}

// Run serves cards until ctx ends.
func (d *Desk) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := d.reader.WaitForCard(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d.logf("terminal: reader: %v", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
			continue
		}
		d.serve(ctx)
	}
	return nil
}

// serve is one card, from insertion to removal. The visit has a request
// ID of its own, which the calls it makes carry (wsf.WithRequestID) and
// the log names, as an HTTP request's at the portal.
func (d *Desk) serve(ctx context.Context) {
	rid := wsf.NewRequestID()
	vctx, cancel := context.WithCancel(wsf.WithRequestID(ctx, rid))
	defer cancel()
	d.mu.Lock()
	d.screen = Screen{Version: d.screen.Version, Visit: d.screen.Visit + 1, Phase: NeedPIN, TriesLeft: -1, Since: d.t.cfg.Now()}
	n := d.screen.Visit
	d.bump()
	d.mu.Unlock()
	d.logf("terminal: visit %d: card inserted, request ID %s", n, rid)
	out := make(chan struct{})
	go func() {
		defer close(out)
		if err := d.reader.WaitForRemoval(vctx); err != nil && vctx.Err() == nil {
			d.logf("terminal: reader: %v", err)
		}
		cancel()
	}()
	d.attend(vctx, n)
	<-vctx.Done()
	<-out
	d.leave(n)
}

// attend runs the visit until the card leaves.
func (d *Desk) attend(ctx context.Context, n uint64) {
	c, closer := d.unlock(ctx, n)
	if closer == nil {
		return
	}
	defer closer.Close()
	d.phase(n, Working, "", "")
	v, err := d.t.Login(ctx, c)
	if err != nil {
		if ctx.Err() == nil {
			m, detail := explain(err)
			d.phase(n, Stopped, m, detail)
			d.logf("terminal: login: %v", err)
		}
		return
	}
	d.mu.Lock()
	if d.screen.Visit != n || ctx.Err() != nil {
		d.mu.Unlock()
		d.drop(v)
		return
	}
	d.visit, d.vctx = v, ctx
	d.mu.Unlock()
	el, err := v.Eligibility(ctx)
	if ctx.Err() != nil {
		return
	}
	d.update(n, func(s *Screen) {
		s.Phase, s.Since, s.RecordsPending, s.Timing = Ready, d.t.cfg.Now(), true, v.Timing()
		s.Eligibility = el
		if err != nil {
			s.EligibilityMessage, _ = explain(err)
		}
	})
	recs, err := v.Records(ctx)
	if ctx.Err() != nil {
		return
	}
	d.update(n, func(s *Screen) {
		s.Records, s.RecordsPending = recs, false
		if err != nil {
			s.RecordsMessage, _ = explain(err)
		}
	})
	d.renew(ctx, n, v, c)
}

// unlock waits for the PIN and opens the card with it; a wrong PIN asks
// again. It returns a nil closer when the visit cannot go on.
func (d *Desk) unlock(ctx context.Context, n uint64) (Card, io.Closer) {
	for {
		d.mu.Lock()
		prompt := d.screen.Version
		d.mu.Unlock()
		var e pinEntry
		select {
		case e = <-d.pins:
		case <-ctx.Done():
			return Card{}, nil
		}
		if e.visit != n || e.version != prompt {
			continue // typed at an earlier prompt: never tried on this card
		}
		pin := e.pin
		if _, err := piv.EncodePIN(pin); err != nil {
			d.update(n, func(s *Screen) { s.Message = "pin.format" })
			continue
		}
		c, closer, err := d.reader.Open(pin)
		if err == nil {
			return c, closer
		}
		if ctx.Err() != nil {
			return Card{}, nil
		}
		var wrong *piv.WrongPINError
		if errors.As(err, &wrong) {
			d.update(n, func(s *Screen) { s.Message, s.TriesLeft = "pin.wrong", wrong.TriesLeft })
			continue
		}
		m, detail := explain(err)
		d.phase(n, Stopped, m, detail)
		d.logf("terminal: card: %v", err)
		return Card{}, nil
	}
}

// renew logs the card in again before the login runs out, while the
// card stays in: a quarter of the login's life before its end, and never
// sooner than half its life after it began, so that a short life cannot
// make the card sign in a loop.
func (d *Desk) renew(ctx context.Context, n uint64, v *Visit, c Card) {
	for {
		life := v.life()
		wait := max(v.Expires().Sub(v.t.cfg.Now())-life/4, life/2, time.Second)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		r, err := v.Renew(ctx, c)
		if err != nil {
			if ctx.Err() == nil {
				m, detail := explain(err)
				d.phase(n, Stopped, m, detail)
				d.logf("terminal: renewal: %v", err)
			}
			return
		}
		switch {
		case r.LogoutErr != nil:
			d.logf("terminal: logout of the renewed login: %v", r.LogoutErr)
		case !r.Logout.Success() || r.Logout.Partial():
			d.logf("terminal: logout of the renewed login: the IdP answered %s %s", r.Logout.Status.Code.Value, r.Logout.Status.Second())
		}
	}
}

// leave ends visit n: the screen is cleared first, then the tokens are
// dropped and the IdP told.
func (d *Desk) leave(n uint64) {
	d.mu.Lock()
	v := d.visit
	d.visit, d.vctx = nil, nil
	if d.screen.Visit == n {
		d.screen = Screen{Version: d.screen.Version, Visit: n, Phase: Idle, TriesLeft: -1, Since: d.t.cfg.Now()}
		d.bump()
	}
	d.mu.Unlock()
	if v != nil {
		d.drop(v)
	}
}

// drop ends v and reports the logout; anything but the IdP's Success is
// logged, a partial logout included.
func (d *Desk) drop(v *Visit) {
	res, err := v.End(context.Background())
	switch {
	case err != nil:
		d.logf("terminal: logout: %v", err)
	case !res.Success() || res.Partial():
		d.logf("terminal: logout: the IdP answered %s %s", res.Status.Code.Value, res.Status.Second())
	}
	if d.ended != nil {
		d.ended(res, err)
	}
}

// explain turns an error into the key of the words the staff read, and
// the other party's own text when it gave one.
func explain(err error) (string, string) {
	var st *sp.StatusError
	var ws *wsc.StatusError
	var hop *HopError
	switch {
	case errors.Is(err, piv.ErrPINBlocked):
		return "pin.blocked", ""
	case errors.Is(err, card.ErrCardRemoved), errors.Is(err, card.ErrNoCard):
		return "card.removed", ""
	case errors.As(err, &st):
		switch st.Status.Second() {
		case samlp.StatusAuthnFailed:
			return "card.refused", st.Status.Message
		case samlp.StatusRequestDenied:
			return "idp.denied", st.Status.Message
		case samlp.StatusUnknownPrincipal:
			return "idp.unknown", st.Status.Message
		}
		return "idp.refused", st.Status.Message
	case errors.As(err, &ws):
		return "ds.refused", string(ws.Status.Code)
	case errors.As(err, &hop):
		return string(hop.Hop) + ".down", ""
	case errors.Is(err, ErrEnded):
		return "visit.ended", ""
	case errors.As(err, new(*piv.StatusError)):
		return "card.unreadable", ""
	}
	return "internal", ""
}
