// Package card reaches smart cards through PC/SC (pcsc-lite's pcscd, via
// github.com/ebfe/scard and cgo): it lists readers, waits for a card to be
// inserted or removed, connects, and transmits APDUs, one application at a
// time per connection. The PIV application and the card-backed
// crypto.Signer live in card/piv, the virtual card used by tests and the
// demo in card/virtual, and the card-issuer certificate checks in
// card/trust.
package card

import "errors"

// Errors of the PC/SC layer; match them with errors.Is.
var (
	// ErrNoService means pcscd is not running (or not reachable).
	ErrNoService = errors.New("card: the PC/SC service (pcscd) is not running")
	// ErrNoReader means the named reader, or any reader, is not connected.
	ErrNoReader = errors.New("card: no such smart-card reader")
	// ErrNoCard means the reader is there but holds no card.
	ErrNoCard = errors.New("card: no card in the reader")
	// ErrCardRemoved means the card was taken out during the operation.
	ErrCardRemoved = errors.New("card: the card was removed")
	// ErrNoCgo means this binary was built without cgo, hence without PC/SC.
	ErrNoCgo = errors.New("card: built without cgo: PC/SC is unavailable")
)
