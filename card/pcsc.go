//go:build cgo

package card

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ebfe/scard"
)

// pollStep bounds each GetStatusChange wait, so that a cancelled ctx is
// seen within this long.
const pollStep = 250 * time.Millisecond

// Context is a PC/SC context (SCardEstablishContext). Release it when done.
type Context struct{ sc *scard.Context }

// Establish connects to pcscd.
func Establish() (*Context, error) {
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, mapErr(err)
	}
	return &Context{sc: sc}, nil
}

// Release frees the context.
func (c *Context) Release() error { return mapErr(c.sc.Release()) }

// Readers lists the connected readers; none is an empty list, not an error.
func (c *Context) Readers() ([]string, error) {
	rs, err := c.sc.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, nil
	}
	return rs, mapErr(err)
}

// CardPresent reports whether reader holds a card.
func (c *Context) CardPresent(reader string) (bool, error) {
	st := []scard.ReaderState{{Reader: reader, CurrentState: scard.StateUnaware}}
	if err := c.sc.GetStatusChange(st, 0); err != nil && !errors.Is(err, scard.ErrTimeout) {
		return false, mapErr(err)
	}
	return st[0].EventState&scard.StatePresent != 0, nil
}

// WaitForCard blocks until reader holds a card or ctx ends.
func (c *Context) WaitForCard(ctx context.Context, reader string) error {
	return c.waitFor(ctx, reader, true)
}

// WaitForRemoval blocks until reader holds no card or ctx ends.
func (c *Context) WaitForRemoval(ctx context.Context, reader string) error {
	return c.waitFor(ctx, reader, false)
}

func (c *Context) waitFor(ctx context.Context, reader string, present bool) error {
	st := []scard.ReaderState{{Reader: reader, CurrentState: scard.StateUnaware}}
	for {
		err := c.sc.GetStatusChange(st, pollStep)
		if err != nil && !errors.Is(err, scard.ErrTimeout) {
			return mapErr(err)
		}
		if (st[0].EventState&scard.StatePresent != 0) == present {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		st[0].CurrentState = st[0].EventState &^ scard.StateChanged
	}
}

// Conn is a connection to the card in one reader. Transmit and
// Transaction are serialized: one APDU exchange at a time.
type Conn struct {
	mu     sync.Mutex // one APDU exchange at a time
	txMu   sync.Mutex // one transaction at a time
	card   *scard.Card
	ctx    *Context
	Reader string
}

// Connect opens a shared T=1 (or T=0) connection to the card in reader.
func (c *Context) Connect(reader string) (*Conn, error) {
	if err := c.checkReader(reader); err != nil {
		return nil, err
	}
	k, err := c.sc.Connect(reader, scard.ShareShared, scard.ProtocolAny)
	if err != nil {
		return nil, fmt.Errorf("card: connect to %q: %w", reader, mapErr(err))
	}
	return &Conn{card: k, ctx: c, Reader: reader}, nil
}

func (c *Context) checkReader(reader string) error {
	rs, err := c.Readers()
	if err != nil {
		return err
	}
	if !slices.Contains(rs, reader) {
		return fmt.Errorf("%w: %q (readers: %q)", ErrNoReader, reader, rs)
	}
	return nil
}

// Transmit sends one command APDU and returns the response APDU.
func (k *Conn) Transmit(apdu []byte) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, err := k.card.Transmit(apdu)
	if err == nil && len(r) < 2 {
		// pcscd answers an exchange the reader driver failed with no bytes.
		err = errNoResponse
	}
	return r, k.explain(err)
}

var errNoResponse = errors.New("card: the reader returned no response APDU")

// Transaction runs fn inside SCardBeginTransaction/SCardEndTransaction so
// that no other application's APDUs come between those fn sends.
func (k *Conn) Transaction(fn func() error) error {
	k.txMu.Lock()
	defer k.txMu.Unlock()
	if err := k.card.BeginTransaction(); err != nil {
		return k.explain(err)
	}
	err := fn()
	if e := k.card.EndTransaction(scard.LeaveCard); err == nil && e != nil {
		err = k.explain(e)
	}
	return err
}

// ATR returns the card's answer-to-reset.
func (k *Conn) ATR() ([]byte, error) {
	st, err := k.card.Status()
	if err != nil {
		return nil, k.explain(err)
	}
	return st.Atr, nil
}

// Close disconnects, leaving the card powered and its PIN status intact.
func (k *Conn) Close() error { return mapErr(k.card.Disconnect(scard.LeaveCard)) }

// explain turns a failed exchange into ErrCardRemoved when the card is no
// longer in the reader: pcscd reports a card pulled mid-command as a
// transmission error, and its removal at the next presence poll.
func (k *Conn) explain(err error) error {
	if err == nil {
		return nil
	}
	err = mapErr(err)
	if errors.Is(err, ErrCardRemoved) || errors.Is(err, ErrNoService) {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if k.ctx.WaitForRemoval(ctx, k.Reader) == nil {
		return fmt.Errorf("%w (%v)", ErrCardRemoved, err)
	}
	return err
}

// mapErr wraps PC/SC codes into this package's errors, keeping the code.
func mapErr(err error) error {
	var code scard.Error
	if err == nil || !errors.As(err, &code) {
		return err
	}
	switch code {
	case scard.ErrNoService, scard.ErrServiceStopped:
		return fmt.Errorf("%w (%v)", ErrNoService, err)
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable, scard.ErrNoReadersAvailable:
		return fmt.Errorf("%w (%v)", ErrNoReader, err)
	case scard.ErrNoSmartcard:
		return fmt.Errorf("%w (%v)", ErrNoCard, err)
	case scard.ErrRemovedCard, scard.ErrResetCard:
		return fmt.Errorf("%w (%v)", ErrCardRemoved, err)
	}
	return err
}
