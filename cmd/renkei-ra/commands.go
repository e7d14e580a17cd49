package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/ra"
)

// flags is a command's flag set with the common -dir flag.
type flags struct {
	*flag.FlagSet
	dir *string
}

func newFlags(name string) flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return flags{FlagSet: fs, dir: fs.String("dir", "", "RA directory")}
}

func (f flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	if *f.dir == "" {
		return errors.New("-dir is required")
	}
	return nil
}

func (f flags) open() (*ra.Authority, error) { return ra.Open(ra.Config{Dir: *f.dir}) }

func cmdInit(args []string, out io.Writer) error {
	f := newFlags("init")
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := ra.Init(ra.Config{Dir: *f.dir})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "card-issuer CA: %s\nservice CA:     %s\n", a.CardCA().Subject, a.ServiceCA().Subject)
	return nil
}

func cmdCard(args []string, out io.Writer) error { return issueCard("card", args, out, false) }

func cmdReissue(args []string, out io.Writer) error { return issueCard("reissue", args, out, true) }

// issueCard makes a new key, certifies it for the card number and writes
// the virtual card file; reissue first revokes the previous certificates.
func issueCard(name string, args []string, out io.Writer, reissue bool) error {
	f := newFlags(name)
	number := f.String("number", "", "card number")
	keyType := f.String("key", "p256", "key type: p256 or rsa2048")
	file := f.String("out", "", "virtual card file to write")
	if err := f.parse(args); err != nil {
		return err
	}
	if *number == "" || *file == "" {
		return errors.New("-number and -out are required")
	}
	a, err := f.open()
	if err != nil {
		return err
	}
	key, err := ra.NewKey(*keyType, nil)
	if err != nil {
		return err
	}
	issue := a.IssueCard
	if reissue {
		issue = a.Reissue
	}
	cert, err := issue(*number, key.Public())
	if err != nil {
		return err
	}
	if err := virtual.Create(*file, *number, key, cert, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "card %s: certificate serial %s, file %s, PIN %s\n", *number, cert.SerialNumber, *file, virtual.DefaultPIN)
	return nil
}

func cmdRevoke(args []string, out io.Writer) error {
	f := newFlags("revoke")
	number := f.String("number", "", "card number")
	reason := f.Int("reason", 1, "RFC 5280 reason code (1 keyCompromise, 4 superseded, 5 cessationOfOperation)")
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := f.open()
	if err != nil {
		return err
	}
	if err := a.Revoke(*number, *reason); err != nil {
		return err
	}
	fmt.Fprintf(out, "card %s revoked; CRL %s rewritten\n", *number, ra.CardCRL)
	return nil
}

func cmdCRL(args []string, out io.Writer) error {
	f := newFlags("crl")
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := f.open()
	if err != nil {
		return err
	}
	crl, err := a.WriteCRL()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "CRL %s: %d revoked, next update %s\n", crl.Number, len(crl.RevokedCertificateEntries), crl.NextUpdate.UTC().Format("2006-01-02"))
	return nil
}

func cmdServer(args []string, out io.Writer) error {
	f := newFlags("server")
	role := f.String("role", "", "role name, e.g. idp, discovery, portal, wsp-hospital-a")
	dns := f.String("dns", "localhost", "comma-separated DNS names")
	if err := f.parse(args); err != nil {
		return err
	}
	if *role == "" || strings.ContainsAny(*role, "/\\") {
		return errors.New("-role must be a plain name")
	}
	a, err := f.open()
	if err != nil {
		return err
	}
	cert, _, err := a.IssueServer(*role, strings.Split(*dns, ","))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s.crt and %s.key for %v\n", *role, *role, cert.DNSNames)
	return nil
}

func cmdSoft(args []string, out io.Writer) error {
	f := newFlags("soft")
	name := f.String("name", "Renkei demo citizen", "subject common name")
	password := f.String("password", "", "PKCS#12 password")
	file := f.String("out", "", "PKCS#12 file to write")
	if err := f.parse(args); err != nil {
		return err
	}
	if *password == "" || *file == "" {
		return errors.New("-password and -out are required")
	}
	a, err := f.open()
	if err != nil {
		return err
	}
	p12, err := a.IssueSoft(*name, *password)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "soft demo certificate written to %s\n", *file)
	return os.WriteFile(*file, p12, 0o600)
}

func cmdList(args []string, out io.Writer) error {
	f := newFlags("list")
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := f.open()
	if err != nil {
		return err
	}
	for _, c := range a.Cards() {
		state := "valid"
		if !c.RevokedAt.IsZero() {
			state = "revoked " + c.RevokedAt.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(out, "%s\tserial %s\tuntil %s\t%s\n", c.CardNumber, c.Serial, c.NotAfter.UTC().Format("2006-01-02"), state)
	}
	return nil
}
