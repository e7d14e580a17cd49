// Command renkei-ds runs Renkei's ID-WSF 2.0 Discovery Service, as
// internal/dsserver assembles it: one HTTPS listener that requests client
// certificates, serving the SOAP endpoint (disco:Query, the SvcMD and
// association operations) over the relay database the IdP shares.
//
//	renkei-ds -config ds.json
//	renkei-ds -config ds.json links -principal ID
//	renkei-ds -config ds.json link -principal ID -provider ENTITYID -local LOCALID -operator NAME
//	renkei-ds -config ds.json unlink -principal ID -provider ENTITYID -operator NAME
//
// The configuration file is JSON (dsserver.File; unknown fields are
// refused, and every problem is reported at once):
//
//	{
//	  "entityID": "https://ds.example.org/metadata",
//	  "baseURL": "https://ds.example.org",
//	  "admin": "127.0.0.1:9102",
//	  "tls": {"cert": "tls.crt", "key": "tls.key"},
//	  "signing": {"cert": "signing.crt", "key": "signing.key"},
//	  "encryption": {"cert": "enc.crt", "key": "enc.key"},
//	  "idp": "https://idp.example.org/metadata",
//	  "metadata": [{"location": "https://operator.example.org/aggregate.xml", "operatorCert": "operator.crt"}],
//	  "store": "postgres://ds@db.example.org/renkei",
//	  "policy": {
//	    "tokenLifetime": "10m",
//	    "portals": ["https://portal.example.org/metadata"],
//	    "reception": {"terminals": ["https://reception.hospital-a.example.org/metadata"], "maxAge": "120s",
//	      "purposes": {"urn:renkei:purpose:eligibility": ["urn:renkei:svc:eligibility:1.0"]}}
//	  },
//	  "peers": {"https://zxid.example.org/sp?o=B": "zxid"}
//	}
//
// The metadata aggregate must list the DS with this signing and
// encryption key and its SOAP endpoint baseURL/disco (its
// urn:renkei:metadata:1.0 web service role), and the IdP: the server
// refuses to start otherwise. "checkOutgoing": true schema-checks every
// answer before it leaves (off by default: answers are built from typed
// values).
//
// The operator commands read and change the relay database with the
// checks the protocol applies, and audit every change: links lists a
// principal's links (provider, NameID, local identifier, times) and the
// associations resting on each; link enrols a principal at a provider
// under its local identifier; unlink terminates the link and removes the
// associations with the provider's services.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/renkei-idwsf/renkei/internal/dsserver"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
)

func main() {
	rolekit.TuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, slog.New(slog.NewJSONHandler(os.Stderr, nil)).With(slog.String("service", "renkei-ds"))); err != nil {
		fmt.Fprintln(os.Stderr, "renkei-ds:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer, lg *slog.Logger) error {
	fs := flag.NewFlagSet("renkei-ds", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("-config is required")
	}
	c, err := dsserver.Read(*path)
	if err != nil {
		return err
	}
	s, err := dsserver.Build(ctx, c, dsserver.Options{Log: lg})
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return s.Run(ctx)
	}
	err = operate(ctx, s, fs.Arg(0), fs.Args()[1:], out)
	return errors.Join(err, s.Shutdown())
}

// operate runs one operator command.
func operate(ctx context.Context, s *dsserver.Server, cmd string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	principal := fs.String("principal", "", "principal ID")
	provider := fs.String("provider", "", "provider entityID")
	local := fs.String("local", "", "the institution's local identifier")
	operator := fs.String("operator", "", "who acts, for the audit log")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *principal == "" {
		return fmt.Errorf("%s: -principal is required", cmd)
	}
	switch cmd {
	case "links":
		return links(ctx, s, *principal, out)
	case "link":
		f, err := s.DS.LinkByHand(ctx, *operator, *principal, *provider, *local)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "linked %s to %s as %s\n", f.PrincipalID, f.ProviderID, f.SPProvidedID)
		return nil
	case "unlink":
		if err := s.DS.UnlinkByHand(ctx, *operator, *principal, *provider); err != nil {
			return err
		}
		fmt.Fprintf(out, "unlinked %s from %s\n", *principal, *provider)
		return nil
	}
	return fmt.Errorf("unknown command %q: links, link or unlink", cmd)
}

func links(ctx context.Context, s *dsserver.Server, principal string, out io.Writer) error {
	ls, err := s.DS.Links(ctx, principal)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PROVIDER\tLOCAL ID\tNAMEID\tCREATED\tTERMINATED\tASSOCIATED SVCMDS")
	for _, l := range ls {
		term := "-"
		if !l.Active() {
			term = l.Terminated.UTC().Format(time.RFC3339)
		}
		local := l.SPProvidedID
		if local == "" {
			local = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\n", l.ProviderID, local, l.NameID, l.Created.UTC().Format(time.RFC3339), term, len(l.Associated))
	}
	return w.Flush()
}
