package piv

import (
	"errors"
	"fmt"
)

// Authenticate runs GENERAL AUTHENTICATE (SP 800-73-4 Part 2 §3.2.4) with
// the private key key of algorithm alg over input, the internal
// authenticate case: the card answers the challenge (81) in the response
// tag (82). For RSA, input is the full modulus-length block and the card
// applies the raw private-key operation; for ECC it is the hash and the
// card returns a DER ECDSA signature.
func (c *Client) Authenticate(alg, key byte, input []byte) ([]byte, error) {
	body := AppendTLV(nil, tagResponse, nil)
	body = AppendTLV(body, tagChallenge, input)
	cmd := Command{INS: InsGeneralAuth, P1: alg, P2: key, Data: AppendTLV(nil, tagDynAuth, body), HasLe: true}
	var out []byte
	err := c.do(func() error {
		resp, err := c.run("GENERAL AUTHENTICATE", cmd)
		if err != nil {
			return err
		}
		out, err = parseAuthResponse(resp)
		return err
	})
	return out, err
}

func parseAuthResponse(resp []byte) ([]byte, error) {
	tmpl, ok := Find(resp, tagDynAuth)
	if !ok {
		return nil, errors.New("piv: GENERAL AUTHENTICATE answer has no 7C template")
	}
	v, ok := Find(tmpl, tagResponse)
	if !ok || len(v) == 0 {
		return nil, fmt.Errorf("piv: GENERAL AUTHENTICATE answer has no 82 response")
	}
	return v, nil
}
