// Command renkei-terminal runs a hospital's reception terminal, as
// internal/terminalserver assembles it: the patient's card in the PC/SC
// reader logs in at the IdP by ECP, the insurance eligibility appears at
// once on the staff page (served on loopback), the patient's results at
// other hospitals follow, the hospital's patient number can be enrolled,
// and removing the card ends everything.
//
//	renkei-terminal -config terminal.json                 serve the staff page
//	renkei-terminal -config terminal.json check [-wait 30s] < pin
//
// check reads the card's PIN from its standard input (one line: never on
// the command line, where every user of the machine could read it),
// waits for a card, prints the eligibility and ends the visit. It exits
// 0 when the patient is insured today, 2 when not, 3 when an insurer
// did not answer and none said insured, 1 on failure.
//
// The configuration file is JSON (terminalserver.File; unknown fields are
// refused, and every problem is reported at once):
//
//	{
//	  "entityID": "https://hospital-a.example.org/metadata",
//	  "baseURL": "https://127.0.0.1:8449",
//	  "admin": "127.0.0.1:9105",
//	  "ecpConsumer": "https://127.0.0.1:8449/ecp",
//	  "tls": {"cert": "tls.crt", "key": "tls.key"},
//	  "signing": {"cert": "signing.crt", "key": "signing.key"},
//	  "encryption": {"cert": "enc.crt", "key": "enc.key"},
//	  "metadata": [{"location": "https://operator.example.org/aggregate.xml", "operatorCert": "operator.crt"}],
//	  "store": "sqlite:terminal.db",
//	  "idp": "https://idp.example.org/metadata",
//	  "ds": "https://ds.example.org/metadata",
//	  "reader": "Virtual PCD 00 00",
//	  "tokenLife": "120s"
//	}
//
// The terminal is the desk of the institution whose entityID it names:
// the aggregate must list that entity with this signing and encryption
// key and the PAOS consumer ecpConsumer, the IdP with its ECP endpoint,
// and the DS.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/internal/terminalserver"
	"github.com/renkei-idwsf/renkei/wsc/terminal"
)

// Exit codes of check.
const (
	exitFailed     = 1
	exitNotInsured = 2
	exitUnknown    = 3
)

func main() {
	rolekit.TuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, slog.New(slog.NewJSONHandler(os.Stderr, nil)).With(slog.String("service", "renkei-terminal")))
	if err != nil {
		fmt.Fprintln(os.Stderr, "renkei-terminal:", err)
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string, in io.Reader, out io.Writer, lg *slog.Logger) (int, error) {
	fs := flag.NewFlagSet("renkei-terminal", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (JSON)")
	if err := fs.Parse(args); err != nil {
		return exitFailed, err
	}
	if *path == "" {
		return exitFailed, errors.New("-config is required")
	}
	rest := fs.Args()
	check := len(rest) > 0 && rest[0] == "check"
	cf := flag.NewFlagSet("check", flag.ContinueOnError)
	wait := cf.Duration("wait", 30*time.Second, "how long to wait for a card")
	var pin string
	switch {
	case check:
		if err := cf.Parse(rest[1:]); err != nil {
			return exitFailed, err
		}
		if cf.NArg() > 0 {
			return exitFailed, fmt.Errorf("check: unknown arguments %q", cf.Args())
		}
		line, err := bufio.NewReader(io.LimitReader(in, 64)).ReadString('\n')
		if pin = strings.TrimSpace(line); pin == "" {
			return exitFailed, fmt.Errorf("check reads the PIN from standard input: %v", err)
		}
	case len(rest) > 0:
		return exitFailed, fmt.Errorf("unknown arguments %q", rest)
	}
	c, err := terminalserver.Read(*path)
	if err != nil {
		return exitFailed, err
	}
	s, err := terminalserver.Build(ctx, c, terminalserver.Options{Log: lg})
	if err != nil {
		return exitFailed, err
	}
	if !check {
		if err := s.Run(ctx); err != nil {
			return exitFailed, err
		}
		return 0, nil
	}
	defer s.Shutdown()
	el, err := s.Check(ctx, pin, *wait)
	if err != nil {
		return exitFailed, err
	}
	return print(out, el), nil
}

// print writes the eligibility, one coverage per block, and returns the
// exit code: 0 when one coverage is valid today, else 3 when an insurer
// did not answer, else 2.
func print(w io.Writer, el *terminal.Eligibility) int {
	code := exitNotInsured
	if len(el.Missing) > 0 {
		code = exitUnknown
	}
	for _, c := range el.Coverages {
		state := "NOT insured"
		if c.Valid {
			state, code = "insured", 0
		} else if c.Insured {
			state = "insured, but not valid today"
		}
		fmt.Fprintf(w, "%s: %s\n", c.Institution.In("ja"), state)
		fmt.Fprintf(w, "  insurer   %s %s\n", c.InsurerNumber, c.InsurerName)
		fmt.Fprintf(w, "  symbol    %s  number %s  branch %s\n", c.Symbol, c.Number, c.Branch)
		fmt.Fprintf(w, "  copayment %s\n", percent(c.Copayment))
		fmt.Fprintf(w, "  valid     %s to %s\n", c.ValidFrom, or(c.ValidUntil, "(open)"))
	}
	for _, m := range el.Missing {
		fmt.Fprintf(w, "%s: did not answer\n", m.Institution.In("ja"))
	}
	if len(el.Coverages) == 0 && len(el.Missing) == 0 {
		fmt.Fprintln(w, "no insurer is linked to this card")
	}
	return code
}

func percent(ratio string) string {
	var f float64
	if _, err := fmt.Sscan(ratio, &f); err != nil {
		return ratio
	}
	return fmt.Sprintf("%.0f%%", f*100)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
