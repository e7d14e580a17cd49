// Command renkei-idp runs Renkei's SAML 2.0 Identity Provider: the main
// HTTPS listener (metadata, Web SSO over HTTP-Redirect and HTTP-POST,
// IdP-initiated SSO) and the card-login TLS listener (card login, ECP).
//
//	renkei-idp -config idp.json
//	renkei-idp -config idp.json -print-metadata
//
// The configuration file is JSON (idpconf.File; unknown fields are
// refused, and every problem is reported at once). A minimal one, with
// the loopback listen addresses and the SQLite store left to defaults:
//
//	{
//	  "entityID": "https://idp.example.org/saml",
//	  "baseURL": "https://idp.example.org",
//	  "cardBaseURL": "https://login.idp.example.org",
//	  "tls": {"cert": "tls.crt", "key": "tls.key"},
//	  "cardTLS": {"cert": "login.crt", "key": "login.key"},
//	  "signing": {"cert": "signing.crt", "key": "signing.key"},
//	  "rolloverCert": "signing-next.crt",
//	  "encryption": {"cert": "enc.crt", "key": "enc.key"},
//	  "cardCA": "card-ca.crt", "cardCRL": "card.crl",
//	  "softCA": "service-ca.crt",
//	  "metadata": [{"location": "https://operator.example.org/aggregate.xml", "operatorCert": "operator.crt"}],
//	  "store": "postgres://idp@db.example.org/renkei",
//	  "discovery": {"entityID": "https://ds.example.org", "address": "https://ds.example.org/soap", "encryptionCert": "ds-enc.crt"},
//	  "lifetimes": {"assertion": "5m", "session": "8h", "bootstrap": "2h", "ecp": "120s"},
//	  "quirks": {"https://legacy.example.org/sp": {"allowSHA1": true, "signResponse": true}},
//	  "idpInitiated": ["https://portal.example.org/sp"]
//	}
//
// IdP-initiated SSO (GET /sso/init?sp=ENTITYID&RelayState=...) is served
// only to the SPs idpInitiated lists: unsolicited responses are a CSRF
// vector for SPs that did not ask for them (SAML2.md §3.4). The servers
// stop gracefully on SIGINT or SIGTERM; expired sessions, pending requests
// and replay entries are collected every ten minutes; the CRL files are
// read again every thirty seconds (a newer CRL signed by its CA replaces
// the one in use; anything else is logged and the old one kept).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/idpconf"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, log.New(os.Stderr, "renkei-idp: ", log.LstdFlags)); err != nil {
		fmt.Fprintln(os.Stderr, "renkei-idp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer, lg *log.Logger) error {
	fs := flag.NewFlagSet("renkei-idp", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (JSON)")
	printMD := fs.Bool("print-metadata", false, "print the IdP's signed metadata and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("-config is required")
	}
	c, err := idpconf.Read(*path)
	if err != nil {
		return err
	}
	if *printMD {
		return printMetadata(ctx, c, out)
	}
	return serve(ctx, c, lg)
}

// printMetadata writes the signed metadata; it opens a private in-memory
// store so that printing touches no database.
func printMetadata(ctx context.Context, c *idpconf.File, out io.Writer) error {
	s, err := build(ctx, c, "sqlite::memory:")
	if err != nil {
		return err
	}
	defer s.db.Close()
	el, err := s.sso.SignedMetadata(time.Now().UTC().Truncate(time.Second))
	if err != nil {
		return err
	}
	b, err := xmlsec.Serialize(el)
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err
}

// serve runs both listeners and the metadata refresh until ctx ends.
func serve(ctx context.Context, c *idpconf.File, lg *log.Logger) error {
	s, err := build(ctx, c, c.Store)
	if err != nil {
		return err
	}
	defer s.db.Close()
	if err := s.set.Refresh(ctx, time.Now()); err != nil {
		lg.Printf("metadata: %v (serving what loaded)", err)
	}
	go func() { _ = s.set.Run(ctx) }()
	go collect(ctx, s, lg)
	go s.keys.crls.run(ctx, crlInterval, lg.Printf)
	g := &httpx.Group{}
	if err := g.Start(s.servers(lg.Printf)...); err != nil {
		return err
	}
	lg.Printf("serving %s on %s, card login on %s", c.EntityID, g.Addr("main"), g.Addr("card"))
	err = g.Wait(ctx)
	lg.Printf("stopped")
	return err
}

// collect removes expired rows from the store until ctx ends.
func collect(ctx context.Context, s *service, lg *log.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.db.GarbageCollect(ctx, time.Now()); err != nil {
				lg.Printf("garbage collection: %v", err)
			}
		}
	}
}
