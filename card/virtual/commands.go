package virtual

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"math/big"

	"github.com/renkei-idwsf/renkei/card/piv"
)

// doSelect selects the PIV application by its full AID or a prefix of at
// least the RID and PIX (SP 800-73-4 Part 2 §3.1.1 allows a right-truncated
// AID); anything else is 6A82. Selecting the PIV application again keeps
// the PIN status, as OpenSC expects when it re-selects before operations.
func (c *Card) doSelect(cmd piv.Command) piv.Response {
	if cmd.P1 != 0x04 || cmd.P2 != 0x00 {
		return piv.Response{SW: piv.SWIncorrectP1P2}
	}
	if len(cmd.Data) < 9 || !bytes.HasPrefix(piv.AID, cmd.Data) {
		return piv.Response{SW: piv.SWFileNotFound}
	}
	return piv.Response{Data: selectResponse(), SW: piv.SWOK}
}

// getData serves GET DATA (SP 800-73-4 Part 2 §3.1.2): P1-P2 must be 3FFF
// and the data a 5C tag list naming one object.
func (c *Card) getData(cmd piv.Command) piv.Response {
	if cmd.P1 != 0x3F || cmd.P2 != 0xFF {
		return piv.Response{SW: piv.SWIncorrectP1P2}
	}
	tags, err := piv.ParseTLVs(cmd.Data)
	if err != nil || len(tags) != 1 || tags[0].Tag != 0x5C || len(tags[0].Value) == 0 || len(tags[0].Value) > 3 {
		return piv.Response{SW: piv.SWWrongData}
	}
	var tag uint32
	for _, b := range tags[0].Value {
		tag = tag<<8 | uint32(b)
	}
	obj, ok := c.objects[tag]
	if !ok {
		return piv.Response{SW: piv.SWFileNotFound}
	}
	return piv.Response{Data: obj, SW: piv.SWOK}
}

// verify implements VERIFY for the PIV Card Application PIN, reference 80
// (SP 800-73-4 Part 2 §3.2.1): empty data asks for the status, P1 FF
// resets it, 63Cx reports tries left and 6983 a blocked PIN. The counter
// is saved to the card file after every change.
func (c *Card) verify(cmd piv.Command) piv.Response {
	if cmd.P2 != 0x80 {
		return piv.Response{SW: 0x6A88}
	}
	switch {
	case cmd.P1 == 0xFF && len(cmd.Data) == 0:
		c.verified = false
		return piv.Response{SW: piv.SWOK}
	case cmd.P1 != 0x00:
		return piv.Response{SW: piv.SWIncorrectP1P2}
	case c.file.TriesLeft <= 0:
		return piv.Response{SW: piv.SWAuthBlocked}
	case len(cmd.Data) == 0 && c.verified:
		return piv.Response{SW: piv.SWOK}
	case len(cmd.Data) == 0:
		return piv.Response{SW: 0x63C0 | uint16(c.file.TriesLeft)}
	case len(cmd.Data) != 8:
		return piv.Response{SW: piv.SWWrongData}
	}
	return c.checkPIN(cmd.Data)
}

func (c *Card) checkPIN(given []byte) piv.Response {
	want, err := piv.EncodePIN(c.file.PIN)
	if err == nil && subtle.ConstantTimeCompare(want, given) == 1 {
		c.verified = true
		return c.setTries(c.file.MaxTries, piv.SWOK)
	}
	c.verified = false
	left := c.file.TriesLeft - 1
	if left <= 0 {
		return c.setTries(0, piv.SWAuthBlocked)
	}
	return c.setTries(left, 0x63C0|uint16(left))
}

// setTries persists the retry counter; a card that cannot remember a
// failed try refuses the command (6581, memory failure).
func (c *Card) setTries(n int, sw uint16) piv.Response {
	if c.file.TriesLeft == n {
		return piv.Response{SW: sw}
	}
	c.file.TriesLeft = n
	if err := c.file.Save(c.path); err != nil {
		return piv.Response{SW: 0x6581}
	}
	return piv.Response{SW: sw}
}

// authenticate implements GENERAL AUTHENTICATE with key 9A, internal
// authenticate (SP 800-73-4 Part 2 §3.2.4, Appendix A.3): the PIN must be
// verified, P1 must name the key's algorithm, and the template must carry
// an empty 82 and the 81 challenge.
func (c *Card) authenticate(cmd piv.Command) piv.Response {
	if cmd.P2 != piv.KeyAuthentication {
		return piv.Response{SW: piv.SWFileNotFound}
	}
	if cmd.P1 != c.algorithm() {
		return piv.Response{SW: piv.SWIncorrectP1P2}
	}
	if !c.verified {
		return piv.Response{SW: piv.SWSecurityNotSatisfied}
	}
	challenge, ok := parseTemplate(cmd.Data)
	if !ok {
		return piv.Response{SW: piv.SWWrongData}
	}
	sig, ok := c.sign(challenge)
	if !ok {
		return piv.Response{SW: piv.SWWrongData}
	}
	out := piv.AppendTLV(nil, 0x7C, piv.AppendTLV(nil, 0x82, sig))
	return piv.Response{Data: out, SW: piv.SWOK}
}

func (c *Card) algorithm() byte {
	if _, ok := c.key.(*rsa.PrivateKey); ok {
		return piv.AlgRSA2048
	}
	return piv.AlgECCP256
}

func parseTemplate(data []byte) ([]byte, bool) {
	tmpl, ok := piv.Find(data, 0x7C)
	if !ok {
		return nil, false
	}
	resp, ok := piv.Find(tmpl, 0x82)
	if !ok || len(resp) != 0 {
		return nil, false
	}
	return piv.Find(tmpl, 0x81)
}

func (c *Card) sign(in []byte) ([]byte, bool) {
	switch k := c.key.(type) {
	case *rsa.PrivateKey:
		return rawRSA(k, in)
	case *ecdsa.PrivateKey:
		if len(in) != 32 {
			return nil, false
		}
		sig, err := ecdsa.SignASN1(c.opts.Rand, k, in)
		return sig, err == nil
	}
	return nil, false
}

// rawRSA is the RSA private-key primitive RSASP1 of RFC 8017 §5.2.1 with
// the CRT, followed by a check with the public exponent so that a fault
// never leaks a signature. The block must be k bytes and less than n.
// (A test card: big.Int is not constant time.)
func rawRSA(k *rsa.PrivateKey, in []byte) ([]byte, bool) {
	m := new(big.Int).SetBytes(in)
	if len(in) != k.Size() || m.Cmp(k.N) >= 0 || len(k.Primes) != 2 {
		return nil, false
	}
	p, q := k.Primes[0], k.Primes[1]
	pc := k.Precomputed
	m1 := new(big.Int).Exp(m, pc.Dp, p)
	m2 := new(big.Int).Exp(m, pc.Dq, q)
	h := new(big.Int).Sub(m1, m2)
	h.Mul(h, pc.Qinv).Mod(h, p)
	s := h.Mul(h, q).Add(h, m2)
	if new(big.Int).Exp(s, big.NewInt(int64(k.E)), k.N).Cmp(m) != 0 {
		return nil, false
	}
	return s.FillBytes(make([]byte, k.Size())), true
}
