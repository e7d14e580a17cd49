package conformance

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Oracle checks an enveloped signature with xmlsec1, an implementation
// independent of Renkei's xmlsec/dsig, so that the suite does not judge
// signatures only with the code it is testing.
type Oracle struct {
	// Command is the xmlsec1 binary; "" means "xmlsec1" on PATH.
	Command string
}

// VerifyEnveloped reports whether xmlsec1 accepts the enveloped signature
// of el (ID attribute "ID" on elements of namespace ns, local name local)
// made by the key of one of certs. Trust is by key, as in SAML metadata:
// the certificates are given to xmlsec1 as bare keys (--pubkey-cert-pem), and
// --enabled-key-data without x509 makes it ignore any certificate the
// message's own KeyInfo carries (else it would verify with that key). An error means the oracle
// could not run; ok false means it refused the signature, out says why.
func (o Oracle) VerifyEnveloped(ctx context.Context, el *etree.Element, ns, local string, certs []*x509.Certificate) (ok bool, out string, err error) {
	cmd := o.Command
	if cmd == "" {
		cmd = "xmlsec1"
	}
	path, err := exec.LookPath(cmd)
	if err != nil {
		return false, "", fmt.Errorf("conformance: xmlsec1 oracle not available: %w", err)
	}
	dir, err := os.MkdirTemp("", "renkei-oracle-")
	if err != nil {
		return false, "", err
	}
	defer os.RemoveAll(dir)
	doc, err := xmlsec.Serialize(el)
	if err != nil {
		return false, "", err
	}
	in := filepath.Join(dir, "in.xml")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		return false, "", err
	}
	var msgs bytes.Buffer
	for i, c := range certs {
		pf := filepath.Join(dir, fmt.Sprintf("key%d.pem", i))
		if err := os.WriteFile(pf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
			return false, "", err
		}
		run := exec.CommandContext(ctx, path, "--verify", "--enabled-key-data", "rsa,ecdsa,key-name", "--id-attr:ID", ns+":"+local, "--pubkey-cert-pem", pf, in)
		b, err := run.CombinedOutput()
		if err == nil {
			return true, string(b), nil
		}
		msgs.Write(b)
	}
	return false, msgs.String(), nil
}
