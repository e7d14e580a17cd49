//go:build !cgo

package card

import "context"

// Context is unavailable without cgo; Establish says so.
type Context struct{}

// Establish fails: PC/SC needs cgo (libpcsclite).
func Establish() (*Context, error) { return nil, ErrNoCgo }

// Release does nothing.
func (c *Context) Release() error { return nil }

// Readers fails without cgo.
func (c *Context) Readers() ([]string, error) { return nil, ErrNoCgo }

// CardPresent fails without cgo.
func (c *Context) CardPresent(string) (bool, error) { return false, ErrNoCgo }

// WaitForCard fails without cgo.
func (c *Context) WaitForCard(context.Context, string) error { return ErrNoCgo }

// WaitForRemoval fails without cgo.
func (c *Context) WaitForRemoval(context.Context, string) error { return ErrNoCgo }

// Conn is unavailable without cgo.
type Conn struct{ Reader string }

// Connect fails without cgo.
func (c *Context) Connect(string) (*Conn, error) { return nil, ErrNoCgo }

// Transmit fails without cgo.
func (k *Conn) Transmit([]byte) ([]byte, error) { return nil, ErrNoCgo }

// Transaction fails without cgo.
func (k *Conn) Transaction(func() error) error { return ErrNoCgo }

// ATR fails without cgo.
func (k *Conn) ATR() ([]byte, error) { return nil, ErrNoCgo }

// Close does nothing.
func (k *Conn) Close() error { return nil }
