package idpserver

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/renkei-idwsf/renkei/internal/keyfile"
)

// crlFiles keeps the CRLs of the card-issuer CA and of the soft CA as their
// files hold them now. The registration authority writes a new CRL at
// every revocation and before the old one's nextUpdate; card/trust refuses
// a CRL past its nextUpdate, so an IdP that read its CRL only at start
// would refuse every card login from then on, and would not see a
// revocation until restarted.
type crlFiles struct {
	cardPath, softPath string // "" when there is no such CRL
	cardCA, softCA     *x509.Certificate
	cur                atomic.Pointer[crlSet]
}

type crlSet struct{ card, soft *x509.RevocationList }

// newCRLFiles reads both files once; they must be good at start.
func newCRLFiles(cardPath string, cardCA *x509.Certificate, softPath string, softCA *x509.Certificate) (*crlFiles, error) {
	f := &crlFiles{cardPath: cardPath, softPath: softPath, cardCA: cardCA, softCA: softCA}
	f.cur.Store(&crlSet{})
	return f, f.reload()
}

// lists is idp.Config.RevocationLists.
func (f *crlFiles) lists() (card, soft []*x509.RevocationList) {
	s := f.cur.Load()
	if s.card != nil {
		card = []*x509.RevocationList{s.card}
	}
	if s.soft != nil {
		soft = []*x509.RevocationList{s.soft}
	}
	return card, soft
}

// reload reads the files again and takes each CRL that is signed by its CA
// and not older than the one in use (ThisUpdate, then CRL number: a file
// rolled back to an earlier CRL would un-revoke cards). A file that cannot
// be used leaves the CRL in use in place and is reported.
func (f *crlFiles) reload() error {
	old := f.cur.Load()
	next := *old
	var errs []error
	var err error
	if f.cardPath != "" {
		if next.card, err = newer(f.cardPath, f.cardCA, old.card); err != nil {
			errs = append(errs, fmt.Errorf("cardCRL: %w", err))
		}
	}
	if f.softPath != "" {
		if next.soft, err = newer(f.softPath, f.softCA, old.soft); err != nil {
			errs = append(errs, fmt.Errorf("softCRL: %w", err))
		}
	}
	f.cur.Store(&next)
	return errors.Join(errs...)
}

// newer returns the CRL in path when it may replace cur, else cur.
func newer(path string, ca *x509.Certificate, cur *x509.RevocationList) (*x509.RevocationList, error) {
	crl, err := keyfile.ReadCRL(path)
	if err != nil {
		return cur, err
	}
	if ca != nil {
		if err := crl.CheckSignatureFrom(ca); err != nil {
			return cur, fmt.Errorf("%s is not signed by its CA: %w", path, err)
		}
	}
	if cur != nil && older(crl, cur) {
		return cur, fmt.Errorf("%s (thisUpdate %s) is older than the CRL in use (%s)", path,
			crl.ThisUpdate.UTC().Format(time.RFC3339), cur.ThisUpdate.UTC().Format(time.RFC3339))
	}
	return crl, nil
}

func older(a, b *x509.RevocationList) bool {
	if !a.ThisUpdate.Equal(b.ThisUpdate) {
		return a.ThisUpdate.Before(b.ThisUpdate)
	}
	return a.Number != nil && b.Number != nil && a.Number.Cmp(b.Number) < 0
}

// reloadLogged reloads the files, keeping the CRLs in use and reporting
// to log when a reload fails.
func (f *crlFiles) reloadLogged(log *slog.Logger) {
	if err := f.reload(); err != nil {
		log.Warn("CRL reload failed, the CRL in use kept", slog.String("error", err.Error()))
	}
}
