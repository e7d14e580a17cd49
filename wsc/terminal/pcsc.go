package terminal

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/renkei-idwsf/renkei/card"
	"github.com/renkei-idwsf/renkei/card/piv"
)

// Reader is the desk's card reader: it reports the card arriving and
// leaving, and opens the card with the PIN the patient typed.
type Reader interface {
	WaitForCard(ctx context.Context) error
	WaitForRemoval(ctx context.Context) error
	// Open connects to the card, verifies pin and returns the card with
	// what closes the connection. A wrong PIN is a *piv.WrongPINError, a
	// blocked one piv.ErrPINBlocked.
	Open(pin string) (Card, io.Closer, error)
}

// PCSC is a Reader through pcscd (card package): one PC/SC context
// watches the reader, and each Open connects with a context of its own,
// so that watching for removal never waits on the card's APDUs.
type PCSC struct {
	Name  string
	mu    sync.Mutex
	watch *card.Context
}

// OpenPCSC connects to pcscd and watches the reader called name; ""
// picks the first reader.
func OpenPCSC(name string) (*PCSC, error) {
	ctx, err := card.Establish()
	if err != nil {
		return nil, err
	}
	if name == "" {
		rs, err := ctx.Readers()
		if err != nil || len(rs) == 0 {
			_ = ctx.Release()
			return nil, errors.Join(card.ErrNoReader, err)
		}
		name = rs[0]
	}
	return &PCSC{Name: name, watch: ctx}, nil
}

// Close releases the watching context.
func (p *PCSC) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.watch == nil {
		return nil
	}
	err := p.watch.Release()
	p.watch = nil
	return err
}

// WaitForCard blocks until the reader holds a card.
func (p *PCSC) WaitForCard(ctx context.Context) error {
	return p.wait(ctx, (*card.Context).WaitForCard)
}

// WaitForRemoval blocks until the reader holds no card.
func (p *PCSC) WaitForRemoval(ctx context.Context) error {
	return p.wait(ctx, (*card.Context).WaitForRemoval)
}

// wait runs fn on the watching context. A failure that is not ctx's
// (pcscd restarted, the reader unplugged) drops the context, so that the
// next wait connects to pcscd afresh: the desk's loop retries.
func (p *PCSC) wait(ctx context.Context, fn func(*card.Context, context.Context, string) error) error {
	p.mu.Lock()
	if p.watch == nil {
		w, err := card.Establish()
		if err != nil {
			p.mu.Unlock()
			return err
		}
		p.watch = w
	}
	w := p.watch
	p.mu.Unlock()
	err := fn(w, ctx, p.Name)
	if err != nil && ctx.Err() == nil {
		p.mu.Lock()
		if p.watch == w {
			_ = w.Release()
			p.watch = nil
		}
		p.mu.Unlock()
	}
	return err
}

// Open selects the PIV application, verifies pin and reads the
// authentication certificate; the key signs on the card.
func (p *PCSC) Open(pin string) (Card, io.Closer, error) {
	ctx, err := card.Establish()
	if err != nil {
		return Card{}, nil, err
	}
	conn, err := ctx.Connect(p.Name)
	if err != nil {
		_ = ctx.Release()
		return Card{}, nil, err
	}
	c := closers{conn, ctx}
	cl := piv.NewClient(conn)
	if _, err := cl.Select(); err != nil {
		return Card{}, nil, errors.Join(err, c.Close())
	}
	if err := cl.VerifyPIN(pin); err != nil {
		return Card{}, nil, errors.Join(err, c.Close())
	}
	cert, err := cl.Certificate()
	if err != nil {
		return Card{}, nil, errors.Join(err, c.Close())
	}
	s, err := piv.NewSigner(cl)
	if err != nil {
		return Card{}, nil, errors.Join(err, c.Close())
	}
	return Card{Certificate: cert, Key: s}, c, nil
}

// closers closes the card connection, then releases its context.
type closers struct {
	conn *card.Conn
	ctx  *card.Context
}

func (c closers) Close() error { return errors.Join(c.conn.Close(), c.ctx.Release()) }
