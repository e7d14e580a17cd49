package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/ra"
	"software.sslmate.com/src/go-pkcs12"
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

// open opens the RA directory with a clock stopped at now, read once per
// command.
func (f flags) open(now time.Time) (*ra.Authority, error) {
	return ra.Open(ra.Config{Dir: *f.dir, Now: func() time.Time { return now }})
}

func cmdInit(args []string, out io.Writer) error {
	f := newFlags("init")
	ocspURL := f.String("ocsp-url", "", "OCSP responder URL the card certificates name (where renkei-ra ocsp serves)")
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := ra.Init(ra.Config{Dir: *f.dir})
	if err != nil {
		return err
	}
	if *ocspURL != "" {
		if err := a.SetOCSPURL(*ocspURL); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "card-issuer CA: %s\nservice CA:     %s\n", a.CardCA().Subject, a.ServiceCA().Subject)
	return nil
}

func cmdCard(args []string, out io.Writer) error {
	f := newFlags("card")
	number, keyType, file := cardFlags(f)
	sf := f.storeFlags(true)
	if err := f.parse(args); err != nil {
		return err
	}
	if *number == "" || *file == "" {
		return errors.New("-number and -out are required")
	}
	if err := sf.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	now := time.Now()
	a, err := f.open(now)
	if err != nil {
		return err
	}
	r, err := sf.open(ctx, now)
	if err != nil || r == nil {
		if err == nil {
			_, err = makeCard(a.IssueCard, *number, *keyType, *file, out)
		}
		return err
	}
	defer r.Close()
	if err := r.prepare(ctx, *number); err != nil {
		return err
	}
	cert, err := makeCard(a.IssueCard, *number, *keyType, *file, out)
	if err != nil {
		return err
	}
	return r.register(ctx, *number, cert, out)
}

func cardFlags(f flags) (number, keyType, file *string) {
	return f.String("number", "", "card number"), f.String("key", "p256", "key type: p256 or rsa2048"),
		f.String("out", "", "virtual card file to write")
}

// cmdReissue replaces a card. Without -store the new certificate keeps the
// card number; with -store it gets -new-number, because the relay database
// keeps one row per card number and links the new card to the same
// principal (store.PrincipalStore.ReissueCard).
func cmdReissue(args []string, out io.Writer) error {
	f := newFlags("reissue")
	number, keyType, file := cardFlags(f)
	newNumber := f.String("new-number", "", "number of the replacement card (required with -store)")
	sf := f.storeFlags(false)
	if err := f.parse(args); err != nil {
		return err
	}
	if *number == "" || *file == "" {
		return errors.New("-number and -out are required")
	}
	if (*sf.dsn == "") != (*newNumber == "") {
		return errors.New("-store and -new-number go together: the store keeps one card per number, so a reissued card gets a new number")
	}
	now := time.Now()
	a, err := f.open(now)
	if err != nil {
		return err
	}
	if *sf.dsn == "" {
		_, err := makeCard(a.Reissue, *number, *keyType, *file, out)
		return err
	}
	return reissueRegistered(a, sf, now, *number, *newNumber, *keyType, *file, out)
}

// reissueRegistered revokes oldNumber on the CRL as superseded (first: the
// CRL is what protects against a lost card), certifies a new key as card
// newNumber and records the replacement in the store.
func reissueRegistered(a *ra.Authority, sf storeFlags, now time.Time, oldNumber, newNumber, keyType, file string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	r, err := sf.open(ctx, now)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.checkReissue(ctx, a, oldNumber, newNumber); err != nil {
		return err
	}
	if _, err := ra.NewKey(keyType, nil); err != nil {
		return err
	}
	if _, err := revokeOnCRL(a, oldNumber, 4, out); err != nil {
		return err
	}
	cert, err := makeCard(a.IssueCard, newNumber, keyType, file, out)
	if err != nil {
		return fmt.Errorf("card %q is revoked on the CRL, but the new card was not issued: %w", oldNumber, err)
	}
	return r.reissue(ctx, oldNumber, newNumber, cert, out)
}

// makeCard makes a new key, certifies it for the card number with issue
// and writes the virtual card file.
func makeCard(issue func(string, crypto.PublicKey) (*x509.Certificate, error), number, keyType, file string, out io.Writer) (*x509.Certificate, error) {
	key, err := ra.NewKey(keyType, nil)
	if err != nil {
		return nil, err
	}
	cert, err := issue(number, key.Public())
	if err != nil {
		return nil, err
	}
	if err := virtual.Create(file, number, key, cert, nil); err != nil {
		return nil, fmt.Errorf("certificate serial %s issued, but the card file was not written: %w", cert.SerialNumber, err)
	}
	fmt.Fprintf(out, "card %s: certificate serial %s, file %s, PIN %s\n", number, cert.SerialNumber, file, virtual.DefaultPIN)
	return cert, nil
}

// cmdRevoke revokes a card on the CRL and then, with -store, in the store.
func cmdRevoke(args []string, out io.Writer) error {
	f := newFlags("revoke")
	number := f.String("number", "", "card number")
	reason := f.Int("reason", 1, "RFC 5280 reason code (1 keyCompromise, 4 superseded, 5 cessationOfOperation)")
	sf := f.storeFlags(false)
	if err := f.parse(args); err != nil {
		return err
	}
	if *number == "" {
		return errors.New("-number is required")
	}
	now := time.Now()
	a, err := f.open(now)
	if err != nil {
		return err
	}
	if *sf.dsn == "" {
		if err := a.Revoke(*number, *reason); err != nil {
			return err
		}
		fmt.Fprintf(out, "card %s revoked; CRL %s rewritten\n", *number, ra.CardCRL)
		return nil
	}
	return revokeRegistered(a, sf, now, *number, *reason, out)
}

// revokeRegistered revokes number on the CRL first, the part that stops a
// lost card everywhere, then in the store. A number the RA never certified
// (a soft certificate's registration) is revoked in the store only.
func revokeRegistered(a *ra.Authority, sf storeFlags, now time.Time, number string, reason int, out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	r, err := sf.open(ctx, now)
	if err != nil {
		return err
	}
	defer r.Close()
	crlDone := false
	if raKnows(a, number) {
		if crlDone, err = revokeOnCRL(a, number, reason, out); err != nil {
			return err
		}
	} else if err := r.registeredOnly(ctx, number, out); err != nil {
		return err
	}
	return r.revoke(ctx, number, crlDone, out)
}

func cmdCRL(args []string, out io.Writer) error {
	f := newFlags("crl")
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := f.open(time.Now())
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
	dns := f.String("dns", "localhost", "comma-separated DNS names and IP addresses (an IP address becomes an IP SAN)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *role == "" || strings.ContainsAny(*role, "/\\") {
		return errors.New("-role must be a plain name")
	}
	a, err := f.open(time.Now())
	if err != nil {
		return err
	}
	cert, _, err := a.IssueServer(*role, strings.Split(*dns, ","))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s.crt and %s.key for DNS names %v, IP addresses %v\n", *role, *role, cert.DNSNames, cert.IPAddresses)
	return nil
}

// cmdSoft writes the soft demo PKCS#12; with -store it registers its
// certificate for -principal under the label -number, since the IdP accepts
// only registered certificates, soft ones included.
func cmdSoft(args []string, out io.Writer) error {
	f := newFlags("soft")
	name := f.String("name", "Renkei demo citizen", "subject common name")
	password := f.String("password", "", "PKCS#12 password")
	file := f.String("out", "", "PKCS#12 file to write")
	label := f.String("number", "", "card number (a label) the certificate is registered under (with -store)")
	sf := f.storeFlags(true)
	if err := f.parse(args); err != nil {
		return err
	}
	if *password == "" || *file == "" {
		return errors.New("-password and -out are required")
	}
	if err := sf.check(); err != nil {
		return err
	}
	if (*sf.dsn == "") != (*label == "") {
		return errors.New("-store and -number go together: the label the soft certificate is registered under")
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	now := time.Now()
	a, err := f.open(now)
	if err != nil {
		return err
	}
	r, err := sf.open(ctx, now)
	if err != nil {
		return err
	}
	if r != nil {
		defer r.Close()
		if err := r.prepare(ctx, *label); err != nil {
			return err
		}
	}
	cert, err := writeSoft(a, *name, *password, *file, out)
	if err != nil || r == nil {
		return err
	}
	return r.register(ctx, *label, cert, out)
}

// writeSoft issues the soft certificate and writes it as PKCS#12 to file,
// for browsers, and as PEM beside it (file without .p12, plus .crt and
// .key, the key PKCS#8), for non-browser clients such as curl.
func writeSoft(a *ra.Authority, name, password, file string, out io.Writer) (*x509.Certificate, error) {
	p12, err := a.IssueSoft(name, password)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, p12, 0o600); err != nil {
		return nil, err
	}
	key, cert, _, err := pkcs12.DecodeChain(p12, password)
	if err != nil {
		return nil, fmt.Errorf("%s written, but not the PEM files: %w", file, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%s written, but not the PEM files: %w", file, err)
	}
	base := strings.TrimSuffix(file, ".p12")
	crtFile, keyFile := base+".crt", base+".key"
	if err := os.WriteFile(crtFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "soft demo certificate written to %s (PKCS#12), %s and %s (PEM)\n", file, crtFile, keyFile)
	return cert, nil
}

// cmdList lists the card certificates the RA issued; with -store, each
// line also says what the relay database holds for the card number.
func cmdList(args []string, out io.Writer) error {
	f := newFlags("list")
	sf := f.storeFlags(false)
	if err := f.parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	now := time.Now()
	a, err := f.open(now)
	if err != nil {
		return err
	}
	r, err := sf.open(ctx, now)
	if err != nil {
		return err
	}
	if r != nil {
		defer r.Close()
	}
	for _, c := range a.Cards() {
		state := "valid"
		if !c.RevokedAt.IsZero() {
			state = "revoked " + c.RevokedAt.UTC().Format("2006-01-02")
		}
		line := fmt.Sprintf("%s\tserial %s\tuntil %s\t%s", c.CardNumber, c.Serial, c.NotAfter.UTC().Format("2006-01-02"), state)
		if r != nil {
			line += "\t" + r.describe(ctx, c, a.CardCA().Subject.String())
		}
		fmt.Fprintln(out, line)
	}
	return nil
}
