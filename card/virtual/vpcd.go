package virtual

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// Control messages of the vpcd protocol: a one-byte message whose value is
// one of these (vsmartcard virtualsmartcard/src/vpcd/vpcd.h).
const (
	ctrlPowerOff byte = 0
	ctrlPowerOn  byte = 1
	ctrlReset    byte = 2
	ctrlATR      byte = 4
)

// Serve speaks the vpcd protocol on conn until it is closed: every message
// is a 2-byte big-endian length and a payload; a 1-byte payload is a
// control (power off, power on, reset, or "send your ATR", answered with
// the ATR), anything else a command APDU answered with the response APDU.
// vpcd writes the length and the payload as two segments, so TCP_QUICKACK
// is set before each read: without it delayed ACKs cost about 40 ms per
// APDU. Serve returns nil when the peer closes the connection.
func (c *Card) Serve(conn net.Conn) error {
	for {
		quickACK(conn)
		msg, err := readMsg(conn)
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.answer(conn, msg); err != nil {
			return err
		}
	}
}

func (c *Card) answer(conn net.Conn, msg []byte) error {
	if len(msg) != 1 {
		return writeMsg(conn, c.Process(msg))
	}
	switch msg[0] {
	case ctrlPowerOff, ctrlPowerOn, ctrlReset:
		c.Reset()
		return nil
	case ctrlATR:
		return writeMsg(conn, ATR)
	}
	return fmt.Errorf("virtual: unknown vpcd control byte %02X", msg[0])
}

func readMsg(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, fmt.Errorf("virtual: truncated vpcd message: %w", err)
	}
	return msg, nil
}

// writeMsg sends length and payload in one write.
func writeMsg(w io.Writer, payload []byte) error {
	buf := make([]byte, 2+len(payload))
	binary.BigEndian.PutUint16(buf, uint16(len(payload)))
	copy(buf[2:], payload)
	_, err := w.Write(buf)
	return err
}
