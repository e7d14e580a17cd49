package conformance

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Name identifier formats the cases request (SAML Core §8.3).
const (
	FormatTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	FormatPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	FormatUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
)

// SP is the suite's own service provider, the counterpart it plays against
// an IdP: its entity ID, its assertion consumer URL (never served: the
// suite's browser stops at the form that would post to it and reads the
// response there), and its signing key and certificate.
type SP struct {
	EntityID string
	ACS      string
	Key      crypto.Signer
	Cert     *x509.Certificate
	// SOAPSLO, when set, makes the SP's only SingleLogoutService the SOAP
	// one at this URL (BackChannelSP serves it), instead of HTTP-POST.
	SOAPSLO string
	// SOAPNIM, when set, adds a SOAP ManageNameIDService at this URL
	// (BackChannelSP serves it).
	SOAPNIM string
}

// NewSP returns an SP with a fresh RSA-2048 key and a self-signed
// certificate valid around now; rnd nil means crypto/rand.
func NewSP(entityID, acs string, now time.Time, rnd io.Reader) (*SP, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	key, err := rsa.GenerateKey(rnd, 2048)
	if err != nil {
		return nil, fmt.Errorf("conformance: SP key: %w", err)
	}
	serial, err := rand.Int(rnd, big.NewInt(1<<62))
	if err != nil {
		return nil, fmt.Errorf("conformance: SP serial: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Renkei conformance SP"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("conformance: SP certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("conformance: SP certificate: %w", err)
	}
	return &SP{EntityID: entityID, ACS: acs, Key: key, Cert: cert}, nil
}

// Descriptor returns the SP's metadata: its key for signing and for
// encryption (so that an IdP that always encrypts can be tested), signed
// AuthnRequests, signed assertions wanted, the assertion consumer at ACS
// with HTTP-POST (index 0, default), PAOS (index 1, for ECP) and at
// ArtifactACS with HTTP-Artifact (index 2; never served either: the
// browser stops at the redirect that carries the artifact), the
// SingleLogoutService at SLO
// with HTTP-POST (never served either: the browser stops at the form), and
// the ManageNameIDService at NIMURL with HTTP-Redirect (where the IdP
// answers a front-channel ManageNameIDRequest; never served either). With
// SOAPSLO set, the SingleLogoutService is that SOAP endpoint instead; with
// SOAPNIM set, a SOAP ManageNameIDService is added.
func (s *SP) Descriptor() *md.EntityDescriptor {
	yes := true
	slo := []md.Endpoint{{Binding: md.BindingHTTPPOST, Location: s.SLO()}}
	if s.SOAPSLO != "" {
		slo = []md.Endpoint{{Binding: md.BindingSOAP, Location: s.SOAPSLO}}
	}
	nim := []md.Endpoint{{Binding: md.BindingHTTPRedirect, Location: s.NIMURL()}}
	if s.SOAPNIM != "" {
		nim = append(nim, md.Endpoint{Binding: md.BindingSOAP, Location: s.SOAPNIM})
	}
	return &md.EntityDescriptor{EntityID: s.EntityID, SPSSO: []*md.SPSSODescriptor{{
		SSO: md.SSO{
			Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}, Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{s.Cert}},
				{Use: md.UseEncryption, Certificates: []*x509.Certificate{s.Cert}, EncryptionMethods: xmlenc.LegacyDataAlgorithms()}}},
			ManageNameID:  nim,
			NameIDFormats: []string{FormatTransient, FormatPersistent},
			SingleLogout:  slo,
		},
		AuthnRequestsSigned: true, WantAssertionsSigned: true,
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: md.BindingHTTPPOST, Location: s.ACS}, Index: 0, IsDefault: &yes},
			{Endpoint: md.Endpoint{Binding: md.BindingPAOS, Location: s.ACS}, Index: 1},
			{Endpoint: md.Endpoint{Binding: md.BindingHTTPArtifact, Location: s.ArtifactACS()}, Index: 2}},
	}}}
}

// ArtifactACS is the SP's HTTP-Artifact assertion consumer: the ACS URL
// with "-artifact" appended.
func (s *SP) ArtifactACS() string { return s.ACS + "-artifact" }

// Decrypter returns the decrypter of assertions encrypted for the SP's
// key, which its metadata lists for encryption too: RSA-OAEP, and AES-GCM
// or AES-CBC, so that an IdP that sends only CBC can be tested. It is nil
// when the key is not RSA.
func (s *SP) Decrypter() *xmlenc.Decrypter {
	k, ok := s.Key.(*rsa.PrivateKey)
	if !ok {
		return nil
	}
	return &xmlenc.Decrypter{Key: k, EntityID: s.EntityID, DataAlgorithms: xmlenc.LegacyDataAlgorithms()}
}

func (s *SP) NIMURL() string {
	if i := strings.LastIndex(s.ACS, "/"); i > len("https://") {
		return s.ACS[:i] + "/nim"
	}
	return s.ACS + "/nim"
}

// Metadata returns the SP's metadata document, for the operator to register
// at the IdP under test.
func (s *SP) Metadata() ([]byte, error) {
	return xmlsec.Serialize(s.Descriptor().Element())
}

// KeyPEM returns the SP's key and certificate as PEM, so a run can be
// repeated with the SP the IdP already knows.
func (s *SP) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(s.Key)
	if err != nil {
		return nil, fmt.Errorf("conformance: SP key: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Cert.Raw})...), nil
}

// LoadSP reads an SP key and certificate written by KeyPEM.
func LoadSP(entityID, acs string, pemBytes []byte) (*SP, error) {
	key, cert, err := parseKeyCert(pemBytes)
	if err != nil {
		return nil, err
	}
	return &SP{EntityID: entityID, ACS: acs, Key: key, Cert: cert}, nil
}

// parseKeyCert reads the first private key and the first certificate of a
// PEM bundle.
func parseKeyCert(b []byte) (crypto.Signer, *x509.Certificate, error) {
	var key crypto.Signer
	var cert *x509.Certificate
	for i := 0; i < 64 && len(b) > 0; i++ {
		blk, rest := pem.Decode(b)
		if blk == nil {
			break
		}
		b = rest
		switch blk.Type {
		case keyfile.TypePKCS8, keyfile.TypePKCS1, keyfile.TypeSEC1:
			if key == nil {
				k, err := keyfile.ParseKey(blk)
				if err != nil {
					return nil, nil, fmt.Errorf("conformance: private key: %w", err)
				}
				key = k
			}
		case "CERTIFICATE":
			if cert == nil {
				c, err := x509.ParseCertificate(blk.Bytes)
				if err != nil {
					return nil, nil, fmt.Errorf("conformance: certificate: %w", err)
				}
				cert = c
			}
		}
	}
	if key == nil || cert == nil {
		return nil, nil, fmt.Errorf("conformance: PEM needs a private key and a certificate")
	}
	return key, cert, nil
}
