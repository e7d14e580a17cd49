// Command renkei-portal runs My Portal, as internal/portalserver assembles
// it: the citizen's one site over every institution, a SAML SP of the IdP
// and an ID-WSF WSC of the Discovery Service and the institutions' WSPs,
// on one HTTPS listener.
//
//	renkei-portal -config portal.json
//
// The configuration file is JSON (portalserver.File; unknown fields are
// refused, and every problem is reported at once):
//
//	{
//	  "entityID": "https://portal.example.org/metadata",
//	  "baseURL": "https://portal.example.org",
//	  "admin": "127.0.0.1:9104",
//	  "tls": {"cert": "tls.crt", "key": "tls.key"},
//	  "signing": {"cert": "signing.crt", "key": "signing.key"},
//	  "encryption": {"cert": "enc.crt", "key": "enc.key"},
//	  "metadata": [{"location": "https://operator.example.org/aggregate.xml", "operatorCert": "operator.crt"}],
//	  "store": "postgres://portal@db.example.org/renkei-portal",
//	  "idp": "https://idp.example.org/metadata",
//	  "ds": "https://ds.example.org/metadata",
//	  "timeout": "3s",
//	  "names": {"ja": "マイポータル", "en": "My Portal"}
//	}
//
// The metadata aggregate must list the portal (its SP role with this
// signing and encryption key and its assertion consumer service
// baseURL/acs), the IdP and the DS: the server refuses to start
// otherwise. Once running, the portal serves its SP metadata at
// baseURL/metadata.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/renkei-idwsf/renkei/internal/portalserver"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
)

func main() {
	rolekit.TuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], slog.New(slog.NewJSONHandler(os.Stderr, nil)).With(slog.String("service", "renkei-portal"))); err != nil {
		fmt.Fprintln(os.Stderr, "renkei-portal:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, lg *slog.Logger) error {
	fs := flag.NewFlagSet("renkei-portal", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("-config is required")
	}
	c, err := portalserver.Read(*path)
	if err != nil {
		return err
	}
	s, err := portalserver.Build(ctx, c, portalserver.Options{Log: lg})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		_ = s.Shutdown()
		return fmt.Errorf("unknown arguments %q", fs.Args())
	}
	return s.Run(ctx)
}
