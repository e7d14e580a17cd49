package piv

import "fmt"

// maxGetResponse bounds the GET RESPONSE loop: 64 blocks of 256 bytes cover
// every PIV object (the largest, a certificate, is at most a few KiB).
const maxGetResponse = 64

// run sends cmd with command chaining when its data exceeds 255 bytes
// (ISO/IEC 7816-4 §5.1.1.1, SP 800-73-4 Part 2 §3), collects 61xx
// continuations with GET RESPONSE and returns the data of a 9000 answer.
func (c *Client) run(op string, cmd Command) ([]byte, error) {
	resp, err := c.sendChained(cmd)
	if err != nil {
		return nil, fmt.Errorf("piv: %s: %w", op, err)
	}
	data, err := c.collect(resp)
	if err != nil {
		return nil, fmt.Errorf("piv: %s: %w", op, err)
	}
	if data.SW != SWOK {
		return nil, &StatusError{Op: op, SW: data.SW}
	}
	return data.Data, nil
}

func (c *Client) sendChained(cmd Command) (Response, error) {
	data := cmd.Data
	for len(data) > 255 {
		part := cmd
		part.CLA |= claChain
		part.Data, part.HasLe = data[:255], false
		r, err := c.transmit(part)
		if err != nil {
			return r, err
		}
		if r.SW != SWOK {
			return r, nil
		}
		data = data[255:]
	}
	cmd.Data = data
	return c.transmit(cmd)
}

func (c *Client) collect(r Response) (Response, error) {
	out := append([]byte(nil), r.Data...)
	for i := 0; r.SW>>8 == 0x61; i++ {
		if i == maxGetResponse {
			return r, fmt.Errorf("more than %d GET RESPONSE blocks", maxGetResponse)
		}
		var err error
		r, err = c.transmit(Command{INS: InsGetResponse, HasLe: true, Le: int(r.SW & 0xFF)})
		if err != nil {
			return r, err
		}
		out = append(out, r.Data...)
	}
	return Response{Data: out, SW: r.SW}, nil
}

func (c *Client) transmit(cmd Command) (Response, error) {
	raw, err := c.t.Transmit(cmd.Bytes())
	if err != nil {
		return Response{}, err
	}
	return ParseResponse(raw)
}
