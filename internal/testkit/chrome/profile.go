package chrome

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// p12Password protects the client key only in the PKCS#12 file pk12util
// reads, next to it in the test's temporary directory.
const p12Password = "renkei-test"

// makeNSS makes home/.pki/nssdb trusting o.Trust for servers and holding
// o.ClientCert with its key.
func makeNSS(t testing.TB, home string, o Options) error {
	t.Helper()
	certutil := need(t, "certutil")
	db := "sql:" + filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(filepath.Join(home, ".pki", "nssdb"), 0o700); err != nil {
		return err
	}
	ca := filepath.Join(home, "trust.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: o.Trust.Raw}), 0o600); err != nil {
		return err
	}
	if err := tool(certutil, "-N", "-d", db, "--empty-password"); err != nil {
		return err
	}
	if err := tool(certutil, "-A", "-d", db, "-t", "C,,", "-n", "trusted-ca", "-i", ca); err != nil {
		return err
	}
	if o.ClientCert == nil {
		return nil
	}
	pk12util := need(t, "pk12util")
	pfx, err := pkcs12.Modern.Encode(o.ClientKey, o.ClientCert, nil, p12Password)
	if err != nil {
		return fmt.Errorf("chrome: the client certificate as PKCS#12: %w", err)
	}
	p12 := filepath.Join(home, "client.p12")
	if err := os.WriteFile(p12, pfx, 0o600); err != nil {
		return err
	}
	return tool(pk12util, "-i", p12, "-d", db, "-W", p12Password)
}

// tool runs an NSS command, its output in the error.
func tool(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return nil
}

// preferences is the part of a profile's Default/Preferences the kit
// writes; Chromium keeps it and adds its own.
type preferences struct {
	Intl    intlPrefs     `json:"intl"`
	Profile *profilePrefs `json:"profile,omitempty"`
}

type intlPrefs struct {
	AcceptLanguages string `json:"accept_languages"`
}

type profilePrefs struct {
	ContentSettings struct {
		Exceptions struct {
			// AutoSelectCertificate is the AutoSelectCertificateForUrls
			// content setting by "primary,secondary" site pattern.
			AutoSelectCertificate map[string]autoSelect `json:"auto_select_certificate"`
		} `json:"exceptions"`
	} `json:"content_settings"`
}

// autoSelect is one site's setting: the first client certificate matching
// any filter is sent without a prompt.
type autoSelect struct {
	Setting struct {
		Filters []certFilter `json:"filters"`
	} `json:"setting"`
}

// certFilter matches certificates on subject and issuer fields, as the
// policy's "filter" does; a field left out matches anything.
type certFilter struct {
	Subject nameFilter `json:"SUBJECT"`
	Issuer  nameFilter `json:"ISSUER"`
}

type nameFilter struct {
	CN string `json:"CN"`
}

// writePreferences writes the profile's Default/Preferences for o.
func writePreferences(profile string, o Options) error {
	p := preferences{Intl: intlPrefs{AcceptLanguages: o.Lang}}
	if o.ClientCert != nil {
		p.Profile = &profilePrefs{}
		var a autoSelect
		a.Setting.Filters = []certFilter{filterFor(o.ClientCert)}
		p.Profile.ContentSettings.Exceptions.AutoSelectCertificate = map[string]autoSelect{"*,*": a}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	dir := filepath.Join(profile, "Default")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "Preferences"), b, 0o600)
}

// filterFor matches c by its subject's and its issuer's common names.
func filterFor(c *x509.Certificate) certFilter {
	return certFilter{Subject: nameFilter{CN: c.Subject.CommonName}, Issuer: nameFilter{CN: c.Issuer.CommonName}}
}

// tail keeps the last lines the browser wrote, without D-Bus complaints
// (a container has no bus), for the log of a failed test.
type tail struct {
	mu      sync.Mutex
	partial string
	lines   []string
}

const tailLines = 40

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.partial + string(p)
	ls := strings.Split(s, "\n")
	w.partial = ls[len(ls)-1]
	for _, l := range ls[:len(ls)-1] {
		if strings.Contains(l, "dbus") {
			continue
		}
		w.lines = append(w.lines, l)
	}
	if n := len(w.lines); n > tailLines {
		w.lines = append(w.lines[:0], w.lines[n-tailLines:]...)
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(append(w.lines[:len(w.lines):len(w.lines)], w.partial), "\n")
}
