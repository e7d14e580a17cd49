//go:build !linux

package virtual

import "net"

// quickACK does nothing where TCP_QUICKACK does not exist.
func quickACK(net.Conn) {}
