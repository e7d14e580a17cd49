package idpserver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/ra"
)

// TestCRLReload: a running IdP takes the RA's next CRL (a revocation shows
// at once), and keeps the CRL in use when the file is rolled back to an
// older CRL, signed by another CA, or unreadable.
func TestCRLReload(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	dir := t.TempDir()
	a, err := ra.Init(ra.Config{Dir: filepath.Join(dir, "ra"), Now: func() time.Time { return now }})
	must(t, err)
	key, err := ra.NewKey("p256", nil)
	must(t, err)
	cert, err := a.IssueCard("HIC-0001", key.Public())
	must(t, err)
	path := filepath.Join(dir, "ra", ra.CardCRL)
	first, err := os.ReadFile(path)
	must(t, err)
	f, err := newCRLFiles(path, a.CardCA(), "", nil)
	must(t, err)
	if revoked(f, cert.SerialNumber.String()) {
		t.Fatal("fresh card revoked in the first CRL")
	}

	now = now.Add(time.Minute)
	must(t, a.Revoke("HIC-0001", 1))
	must(t, f.reload())
	if !revoked(f, cert.SerialNumber.String()) {
		t.Fatal("ok/newer-crl: the revocation is not in the CRL in use")
	}

	_, err = ra.Init(ra.Config{Dir: filepath.Join(dir, "other"), Now: func() time.Time { return now.Add(time.Hour) }})
	must(t, err)
	foreign, err := os.ReadFile(filepath.Join(dir, "other", ra.CardCRL))
	must(t, err)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"fail/rolled-back", first, "older than the CRL in use"},
		{"fail/foreign-ca", foreign, "not signed by its CA"},
		{"fail/garbage", []byte("not a CRL"), "cardCRL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			must(t, os.WriteFile(path, c.data, 0o644))
			err := f.reload()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("reload = %v, want an error saying %q", err, c.want)
			}
			if !revoked(f, cert.SerialNumber.String()) {
				t.Fatal("the CRL in use was replaced")
			}
		})
	}
	must(t, os.Remove(path))
	if err := f.reload(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: reload = %v", err)
	}
}

func revoked(f *crlFiles, serial string) bool {
	card, _ := f.lists()
	for _, crl := range card {
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.String() == serial {
				return true
			}
		}
	}
	return false
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
