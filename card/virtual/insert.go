package virtual

import (
	"context"
	"errors"
	"net"
	"sync"
)

// Insertion is a card sitting in a vpcd reader slot. vpcd in its default
// (server) mode listens for the card; the card "is inserted" by connecting
// and "is removed" by closing the connection, which pcscd reports as a
// removal at its next presence poll.
type Insertion struct {
	card *Card
	conn net.Conn
	once sync.Once
	done chan error
}

// Insert connects card to a reader slot with dial and serves it there.
func Insert(card *Card, dial func() (net.Conn, error)) (*Insertion, error) {
	conn, err := dial()
	if err != nil {
		return nil, err
	}
	card.Reset()
	in := &Insertion{card: card, conn: conn, done: make(chan error, 1)}
	go func() { in.done <- card.Serve(conn) }()
	return in, nil
}

// Pull takes the card out at once without waiting for it to stop; it may
// be called from the card's own BeforeCommand hook, mid-command.
func (in *Insertion) Pull() {
	in.once.Do(func() { _ = in.conn.Close() })
}

// Remove takes the card out and waits until it stopped serving.
func (in *Insertion) Remove() error {
	in.Pull()
	err := <-in.done
	in.done <- err
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// ListenAndServe is vpcd's reverse mode: the card listens (on loopback)
// and a vpcd configured with DEVICENAME host:port connects to it. It
// serves one reader connection at a time until ctx ends. With Debian 12's
// vpcd (vsmartcard 3.3) the card must be listening before pcscd starts and
// must never close the connection: see internal/vpcd.
func (c *Card) ListenAndServe(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		c.Reset()
		err = c.Serve(conn)
		conn.Close()
		if err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
}
