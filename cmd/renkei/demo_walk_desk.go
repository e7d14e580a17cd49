package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/browser"
)

// deskWait bounds how long the walk waits for the terminal's screen to
// change.
const deskWait = 30 * time.Second

// reception inserts the card into the terminal's reader, types the PIN
// on the staff page, waits for the eligibility, and takes the card out.
func (w *walker) reception(ctx context.Context) error {
	if w.desk == nil || w.fed.Terminal == "" {
		return errors.New("the reception terminal is not running (no PC/SC reader, see above)")
	}
	staff, err := browser.New(browser.Config{RootCAs: w.fed.RootCAs, Timeout: 20 * time.Second})
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := w.desk.insert(); err != nil {
		return err
	}
	fmt.Fprintf(w.out, "   card %s into %q (vpcd); the terminal reads it through pcscd\n", w.fed.Card, w.desk.name())
	prompt, err := w.await(ctx, staff, "the PIN prompt", "Enter the PIN")
	if err != nil {
		return err
	}
	if _, err := w.submit(ctx, staff, prompt, "/pin", nil, url.Values{"pin": {virtual.DefaultPIN}}); err != nil {
		return err
	}
	ready, err := w.await(ctx, staff, "the eligibility", "Patient at the desk", "Insured")
	if err != nil {
		return err
	}
	insurer := strings.Split(w.fed.Person.Local["insurer"], ":")
	if len(insurer) < 3 || !bytes.Contains(ready.Body, []byte(insurer[0])) || !bytes.Contains(ready.Body, []byte(insurer[2])) {
		return fmt.Errorf("the staff page does not show the insurer's number and the insured's number %v", insurer)
	}
	fmt.Fprintf(w.out, "   PIN typed at the staff page -> ECP login at the IdP (the card signed %d handshake(s)) -> the DS -> the insurer's WSP\n",
		w.desk.signatures())
	fmt.Fprintf(w.out, "   staff page %d bytes, %s after the insertion: \"Insured\", insurer number %s, number %s\n", len(ready.Body),
		since(t0), insurer[0], insurer[2])
	during, err := w.sessions(ctx)
	if err != nil {
		return err
	}
	if err := w.desk.remove(); err != nil {
		return err
	}
	if _, err := w.await(ctx, staff, "an empty screen after the card left", "Insert the card"); err != nil {
		return err
	}
	after, err := w.awaitSessions(ctx, during-1)
	if err != nil {
		return err
	}
	fmt.Fprintf(w.out, "   card out: the staff page shows \"Insert the card\" again; IdP sessions in the relay database %d -> %d (the visit logged out)\n",
		during, after)
	return nil
}

// sessions counts the IdP sessions in the relay database.
func (w *walker) sessions(ctx context.Context) (int, error) {
	db, _, err := w.openRelay()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM sessions").Scan(&n)
	return n, err
}

// awaitSessions waits until the relay database holds want IdP sessions.
func (w *walker) awaitSessions(ctx context.Context, want int) (int, error) {
	deadline := time.Now().Add(deskWait)
	for {
		n, err := w.sessions(ctx)
		if err != nil || n == want {
			return n, err
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("the relay database holds %d IdP sessions %s after the card left, want %d: the visit was not logged out", n, deskWait, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// await reads the staff page until it shows every text, within deskWait.
func (w *walker) await(ctx context.Context, staff *browser.Browser, what string, texts ...string) (*browser.Page, error) {
	deadline := time.Now().Add(deskWait)
	var p *browser.Page
	var err error
	for time.Now().Before(deadline) {
		p, err = staff.Get(ctx, w.fed.Terminal+"/?lang=en")
		if err == nil {
			w.pages["terminal"] = p.Body
			ok := p.Status == http.StatusOK
			for _, t := range texts {
				ok = ok && bytes.Contains(p.Body, []byte(t))
			}
			if ok {
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("the staff page never showed %s within %s (last: %v)", what, deskWait, err)
}
