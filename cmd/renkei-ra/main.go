// Command renkei-ra is Renkei's registration authority. Every command
// works on the RA directory given by -dir:
//
//	renkei-ra init    -dir D
//	renkei-ra card    -dir D -number N [-key p256|rsa2048] -out CARD.json
//	                  issue a card: a new key, its certificate, a virtual card file
//	renkei-ra reissue -dir D -number N [-key ...] -out CARD.json
//	                  revoke the card's certificates (superseded) and issue a new card
//	renkei-ra revoke  -dir D -number N [-reason 1]
//	renkei-ra crl     -dir D       re-sign the card-issuer CRL
//	renkei-ra server  -dir D -role ROLE [-dns a,b]
//	renkei-ra soft    -dir D -name NAME -password P -out DEMO.p12
//	renkei-ra list    -dir D
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "renkei-ra:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: renkei-ra init|card|reissue|revoke|crl|server|soft|list -dir DIR [flags]")
	}
	cmds := map[string]func([]string, io.Writer) error{
		"init": cmdInit, "card": cmdCard, "reissue": cmdReissue, "revoke": cmdRevoke,
		"crl": cmdCRL, "server": cmdServer, "soft": cmdSoft, "list": cmdList,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd(args[1:], out)
}
