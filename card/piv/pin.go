package piv

import (
	"errors"
	"fmt"
)

// EncodePIN pads a PIV PIN of 6 to 8 digits to 8 bytes with FF
// (SP 800-73-4 Part 2 §2.4.3).
func EncodePIN(pin string) ([]byte, error) {
	if len(pin) < 6 || len(pin) > 8 {
		return nil, fmt.Errorf("piv: PIN must have 6 to 8 digits, got %d", len(pin))
	}
	out := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return nil, errors.New("piv: PIN must be digits only")
		}
		out[i] = pin[i]
	}
	return out, nil
}

// VerifyPIN presents the PIV Card Application PIN (key reference 80). A
// wrong PIN returns a *WrongPINError with the tries left; a blocked PIN
// returns ErrPINBlocked.
func (c *Client) VerifyPIN(pin string) error {
	data, err := EncodePIN(pin)
	if err != nil {
		return err
	}
	return c.do(func() error {
		return c.verify(data)
	})
}

// TriesLeft asks the card, with a VERIFY without data (SP 800-73-4 Part 2
// §3.2.1), how many PIN tries are left. It returns -1 when the PIN is
// already verified in this session.
func (c *Client) TriesLeft() (int, error) {
	var n int
	err := c.do(func() error {
		err := c.verify(nil)
		var w *WrongPINError
		switch {
		case err == nil:
			n = -1
		case errors.As(err, &w):
			n, err = w.TriesLeft, nil
		case errors.Is(err, ErrPINBlocked):
			n, err = 0, nil
		}
		return err
	})
	return n, err
}

func (c *Client) verify(data []byte) error {
	r, err := c.sendChained(Command{INS: InsVerify, P2: pinReferencePIV, Data: data})
	if err != nil {
		return fmt.Errorf("piv: VERIFY: %w", err)
	}
	return pinStatus(r.SW)
}

func pinStatus(sw uint16) error {
	switch {
	case sw == SWOK:
		return nil
	case sw&0xFFF0 == 0x63C0:
		return &WrongPINError{TriesLeft: int(sw & 0x0F)}
	case sw == SWAuthBlocked:
		return ErrPINBlocked
	}
	return &StatusError{Op: "VERIFY", SW: sw}
}
