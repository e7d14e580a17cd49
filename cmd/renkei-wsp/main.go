// Command renkei-wsp runs one institution's WSP, as internal/wspserver
// assembles it: the Data Services Template 2.1 services its mapping file
// maps, over its back office, on one HTTPS listener that requests client
// certificates; at start and every ten minutes it brings its service
// metadata at the Discovery Service up to date.
//
//	renkei-wsp -config wsp.json
//	renkei-wsp -config wsp.json register
//	renkei-wsp sample -out DIR
//	renkei-wsp pension-office -data DIR/pension.json -listen 127.0.0.1:8090
//
// The configuration file is JSON (wspserver.File; unknown fields are
// refused, and every problem is reported at once):
//
//	{
//	  "entityID": "https://hospital-a.example.org/metadata",
//	  "baseURL": "https://wsp.hospital-a.example.org",
//	  "admin": "127.0.0.1:9103",
//	  "tls": {"cert": "tls.crt", "key": "tls.key"},
//	  "signing": {"cert": "signing.crt", "key": "signing.key"},
//	  "encryption": {"cert": "enc.crt", "key": "enc.key"},
//	  "trustedRoots": "roots.pem",
//	  "metadata": [{"location": "https://operator.example.org/aggregate.xml", "operatorCert": "operator.crt"}],
//	  "store": "sqlite:wsp-hospital-a.db",
//	  "backend": {"kind": "sql", "mapping": "hospital-a.json"},
//	  "auditReaders": ["https://portal.example.org/metadata"],
//	  "ds": "https://ds.example.org/metadata",
//	  "idp": "https://idp.example.org/metadata",
//	  "abstract": "Toto Central Hospital"
//	}
//
// The metadata aggregate must list the WSP with this signing and
// encryption key and its SOAP endpoint baseURL/wsp for every service type
// it serves, and the DS: the server refuses to start otherwise. With
// "idp", the WSP serves the SOAP SingleLogoutService baseURL/slo, through
// which that IdP's signed LogoutRequests end the tokens of a session; the
// aggregate must then list the IdP and, in the institution's SP role (its
// reception desk, with a PAOS AssertionConsumerService), that endpoint. The
// mapping file (wsp/sqlmap for a SQL database, wsp/httpjson for a REST
// API) is all an institution writes: which query finds the patient, which
// columns make each item, which statements book and cancel.
// "checkOutgoing": true schema-checks every answer before it leaves (off
// by default: answers are built from typed values).
//
// register brings the SvcMDs at the DS up to date once and prints what it
// did. sample writes the sample institutions (two hospitals whose
// databases differ in shape, the municipal insurer, the pension service)
// with their mapping files and the list of their people. pension-office
// serves the pension service's sample REST back office.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/wsp"
)

func main() {
	rolekit.TuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, slog.New(slog.NewJSONHandler(os.Stderr, nil)).With(slog.String("service", "renkei-wsp"))); err != nil {
		fmt.Fprintln(os.Stderr, "renkei-wsp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer, lg *slog.Logger) error {
	if len(args) > 0 {
		switch args[0] {
		case "sample":
			return sampleCmd(args[1:], out)
		case "pension-office":
			return pensionOffice(ctx, args[1:], lg)
		}
	}
	fs := flag.NewFlagSet("renkei-wsp", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("-config is required")
	}
	c, err := wspserver.Read(*path)
	if err != nil {
		return err
	}
	s, err := wspserver.Build(ctx, c, wspserver.Options{Log: lg})
	if err != nil {
		return err
	}
	switch fs.Arg(0) {
	case "":
		return s.Run(ctx)
	case "register":
		r, err := s.Register(ctx)
		if err == nil {
			report(out, r)
		}
		return errors.Join(err, s.Shutdown())
	}
	return errors.Join(fmt.Errorf("unknown command %q", fs.Arg(0)), s.Shutdown())
}

// report prints a registration: one line per service type, its SvcMD
// ID and what was done.
func report(out io.Writer, r *wsp.Registration) {
	done := map[string]string{}
	for what, types := range map[string][]string{"registered": r.Registered, "replaced": r.Replaced, "unchanged": r.Unchanged} {
		for _, t := range types {
			done[t] = what
		}
	}
	types := slices.Sorted(maps.Keys(r.IDs))
	for _, t := range types {
		fmt.Fprintf(out, "%s\t%s\t%s\n", t, r.IDs[t], done[t])
	}
	if len(r.Stale) > 0 {
		fmt.Fprintf(out, "the DS also holds, for no service type served now: %s\n", strings.Join(r.Stale, " "))
	}
}
