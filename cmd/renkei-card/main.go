// Command renkei-card talks to smart cards through PC/SC and runs the
// virtual PIV card:
//
//	renkei-card readers                       list readers and whether a card is in
//	renkei-card cert   [-reader R] [-pem]     show the card's authentication certificate
//	renkei-card sign   [-reader R] [-pin P] [-pss] CHALLENGE
//	                                          verify the PIN and sign SHA-256(CHALLENGE)
//	renkei-card virtual -card FILE (-connect HOST:PORT | -listen 127.0.0.1:PORT)
//	                    [-control 127.0.0.1:PORT]
//	                                          run the virtual card for vpcd
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
		return fmt.Errorf("usage: renkei-card readers|cert|sign|virtual [flags]")
	}
	cmds := map[string]func([]string, io.Writer) error{
		"readers": cmdReaders, "cert": cmdCert, "sign": cmdSign, "virtual": cmdVirtual,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q: want readers, cert, sign or virtual", args[0])
	}
	return cmd(args[1:], out)
}
