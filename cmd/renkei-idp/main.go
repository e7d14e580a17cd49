// Command renkei-idp runs Renkei's SAML 2.0 Identity Provider, as
// internal/idpserver assembles it: the main HTTPS listener (metadata, Web
// SSO over HTTP-Redirect and HTTP-POST, IdP-initiated SSO, Single Logout,
// ManageNameID) and the card-login TLS listener (card login, ECP).
//
//	renkei-idp -config idp.json
//	renkei-idp -config idp.json -print-metadata
//	renkei-idp -config idp.json -cpuprofile idp.pprof
//	renkei-idp -config idp.json logout -principal ID
//	renkei-idp -config idp.json nim -principal ID -sp ENTITYID -terminate|-newid
//
// The operator commands work on the store and metadata the configuration
// names, beside the running IdP: logout ends every session of the
// principal and sends each participant a LogoutRequest over its SOAP
// SingleLogoutService (it fails, after ending the sessions, when a
// participant did not log out); nim sends the SP a ManageNameIDRequest
// over SOAP that terminates the federation or gives it a new NameID.
//
// The configuration file is JSON (idpserver.File; unknown fields are
// refused, and every problem is reported at once). "checkOutgoing": true
// schema-checks every assertion and SSO Response before it leaves (off by
// default: the IdP builds them from typed values, and its tests check
// every shape it sends). A minimal one, with
// the loopback listen addresses and the SQLite store left to defaults:
//
//	{
//	  "entityID": "https://idp.example.org/saml",
//	  "baseURL": "https://idp.example.org",
//	  "admin": "127.0.0.1:9101",
//	  "cardBaseURL": "https://login.idp.example.org",
//	  "tls": {"cert": "tls.crt", "key": "tls.key"},
//	  "cardTLS": {"cert": "login.crt", "key": "login.key"},
//	  "tlsTicketKeys": "tls-tickets.key",
//	  "signing": {"cert": "signing.crt", "key": "signing.key"},
//	  "rolloverCert": "signing-next.crt",
//	  "encryption": {"cert": "enc.crt", "key": "enc.key"},
//	  "cardCA": "card-ca.crt", "cardCRL": "card.crl",
//	  "ocsp": {"responder": "http://ra.example.org:8089/", "timeout": "2s"},
//	  "softCA": "service-ca.crt",
//	  "trustedRoots": "sp-roots.pem",
//	  "metadata": [{"location": "https://operator.example.org/aggregate.xml", "operatorCert": "operator.crt"}],
//	  "store": "postgres://idp@db.example.org/renkei",
//	  "discovery": {"entityID": "https://ds.example.org"},
//	  "lifetimes": {"assertion": "5m", "session": "8h", "bootstrap": "2h", "ecp": "120s", "artifact": "60s"},
//	  "quirks": {"https://legacy.example.org/sp": {"allowSHA1": true, "signResponse": true}},
//	  "idpInitiated": ["https://portal.example.org/sp"],
//	  "attributes": "attributes.json",
//	  "release": {"https://portal.example.org/sp": ["displayName", "mail"]},
//	  "nameIDMapping": {"https://portal.example.org/sp": ["https://hospital-a.example.org/metadata"]},
//	  "checkOutgoing": false
//	}
//
// Attributes come from the operator's file (keyed by principal; the names
// idp.AttributeOID knows, sent as urn:oid: names), never from the store;
// release names what each SP receives (none when not listed), in its
// assertions and to its AttributeQuery at /aq; nameIDMapping allows each
// requester to obtain, at /nimap, the principal's NameID at the listed
// providers, encrypted for them.
//
// tlsTicketKeys is a file of TLS session ticket keys that every node of
// the IdP shares (one per line, 64 hex digits such as `openssl rand -hex
// 32` prints; the first encrypts, the others are still accepted), so that
// a returning browser resumes its TLS session at any node of the main
// listener. The card-login listener never resumes: each card login is a
// new signature by the card.
//
// The Discovery Service is named by its entityID alone: its SOAP endpoint
// and encryption key are read from the metadata (its
// urn:renkei:metadata:1.0 web service role, wsf/metadir) at each token,
// and the server refuses to start when the metadata lists neither.
//
// A Response sent by HTTP-Artifact waits for its one resolution by its SP
// (ArtifactResolve over SOAP at cardBaseURL/artifact, authenticated by the
// SP's signature or TLS client certificate) for lifetimes.artifact (60 s
// by default), in the store every IdP node shares.
//
// IdP-initiated SSO (GET /sso/init?sp=ENTITYID&RelayState=...) is served
// only to the SPs idpInitiated lists: unsolicited responses are a CSRF
// vector for SPs that did not ask for them (SAML2.md §3.4). The servers
// stop gracefully on SIGINT or SIGTERM; expired sessions, pending requests
// and replay entries are collected every ten minutes; the CRL files are
// read again every thirty seconds (a newer CRL signed by its CA replaces
// the one in use; anything else is logged and the old one kept). SIGHUP
// reads the metadata sources and the CRL files again at once, and logs
// which SPs were added, removed or changed.
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
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
)

func main() {
	rolekit.TuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, slog.New(slog.NewJSONHandler(os.Stderr, nil)).With(slog.String("service", "renkei-idp"))); err != nil {
		fmt.Fprintln(os.Stderr, "renkei-idp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer, lg *slog.Logger) error {
	fs := flag.NewFlagSet("renkei-idp", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (JSON)")
	printMD := fs.Bool("print-metadata", false, "print the IdP's signed metadata and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server's whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("-config is required")
	}
	c, err := idpserver.Read(*path)
	if err != nil {
		return err
	}
	if *printMD {
		return printMetadata(ctx, c, out)
	}
	if fs.NArg() > 0 {
		return operate(ctx, c, fs.Args(), out, lg)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	s, err := idpserver.Build(ctx, c, idpserver.Options{Log: lg, Reload: hup})
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		return profiled(*cpuProfile, func() error { return s.Run(ctx) })
	}
	return s.Run(ctx)
}

// profiled runs serve under the CPU profiler, writing the profile to path
// once serve returns (after a graceful stop).
func profiled(path string, serve func() error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return serve()
}

// printMetadata writes the signed metadata; it opens a private in-memory
// store so that printing touches no database.
func printMetadata(ctx context.Context, c *idpserver.File, out io.Writer) (err error) {
	s, err := idpserver.Build(ctx, c, idpserver.Options{Store: "sqlite::memory:"})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Shutdown()) }()
	b, err := s.SignedMetadata(time.Now().UTC().Truncate(time.Second))
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err
}
