// Command renkei-ra is Renkei's registration authority. Every command
// works on the RA directory given by -dir:
//
//	renkei-ra init    -dir D [-ocsp-url URL]
//	                  URL: the OCSP responder card certificates name
//	renkei-ra card    -dir D -number N [-key p256|rsa2048] -out CARD.json
//	                  [-store DSN -principal ID]
//	                  issue a card: a new key, its certificate, a virtual card file
//	renkei-ra reissue -dir D -number N [-key ...] -out CARD.json
//	                  revoke the card's certificates (superseded) and issue a
//	                  new certificate for the same card number
//	renkei-ra reissue -dir D -number OLD -new-number NEW [-key ...] -out CARD.json
//	                  -store DSN
//	                  replace card OLD by card NEW of the same principal
//	renkei-ra revoke  -dir D -number N [-reason 1] [-store DSN]
//	renkei-ra crl     -dir D       re-sign the card-issuer CRL
//	renkei-ra server  -dir D -role ROLE [-dns a,b,127.0.0.1]
//	                  a TLS key for a role; IP addresses become IP SANs
//	renkei-ra soft    -dir D -name NAME -password P -out DEMO.p12
//	                  [-store DSN -principal ID -number LABEL]
//	                  also writes DEMO.crt and DEMO.key (PEM) for non-browser clients
//	renkei-ra list    -dir D
//	renkei-ra ocsp    -dir D [-listen 127.0.0.1:8089] [-validity 10m] [-delegated]
//	                  serve OCSP (RFC 6960) for the card certificates: good,
//	                  revoked or unknown from the RA's registry, signed by the
//	                  card-issuer CA or, with -delegated, by the OCSP signer
//	renkei-ra ocsp-signer -dir D [-validity 720h]
//	                  issue the delegated OCSP signer (ocsp-signer.crt, .key)
//
// With -store (sqlite:PATH or postgres://...) a command also records what
// it does in the relay database, where the IdP looks up the principal of a
// login certificate: card and soft register the certificate's issuer and
// serial as a card of -principal (created when missing), revoke marks the
// card revoked, and reissue links the new card to the old card's
// principal, so its federations survive. The database keeps one card per
// number, so a reissue with -store needs -new-number; the old card's
// certificates go on the CRL as superseded. The RA checks the database
// before it certifies anything; revoke writes the CRL first, and a failure
// after that says exactly what was done (running revoke again completes
// it). An unreachable database changes nothing: run revoke without -store
// to put a lost card on the CRL at once.
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
		return fmt.Errorf("usage: renkei-ra init|card|reissue|revoke|crl|server|soft|list|ocsp|ocsp-signer -dir DIR [flags]")
	}
	cmds := map[string]func([]string, io.Writer) error{
		"init": cmdInit, "card": cmdCard, "reissue": cmdReissue, "revoke": cmdRevoke,
		"crl": cmdCRL, "server": cmdServer, "soft": cmdSoft, "list": cmdList, "ocsp": cmdOCSP,
		"ocsp-signer": cmdOCSPSigner,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd(args[1:], out)
}
