// Command renkei is Renkei's all-in-one tool. `renkei demo` runs the
// whole federation on loopback, every role its own process (renkei-idp,
// renkei-ds, the four sample institutions' renkei-wsp and the pension
// service's REST back office, renkei-portal, renkei-terminal with the
// virtual card through pcscd and vpcd) from the files an operator writes
// (internal/fedfiles), prints the URLs and what to try, and stops every
// role on Ctrl-C; -headless walks the story's six steps against them
// instead and exits 0 only if every step held; -nodes runs two nodes each
// of the IdP, the DS and hospital A's WSP behind round-robin balancers
// over a throwaway PostgreSQL (with -headless, one node of each is killed
// mid-story):
//
//	renkei demo [-dir DIR] [-headless] [-nodes]
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
//	renkei conformance -role idp -metadata URL|FILE -sp-key PEM [-mode idp|idp-lite] [-only web-sso,metadata] [-skip CASE,...] [-strict | -level must|should|practice] [login options] [-json F] [-junit F] [-html F]
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
		return fmt.Errorf("usage: renkei demo [-dir DIR] [-headless] [-nodes] | renkei metadata aggregate|verify ... | renkei conformance -role idp -metadata URL|FILE ...")
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
