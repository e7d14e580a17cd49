package virtual

import (
	"net"
	"syscall"
)

// quickACK sets TCP_QUICKACK, which Linux clears after each ACK and so must
// be set again before every read.
func quickACK(conn net.Conn) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
