package piv

import (
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
)

// Transmitter sends one command APDU and returns the response APDU. A
// PC/SC connection (card.Conn) and the virtual card both implement it.
type Transmitter interface {
	Transmit(apdu []byte) ([]byte, error)
}

// Transactor is implemented by transmitters that can hold the card for a
// sequence of APDUs (PC/SC SCardBeginTransaction), so that a chained
// command and its GET RESPONSE calls are never interleaved with another
// application's APDUs.
type Transactor interface {
	Transaction(fn func() error) error
}

// StatusError is a status word other than 9000 returned by the card.
type StatusError struct {
	Op string
	SW uint16
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("piv: %s: card answered %04X (%s)", e.Op, e.SW, swText(e.SW))
}

func swText(sw uint16) string {
	switch sw {
	case SWFileNotFound:
		return "data object or application not found"
	case SWIncorrectP1P2:
		return "incorrect P1 or P2"
	case SWInsNotSupported:
		return "instruction not supported"
	case SWSecurityNotSatisfied:
		return "security status not satisfied: PIN not verified"
	case SWAuthBlocked:
		return "PIN blocked"
	case SWWrongData:
		return "incorrect data"
	}
	return "error"
}

// ErrPINBlocked reports a PIN whose retry counter reached zero (6983).
var ErrPINBlocked = errors.New("piv: PIN blocked")

// WrongPINError reports a rejected PIN and how many tries are left
// (SW 63Cx, SP 800-73-4 Part 2 §3.2.1).
type WrongPINError struct{ TriesLeft int }

func (e *WrongPINError) Error() string {
	return fmt.Sprintf("piv: wrong PIN, %d tries left", e.TriesLeft)
}

// Client runs PIV commands over a Transmitter; its methods are safe for
// concurrent use and each runs as one card transaction.
type Client struct {
	t  Transmitter
	mu sync.Mutex
}

// NewClient returns a client for the card behind t. Call Select first.
func NewClient(t Transmitter) *Client { return &Client{t: t} }

// do runs fn under the client lock and, when t supports it, a transaction.
func (c *Client) do(fn func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tx, ok := c.t.(Transactor); ok {
		return tx.Transaction(fn)
	}
	return fn()
}

// Select selects the PIV application (SP 800-73-4 Part 2 §3.1.1) and
// returns its application property template.
func (c *Client) Select() ([]byte, error) {
	var out []byte
	err := c.do(func() (err error) {
		out, err = c.run("SELECT", Command{INS: InsSelect, P1: 0x04, Data: AID, HasLe: true})
		return err
	})
	return out, err
}

// GetData reads the data object with tag (SP 800-73-4 Part 2 §3.1.2) and
// returns its content, without the outer 53 wrapper.
func (c *Client) GetData(tag uint32) ([]byte, error) {
	var out []byte
	err := c.do(func() (err error) {
		out, err = c.getData(tag)
		return err
	})
	return out, err
}

func (c *Client) getData(tag uint32) ([]byte, error) {
	list := AppendTLV(nil, tagTagList, appendTag(nil, tag))
	resp, err := c.run("GET DATA", Command{INS: InsGetData, P1: 0x3F, P2: 0xFF, Data: list, HasLe: true})
	if err != nil {
		return nil, err
	}
	outer := tagDataObject
	if tag == TagDiscovery {
		outer = TagDiscovery
	}
	v, ok := Find(resp, outer)
	if !ok {
		return nil, fmt.Errorf("piv: GET DATA %X: no %X wrapper in the answer", tag, outer)
	}
	return v, nil
}

// Certificate reads the X.509 certificate for PIV authentication (key 9A,
// object 5FC105) from the card.
func (c *Client) Certificate() (*x509.Certificate, error) {
	obj, err := c.GetData(TagAuthCert)
	if err != nil {
		return nil, err
	}
	der, ok := Find(obj, tagCertificate)
	if !ok {
		return nil, errors.New("piv: certificate object has no 70 tag")
	}
	if info, ok := Find(obj, tagCertInfo); ok && len(info) > 0 && info[0] != 0 {
		return nil, fmt.Errorf("piv: compressed certificate (CertInfo %02X) is not supported", info[0])
	}
	return x509.ParseCertificate(der)
}
