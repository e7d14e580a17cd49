package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

const metadataUsage = `usage:
  renkei metadata aggregate -key KEY.pem -cert CERT.pem [-name NAME] [-valid-for 168h] [-cache 1h] -o OUT.xml IN.xml...
  renkei metadata verify -cert OPERATOR.pem FILE|https-URL`

// mdLimits bound what the tool reads: an aggregate of a few thousand
// entities fits.
var mdLimits = xmlsec.Limits{MaxBytes: md.DefaultMaxBytes, MaxDepth: md.DefaultMaxDepth, MaxElements: md.DefaultMaxBytes / 8}

func cmdMetadata(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(metadataUsage)
	}
	switch args[0] {
	case "aggregate":
		return cmdAggregate(args[1:], out, time.Now().UTC().Truncate(time.Second))
	case "verify":
		return cmdVerifyMetadata(ctx, args[1:], out, time.Now().UTC())
	}
	return fmt.Errorf("unknown metadata command %q\n%s", args[0], metadataUsage)
}

// aggregateFlags are the options of `renkei metadata aggregate`.
type aggregateFlags struct {
	key, cert, name, out string
	validFor, cache      time.Duration
	inputs               []string
}

func parseAggregateFlags(args []string) (*aggregateFlags, error) {
	f := &aggregateFlags{}
	fs := flag.NewFlagSet("metadata aggregate", flag.ContinueOnError)
	fs.StringVar(&f.key, "key", "", "operator signing key, PEM (PKCS#8, PKCS#1 or EC)")
	fs.StringVar(&f.cert, "cert", "", "operator certificate, PEM")
	fs.StringVar(&f.name, "name", "", "Name of the md:EntitiesDescriptor")
	fs.DurationVar(&f.validFor, "valid-for", 7*24*time.Hour, "validUntil is now plus this")
	fs.DurationVar(&f.cache, "cache", time.Hour, "cacheDuration (0: none)")
	fs.StringVar(&f.out, "o", "", "output file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	f.inputs = fs.Args()
	var missing []string
	for flagName, v := range map[string]string{"-key": f.key, "-cert": f.cert, "-o": f.out} {
		if v == "" {
			missing = append(missing, flagName)
		}
	}
	if len(missing) > 0 || len(f.inputs) == 0 || f.validFor <= 0 || f.cache < 0 {
		return nil, fmt.Errorf("missing or bad arguments %v\n%s", missing, metadataUsage)
	}
	return f, nil
}

// cmdAggregate builds the operator's md:EntitiesDescriptor from entity
// files, signs it and writes it, after checking it against the schema and
// verifying its own signature.
func cmdAggregate(args []string, out io.Writer, now time.Time) error {
	f, err := parseAggregateFlags(args)
	if err != nil {
		return err
	}
	key, cert, err := readOperator(f.key, f.cert)
	if err != nil {
		return err
	}
	schema, err := xsd.New(xsd.Config{Limits: mdLimits})
	if err != nil {
		return err
	}
	defer schema.Close()
	id, err := saml.NewID(nil)
	if err != nil {
		return err
	}
	g := &md.EntitiesDescriptor{ID: id, Name: f.name, ValidUntil: now.Add(f.validFor), CacheDuration: f.cache}
	for _, in := range f.inputs {
		if err := addInput(g, schema, in, now); err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
	}
	if _, skipped, err := (&md.Document{Group: g}).Entries(now); err != nil || len(skipped) > 0 {
		return errors.Join(append(skipped, err)...)
	}
	signed, err := md.Sign(g, &dsig.Signer{Key: key, Certificates: []*x509.Certificate{cert}})
	if err != nil {
		return err
	}
	b, err := checkAggregate(signed, schema, cert)
	if err != nil {
		return err
	}
	if err := writeAtomic(f.out, b); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s: %d entities, valid until %s, signed by %s\n", f.out, countEntities(g), g.ValidUntil.Format(time.RFC3339), cert.Subject)
	return nil
}

// writeAtomic writes b to a temporary file in path's directory and renames
// it to path, so that a role reading the aggregate while it is written
// sees the old file or the new one, never half of one.
func writeAtomic(path string, b []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// checkAggregate serializes the signed aggregate, validates it against the
// metadata schema and verifies it with the operator's certificate, as
// every role will.
func checkAggregate(signed *etree.Element, schema *xsd.Schema, cert *x509.Certificate) ([]byte, error) {
	b, err := xmlsec.Serialize(signed)
	if err != nil {
		return nil, err
	}
	if err := schema.Validate(b); err != nil {
		return nil, err
	}
	el, err := xmlsec.ParseElement(b, mdLimits)
	if err != nil {
		return nil, err
	}
	_, _, err = md.Verify(el, &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{cert})})
	return b, err
}

// addInput reads one metadata file the operator chose, checks it against
// the schema and adds its entities (or its group) to g. Signatures inside
// it are dropped: the operator's signature replaces them, and the inner
// IDs with them so that they cannot collide.
func addInput(g *md.EntitiesDescriptor, schema *xsd.Schema, path string, now time.Time) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := schema.Validate(b); err != nil {
		return err
	}
	el, err := xmlsec.ParseElement(b, mdLimits)
	if err != nil {
		return err
	}
	doc, err := md.DecodeUnsigned(el)
	if err != nil {
		return err
	}
	if err := doc.Check(now); err != nil {
		return err
	}
	if doc.Entity != nil {
		clearIDs(doc.Entity)
		g.Entities = append(g.Entities, doc.Entity)
		return nil
	}
	clearGroupIDs(doc.Group, 0)
	g.Groups = append(g.Groups, doc.Group)
	return nil
}

func clearIDs(e *md.EntityDescriptor) {
	e.ID = ""
	for _, r := range e.IDPSSO {
		r.ID = ""
	}
	for _, r := range e.SPSSO {
		r.ID = ""
	}
	for _, r := range e.Roles {
		r.ID = ""
	}
}

func clearGroupIDs(g *md.EntitiesDescriptor, depth int) {
	g.ID = ""
	for _, e := range g.Entities {
		clearIDs(e)
	}
	for _, sub := range g.Groups {
		if depth < 16 {
			clearGroupIDs(sub, depth+1)
		}
	}
}

func countEntities(g *md.EntitiesDescriptor) int {
	all, _, _ := (&md.Document{Group: g}).Entries(time.Time{})
	return len(all)
}

// readOperator reads the operator's key (PKCS#8, PKCS#1 or SEC 1 EC PEM)
// and certificate, and checks that they belong together.
func readOperator(keyPath, certPath string) (crypto.Signer, *x509.Certificate, error) {
	key, err := keyfile.ReadKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
	default:
		return nil, nil, fmt.Errorf("%s: only RSA and ECDSA keys sign XML here", keyPath)
	}
	certs, err := keyfile.ReadCerts(certPath)
	if err != nil {
		return nil, nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(certs[0].PublicKey) {
		return nil, nil, fmt.Errorf("%s: the certificate is not for the key in %s", certPath, keyPath)
	}
	return key, certs[0], nil
}

// cmdVerifyMetadata loads a signed metadata document as a role would (an
// md.Set with one source trusting the operator's certificates) and prints
// the entities it accepted.
func cmdVerifyMetadata(ctx context.Context, args []string, out io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("metadata verify", flag.ContinueOnError)
	certPath := fs.String("cert", "", "operator certificate(s), PEM")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *certPath == "" || fs.NArg() != 1 {
		return errors.New(metadataUsage)
	}
	certs, err := keyfile.ReadCerts(*certPath)
	if err != nil {
		return err
	}
	schema, err := xsd.Default()
	if err != nil {
		return err
	}
	set, err := md.New(md.Config{Sources: []md.Source{{Location: fs.Arg(0), Trust: xmlsec.NewTrustSet(certs)}}, Schema: schema})
	if err != nil {
		return err
	}
	if err := set.Refresh(ctx, now); err != nil {
		return err
	}
	entries := set.Entries(now)
	for _, e := range entries {
		until := "no validUntil"
		if !e.ValidUntil.IsZero() {
			until = "valid until " + e.ValidUntil.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(out, "%s\t%s\t%s\n", e.Entity.EntityID, strings.Join(roleNames(e.Entity), ","), until)
	}
	fmt.Fprintf(out, "%d entities accepted\n", len(entries))
	return nil
}

func roleNames(e *md.EntityDescriptor) []string {
	var out []string
	if len(e.IDPSSO) > 0 {
		out = append(out, "IdP")
	}
	if len(e.SPSSO) > 0 {
		out = append(out, "SP")
	}
	for _, r := range e.Roles {
		name := r.Local
		if r.TypeLocal != "" {
			name += "(" + r.TypeLocal + ")"
		}
		out = append(out, name)
	}
	return out
}
