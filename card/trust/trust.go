// Package trust decides whether a card certificate may log in: it must
// chain to a card-issuer CA, be within its validity period, be meant for
// client authentication, and not be on the issuer's current CRL
// (RFC 5280 §6 path validation, §6.3 CRL processing). Each refusal is a
// typed error, so the IdP can tell an expired card from a revoked one or
// from a card of another issuer.
package trust

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Errors returned by Verify; match them with errors.Is.
var (
	ErrExpired       = errors.New("trust: certificate expired")
	ErrNotYetValid   = errors.New("trust: certificate not yet valid")
	ErrForeignIssuer = errors.New("trust: certificate not issued by a card-issuer CA")
	ErrRevoked       = errors.New("trust: certificate revoked")
	ErrNoCRL         = errors.New("trust: no current CRL for the issuer")
	ErrBadCRL        = errors.New("trust: CRL invalid")
	ErrUsage         = errors.New("trust: certificate not valid for client authentication")
)

// Verifier checks card certificates against the card-issuer CAs.
type Verifier struct {
	// Roots are the card-issuer CAs.
	Roots *x509.CertPool
	// Intermediates are optional intermediate CAs.
	Intermediates *x509.CertPool
	// CRLs are the issuers' revocation lists; one must be current for the
	// certificate's issuer unless AllowMissingCRL is set.
	CRLs            []*x509.RevocationList
	AllowMissingCRL bool
	// OCSP, when set, is asked before the CRL (RFC 6960): "revoked"
	// refuses; "good" stands in for a CRL that is missing or stale, but a
	// CRL signed by the issuer that lists the certificate, even a stale
	// one, still refuses it, and a CRL whose signature fails is still an
	// error; "unknown" or a failure (an unreachable or silent responder, a
	// bad answer) leaves the decision to the CRL.
	OCSP OCSPChecker
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// OCSPStatus is a certificate's status in an OCSP answer.
type OCSPStatus int

// The OCSP statuses (RFC 6960 §2.2).
const (
	OCSPUnknown OCSPStatus = iota
	OCSPGood
	OCSPRevoked
)

// OCSPChecker asks the issuer's OCSP responder about cert; the context
// bounds the wait. A nil error comes with a status read from an answer
// signed for the issuer and current at now.
type OCSPChecker interface {
	CheckOCSP(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) (OCSPStatus, error)
}

// Verify validates cert and returns its chain, leaf first.
func (v *Verifier) Verify(cert *x509.Certificate) ([]*x509.Certificate, error) {
	return v.VerifyContext(context.Background(), cert)
}

// VerifyContext is Verify with a context bounding the OCSP request.
func (v *Verifier) VerifyContext(ctx context.Context, cert *x509.Certificate) ([]*x509.Certificate, error) {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if err := checkValidity(cert, now); err != nil {
		return nil, err
	}
	chain, err := v.chain(cert, now)
	if err != nil {
		return nil, err
	}
	return chain, v.checkRevocation(ctx, cert, chain[1], now)
}

func checkValidity(cert *x509.Certificate, now time.Time) error {
	if now.After(cert.NotAfter) {
		return fmt.Errorf("%w: not after %s (serial %s)", ErrExpired, cert.NotAfter.UTC().Format(time.RFC3339), cert.SerialNumber)
	}
	if now.Before(cert.NotBefore) {
		return fmt.Errorf("%w: not before %s", ErrNotYetValid, cert.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

func (v *Verifier) chain(cert *x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots: v.Roots, Intermediates: v.Intermediates, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case err == nil:
		return chains[0], nil
	case errors.As(err, &unknown):
		return nil, fmt.Errorf("%w: issuer %q", ErrForeignIssuer, cert.Issuer)
	case errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	return nil, fmt.Errorf("%w: %v", ErrForeignIssuer, err)
}

// checkRevocation asks OCSP first when configured, then looks cert up in
// the CRL of its issuer (RFC 5280 §6.3.3: the CRL must be signed by the
// issuer and current); either one saying revoked refuses the certificate.
// OCSP "good" stands in for a missing or stale CRL, but not for one whose
// signature fails, and never clears a certificate that a CRL signed by the
// issuer lists, stale or not: revocation is permanent (RFC 5280 §3.3), so
// an older list naming it outweighs a newer OCSP "good" (RFC 6960 §2.2).
func (v *Verifier) checkRevocation(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) error {
	ocspGood := false
	if v.OCSP != nil {
		st, err := v.OCSP.CheckOCSP(ctx, cert, issuer, now)
		if err == nil && st == OCSPRevoked {
			return fmt.Errorf("%w: serial %s, by the issuer's OCSP responder", ErrRevoked, cert.SerialNumber)
		}
		ocspGood = err == nil && st == OCSPGood
	}
	crl, err := v.crlFor(issuer, now)
	if crl != nil { // signed by the issuer, current or stale
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return fmt.Errorf("%w: serial %s on %s", ErrRevoked, cert.SerialNumber, e.RevocationTime.UTC().Format(time.RFC3339))
			}
		}
	}
	switch {
	case errors.Is(err, ErrBadCRL):
		return err
	case err != nil && ocspGood:
		return nil
	}
	return err
}

// crlFor returns the CRL of issuer: a current one with a nil error; a
// stale one, its signature verified, with ErrNoCRL; nil with ErrBadCRL
// when its signature fails, or with ErrNoCRL (nil if AllowMissingCRL) when
// there is none.
func (v *Verifier) crlFor(issuer *x509.Certificate, now time.Time) (*x509.RevocationList, error) {
	for _, crl := range v.CRLs {
		if string(crl.RawIssuer) != string(issuer.RawSubject) {
			continue
		}
		if err := crl.CheckSignatureFrom(issuer); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadCRL, err)
		}
		if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
			return crl, fmt.Errorf("%w: next update was %s", ErrNoCRL, crl.NextUpdate.UTC().Format(time.RFC3339))
		}
		return crl, nil
	}
	if v.AllowMissingCRL {
		return nil, nil
	}
	return nil, fmt.Errorf("%w: issuer %q", ErrNoCRL, issuer.Subject)
}

// CardNumber returns the card number carried in the subject's
// serialNumber attribute (X.520, OID 2.5.4.5).
func CardNumber(cert *x509.Certificate) string { return cert.Subject.SerialNumber }
