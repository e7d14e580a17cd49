package ra

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ocsp"
)

// DefaultOCSPValidity is how long an OCSP answer of the RA stays valid
// (its nextUpdate): a client may cache it that long, so it bounds how late
// a revocation is seen by a client that asked just before it.
const DefaultOCSPValidity = 10 * time.Minute

// Responder answers OCSP requests (RFC 6960) about the card certificates
// the RA issued, from the RA's registry as its files hold it at each
// request, so a revocation by another renkei-ra process shows at once.
// Answers are signed by the card-issuer CA itself (RFC 6960 §4.2.2.2, the
// CA as responder) or by a delegated signer (DelegatedResponder). It takes request bytes and returns response bytes;
// the HTTP binding (RFC 6960 Appendix A) is the caller's.
type Responder struct {
	dir      string
	card     ca
	signer   ca // the card CA, or a delegated OCSP signer
	now      func() time.Time
	validity time.Duration
}

// File names of the delegated OCSP signer inside the RA directory.
const (
	OCSPSignerCert = "ocsp-signer.crt"
	OCSPSignerKey  = "ocsp-signer.key"
)

var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// IssueOCSPSigner certifies a new P-256 key with the card-issuer CA as a
// delegated OCSP responder (RFC 6960 §4.2.2.2: extKeyUsage
// id-kp-OCSPSigning and nothing else), with id-pkix-ocsp-nocheck
// (§4.2.2.2.1) since clients cannot check its own status; being
// unrevocable, it should live briefly (validity). It writes
// OCSPSignerCert and OCSPSignerKey, so that the CA key need not be on the
// responder's machine.
func (a *Authority) IssueOCSPSigner(validity time.Duration) (*x509.Certificate, error) {
	key, err := NewKey("p256", a.cfg.rand())
	if err != nil {
		return nil, err
	}
	now := a.cfg.now()
	tmpl := &x509.Certificate{
		SerialNumber: a.serial(), Subject: pkix.Name{CommonName: "Renkei card OCSP responder", Organization: []string{"Renkei"}},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(validity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		ExtraExtensions: []pkix.Extension{{Id: oidOCSPNoCheck, Value: asn1.NullBytes}},
	}
	cert, err := a.sign(tmpl, key.Public(), a.card)
	if err != nil {
		return nil, err
	}
	if err := a.writePEM(OCSPSignerCert, "CERTIFICATE", cert.Raw); err != nil {
		return nil, err
	}
	if err := a.writeKey(OCSPSignerKey, key); err != nil {
		return nil, err
	}
	return cert, a.save()
}

// DelegatedResponder is Responder with answers signed by the delegated
// signer IssueOCSPSigner wrote, its certificate included in each answer.
func (a *Authority) DelegatedResponder(validity time.Duration) (*Responder, error) {
	signer, err := a.loadCA(OCSPSignerCert, OCSPSignerKey)
	if err != nil {
		return nil, fmt.Errorf("ra: delegated OCSP signer: %w", err)
	}
	if err := signer.cert.CheckSignatureFrom(a.card.cert); err != nil {
		return nil, fmt.Errorf("ra: %s is not issued by the card-issuer CA: %w", OCSPSignerCert, err)
	}
	r := a.Responder(validity)
	r.signer = signer
	return r, nil
}

// Responder returns the OCSP responder of the RA; validity 0 means
// DefaultOCSPValidity.
func (a *Authority) Responder(validity time.Duration) *Responder {
	if validity <= 0 {
		validity = DefaultOCSPValidity
	}
	return &Responder{dir: a.cfg.Dir, card: a.card, signer: a.card, now: a.cfg.now, validity: validity}
}

// Respond answers one DER-encoded OCSPRequest. A request that does not
// parse gets malformedRequest; one about another issuer gets unauthorized
// (RFC 6960 §2.3); a serial the RA never issued under the card-issuer CA
// is "unknown"; otherwise "good" or "revoked" with the time and reason of
// the revocation. An error means the registry could not be read or the
// answer not be signed; the caller answers internalError.
func (r *Responder) Respond(der []byte) ([]byte, error) {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, nil
	}
	if !r.issuedBy(req) {
		return ocsp.UnauthorizedErrorResponse, nil
	}
	st, err := readState(r.dir)
	if err != nil {
		return nil, err
	}
	now := r.now()
	tmpl := ocsp.Response{SerialNumber: req.SerialNumber, Status: ocsp.Unknown,
		ThisUpdate: now, NextUpdate: now.Add(r.validity)}
	if c, ok := st.card(req.SerialNumber); ok {
		tmpl.Status = ocsp.Good
		if !c.RevokedAt.IsZero() {
			tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, c.RevokedAt, c.Reason
		}
	}
	if r.signer.cert != r.card.cert {
		tmpl.Certificate = r.signer.cert // RFC 6960 §4.2.1: the client needs it to check the signature
	}
	return ocsp.CreateResponse(r.card.cert, r.signer.cert, tmpl, r.signer.key)
}

// issuedBy reports whether the request names the card-issuer CA: the hash
// of its name and of its public key under the request's hash (RFC 6960
// §4.1.1 CertID).
func (r *Responder) issuedBy(req *ocsp.Request) bool {
	if !req.HashAlgorithm.Available() {
		return false
	}
	nameHash, keyHash, err := certIDHashes(r.card.cert, req.HashAlgorithm)
	return err == nil && bytes.Equal(nameHash, req.IssuerNameHash) && bytes.Equal(keyHash, req.IssuerKeyHash)
}

// certIDHashes hashes the issuer's DER subject and its subjectPublicKey
// BIT STRING, as a CertID does.
func certIDHashes(issuer *x509.Certificate, h crypto.Hash) (name, key []byte, err error) {
	spki, err := subjectPublicKey(issuer.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, nil, err
	}
	hn := h.New()
	hn.Write(issuer.RawSubject)
	hk := h.New()
	hk.Write(spki)
	return hn.Sum(nil), hk.Sum(nil), nil
}

// subjectPublicKey returns the subjectPublicKey bits of a DER
// SubjectPublicKeyInfo.
func subjectPublicKey(der []byte) ([]byte, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	return spki.PublicKey.RightAlign(), nil
}

// card returns the record of the card certificate with serial.
func (s state) card(serial *big.Int) (CardRecord, bool) {
	want := serial.String()
	for _, c := range s.Cards {
		if c.Serial == want {
			return c, true
		}
	}
	return CardRecord{}, false
}

// readState reads the registry of the RA in dir.
func readState(dir string) (state, error) {
	var st state
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("ra: %s: %w", stateFile, err)
	}
	return st, nil
}
