package lasso

import (
	"net"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// IdPConfig is what the reference IdP may vary.
type IdPConfig struct {
	// Encrypt makes the IdP encrypt assertions for the SP's metadata
	// encryption key.
	Encrypt bool
	// SignatureMethod is "rsa-sha256" (default) or "rsa-sha1".
	SignatureMethod string
	// DiscoveryEPR, when set, is the XML of a wsa:EndpointReference sent
	// as the value of a urn:liberty:disco:2006-08:DiscoveryEPR attribute.
	DiscoveryEPR string
}

// IdP is a Lasso IdP, the reference the SP and ECP harnesses are proved
// against. The user is the common name of the TLS client certificate the
// browser presents (trusted when issued by the shared test CA), or "anon";
// each assertion carries it as the attribute "cn".
type IdP struct {
	URL, EntityID string
	Metadata      []byte
	Signing       *pki.Identity

	tb   testing.TB
	cfg  IdPConfig
	dir  string
	ln   *net.TCPListener
	proc *proc
}

// NewIdP reserves a port for a Lasso IdP and writes its metadata; it skips
// the test when python3-lasso is missing.
func NewIdP(tb testing.TB, cfg IdPConfig) *IdP {
	tb.Helper()
	Require(tb)
	ln, err := listen()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	idp := &IdP{tb: tb, cfg: cfg, dir: tb.TempDir(), ln: ln, URL: "https://" + ln.Addr().String()}
	idp.EntityID = idp.URL + "/metadata"
	if idp.Signing, err = identity(nil, "lasso-idp-signing"); err != nil {
		tb.Fatal(err)
	}
	idp.Metadata = idpMetadata(idp.EntityID, idp.URL, idp.Signing.Cert)
	return idp
}

// Start runs the IdP trusting the SP's metadata.
func (idp *IdP) Start(spMetadata []byte) {
	idp.tb.Helper()
	if err := idp.start(spMetadata); err != nil {
		idp.tb.Fatalf("lasso IdP: %v", err)
	}
}

func (idp *IdP) start(spMetadata []byte) error {
	if idp.proc != nil {
		return errStarted
	}
	p := pki.MustGet()
	cfg, err := writeFiles(idp.dir, map[string][]byte{
		"metadata": idp.Metadata, "spMetadata": spMetadata, "key": idp.Signing.KeyPEM(), "cert": idp.Signing.CertPEM(),
		"tlsKey": p.RSA.KeyPEM(), "tlsCert": p.RSA.CertPEM(), "clientCA": p.CA.CertPEM(),
	})
	if err != nil {
		return err
	}
	cfg["encrypt"], cfg["signatureMethod"], cfg["discoveryEPR"] = idp.cfg.Encrypt, idp.cfg.SignatureMethod, idp.cfg.DiscoveryEPR
	path, err := writeConfig(idp.dir, cfg)
	if err != nil {
		return err
	}
	idp.proc, err = startProc(idp.tb, idp.dir, "idp.py", idp.ln, path)
	return err
}

// SOAPURL is the IdP's SingleSignOnService for the SOAP binding (ECP).
func (idp *IdP) SOAPURL() string { return idp.URL + "/soap" }

// Stderr is what Lasso and python wrote to standard error so far.
func (idp *IdP) Stderr() string {
	if idp.proc == nil {
		return ""
	}
	return idp.proc.Stderr()
}
