// Command renkei is Renkei's all-in-one tool. `renkei demo` runs the
// parts of the federation that exist, for real, on loopback: the IdP with
// its card-login listener, a portal SP, and the virtual card through
// pcscd and vpcd; the Discovery Service and WSPs join it as they are built:
//
//	renkei demo [-dir DIR]
//
// `renkei metadata` builds and checks the operator's signed metadata
// aggregate:
//
//	renkei metadata aggregate -key KEY.pem -cert CERT.pem [-name NAME] [-valid-for 168h] [-cache 1h] -o OUT.xml IN.xml...
//	renkei metadata verify -cert OPERATOR.pem FILE|https-URL
//
// `renkei conformance` runs the conformance suite against an implementation
// given by its metadata (see package conformance):
//
//	renkei conformance -role idp -metadata URL|FILE [-mode idp|idp-lite] [-only web-sso,metadata] [login options] [-json F] [-junit F] [-html F]
//	renkei conformance -list
//
// Each role will add its own subcommand.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "renkei:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: renkei demo [-dir DIR] | renkei metadata aggregate|verify ... | renkei conformance -role idp -metadata URL|FILE ...")
	}
	switch args[0] {
	case "demo":
		return cmdDemo(ctx, args[1:], out)
	case "metadata":
		return cmdMetadata(ctx, args[1:], out)
	case "conformance":
		return cmdConformance(ctx, args[1:], out)
	}
	return fmt.Errorf("unknown command %q: want demo, metadata or conformance", args[0])
}
