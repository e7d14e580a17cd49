package idpserver

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
)

// TLS session tickets. A browser that comes back to the main listener
// with a ticket resumes its TLS session: no certificate, no signature, no
// key share signed by the IdP. Go's server encrypts tickets with keys of
// its own process unless told otherwise, so behind a balancer a ticket
// from one node is useless at the next; File.TLSTicketKeys names a file of
// keys that every node of one IdP shares.
//
// The card-login listener never resumes (idp.CardLoginTLSConfig): a
// resumed handshake carries the certificate of the first one without a
// new signature by the card, and a card login must prove that the card is
// there now.

// maxTicketKeys bounds the keys of the file: the first encrypts new
// tickets, the others are older ones still accepted during a rotation.
const maxTicketKeys = 8

// readTicketKeys reads a ticket key file: one key per line, 64 hex digits
// (32 random bytes, such as `openssl rand -hex 32` prints), blank lines
// ignored, the first line the current key.
func readTicketKeys(path string) ([][32]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys [][32]byte
	for i, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var k [32]byte
		if len(line) != hex.EncodedLen(len(k)) {
			return nil, fmt.Errorf("line %d: a key is 64 hex digits (32 bytes)", i+1)
		}
		if _, err := hex.Decode(k[:], line); err != nil {
			return nil, fmt.Errorf("line %d: a key is 64 hex digits (32 bytes)", i+1)
		}
		if k == ([32]byte{}) {
			return nil, fmt.Errorf("line %d: an all-zero key", i+1)
		}
		keys = append(keys, k)
	}
	switch {
	case len(keys) == 0:
		return nil, errors.New("no key")
	case len(keys) > maxTicketKeys:
		return nil, fmt.Errorf("%d keys, at most %d", len(keys), maxTicketKeys)
	}
	return keys, nil
}

// mainTLS is the main listener's TLS configuration: the IdP's TLS key,
// and the shared ticket keys when the file names them.
func (s *Server) mainTLS() *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{s.keys.tls}, MinVersion: tls.VersionTLS12}
	if len(s.keys.tickets) > 0 {
		cfg.SetSessionTicketKeys(s.keys.tickets)
	}
	return cfg
}
