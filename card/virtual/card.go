package virtual

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"io"
	"sync"

	"github.com/renkei-idwsf/renkei/card/piv"
)

// Options are the card's collaborators; the zero value is the real thing.
type Options struct {
	// Rand supplies ECDSA nonces; nil means crypto/rand.
	Rand io.Reader
	// BeforeCommand, when set, is called with each command APDU before the
	// card processes it (tests use it to pull the card mid-command).
	BeforeCommand func(piv.Command)
}

// LogEntry records one command the card processed and its status word.
// The leading blocks of a chained command are logged with Chained set.
type LogEntry struct {
	INS, P1, P2 byte
	SW          uint16
	Chained     bool
}

// maxChain bounds the data a chained command may accumulate.
const maxChain = 4096

// Card is one virtual PIV card. Its methods are safe for concurrent use.
type Card struct {
	mu      sync.Mutex
	path    string
	file    *File
	key     crypto.Signer
	cert    *x509.Certificate
	objects map[uint32][]byte
	opts    Options

	verified bool
	chain    *piv.Command
	pending  []byte
	log      []LogEntry
}

// Open loads the card file at path; PIN changes are written back there.
func Open(path string, opts Options) (*Card, error) {
	f, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	key, cert, err := f.keys()
	if err != nil {
		return nil, err
	}
	objs, err := objects(f, cert)
	if err != nil {
		return nil, err
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	return &Card{path: path, file: f, key: key, cert: cert, objects: objs, opts: opts}, nil
}

// Certificate returns the card's authentication certificate.
func (c *Card) Certificate() *x509.Certificate { return c.cert }

// ATR returns the card's answer-to-reset.
func (c *Card) ATR() []byte { return append([]byte(nil), ATR...) }

// Log returns the commands processed so far, oldest first.
func (c *Card) Log() []LogEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]LogEntry(nil), c.log...)
}

// Count returns how many whole commands with instruction ins the card
// processed (a chained command counts once).
func (c *Card) Count(ins byte) int {
	n := 0
	for _, e := range c.Log() {
		if e.INS == ins && !e.Chained {
			n++
		}
	}
	return n
}

// TriesLeft returns the PIN retry counter.
func (c *Card) TriesLeft() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.file.TriesLeft
}

// Reset models power off, power on or a warm reset: the PIN security
// status and any half-sent chain or pending response are dropped.
func (c *Card) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.verified, c.chain, c.pending = false, nil, nil
}

// Transmit processes one command APDU and returns the response APDU; it
// makes *Card a piv.Transmitter for in-process use.
func (c *Card) Transmit(apdu []byte) ([]byte, error) { return c.Process(apdu), nil }

// Process runs one command APDU and returns the response APDU.
func (c *Card) Process(apdu []byte) []byte {
	cmd, err := piv.ParseCommand(apdu)
	if err != nil {
		return piv.Response{SW: piv.SWWrongLength}.Bytes()
	}
	if c.opts.BeforeCommand != nil {
		c.opts.BeforeCommand(cmd)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.process(cmd)
	c.log = append(c.log, LogEntry{INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, SW: r.SW, Chained: cmd.CLA&0x10 != 0})
	return r.Bytes()
}

func (c *Card) process(cmd piv.Command) piv.Response {
	if cmd.CLA&^0x10 != 0 {
		return piv.Response{SW: piv.SWClaNotSupported}
	}
	if cmd.INS == piv.InsGetResponse {
		return c.getResponse()
	}
	c.pending = nil
	cmd, done, sw := c.unchain(cmd)
	if !done {
		return piv.Response{SW: sw}
	}
	return c.split(c.dispatch(cmd))
}

// unchain accumulates a chained command (ISO/IEC 7816-4 §5.1.1.1): each
// block with CLA bit 10 is stored and answered 9000; the last block gets
// the whole data.
func (c *Card) unchain(cmd piv.Command) (piv.Command, bool, uint16) {
	prev := c.chain
	c.chain = nil
	if prev != nil && (prev.INS != cmd.INS || prev.P1 != cmd.P1 || prev.P2 != cmd.P2) {
		prev = nil
	}
	if prev != nil {
		cmd.Data = append(append([]byte(nil), prev.Data...), cmd.Data...)
	}
	if len(cmd.Data) > maxChain {
		return cmd, false, piv.SWWrongLength
	}
	if cmd.CLA&0x10 != 0 {
		cp := cmd
		cp.Data = append([]byte(nil), cmd.Data...)
		c.chain = &cp
		return cmd, false, piv.SWOK
	}
	return cmd, true, 0
}

// split returns at most 256 bytes and announces the rest with 61xx.
func (c *Card) split(r piv.Response) piv.Response {
	if r.SW != piv.SWOK || len(r.Data) <= 256 {
		return r
	}
	c.pending = r.Data[256:]
	return piv.Response{Data: r.Data[:256], SW: 0x6100 | uint16(min(len(c.pending), 256)&0xFF)}
}

func (c *Card) getResponse() piv.Response {
	if c.pending == nil {
		return piv.Response{SW: piv.SWConditionsNotMet}
	}
	rest := c.pending
	c.pending = nil
	return c.split(piv.Response{Data: rest, SW: piv.SWOK})
}

func (c *Card) dispatch(cmd piv.Command) piv.Response {
	switch cmd.INS {
	case piv.InsSelect:
		return c.doSelect(cmd)
	case piv.InsGetData:
		return c.getData(cmd)
	case piv.InsVerify:
		return c.verify(cmd)
	case piv.InsGeneralAuth:
		return c.authenticate(cmd)
	}
	return piv.Response{SW: piv.SWInsNotSupported}
}
