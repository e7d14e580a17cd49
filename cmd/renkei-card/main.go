// Command renkei-card talks to smart cards through PC/SC and runs the
// virtual PIV card:
//
//	renkei-card readers                       list readers and whether a card is in
//	renkei-card cert   [-reader R] [-pem]     show the card's authentication certificate
//	renkei-card sign   [-reader R] [-pin P] [-pss] CHALLENGE
//	                                          verify the PIN and sign SHA-256(CHALLENGE)
//	renkei-card virtual -card FILE (-connect HOST:PORT | -listen 127.0.0.1:PORT)
//	                    [-control 127.0.0.1:PORT] [-v]
//	                                          run the virtual card for vpcd
//	renkei-card control -addr 127.0.0.1:PORT insert|remove|status
//	                                          tell a virtual card's control socket (or
//	                                          the reader of renkei demo) what to do
//
// With Debian's default vpcd configuration (/etc/reader.conf.d/vpcd, port
// 0x8C7B = 35963 in server mode) and the system pcscd, the demo card is
//
//	renkei-ra init -dir ra && renkei-ra card -dir ra -number 0001 -out card.json
//	renkei-card virtual -card card.json -connect 127.0.0.1:35963 -control 127.0.0.1:35900
//
// Reverse mode (-listen) suits a vpcd whose reader.conf has DEVICENAME
// 127.0.0.1:PORT; Debian 12's vpcd then needs the card listening before
// pcscd starts and cannot survive a removal (see internal/vpcd).
//
// The PIN may also come from the RENKEI_PIN environment variable.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "renkei-card:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: renkei-card readers|cert|sign|virtual|control [flags]")
	}
	cmds := map[string]func([]string, io.Writer) error{
		"readers": cmdReaders, "cert": cmdCert, "sign": cmdSign, "virtual": cmdVirtual, "control": cmdControl,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q: want readers, cert, sign, virtual or control", args[0])
	}
	return cmd(args[1:], out)
}
