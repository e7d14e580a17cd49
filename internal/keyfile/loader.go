package keyfile

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// Loader reads the files a configuration names and collects every
// failure, so that the operator sees them all at once. Each method
// returns nil (or the zero value) for a file that failed.
type Loader struct{ errs []error }

// Fail records a failure of the file called name.
func (l *Loader) Fail(name string, err error) {
	l.errs = append(l.errs, fmt.Errorf("%s: %w", name, err))
}

// Add records a failure that names its file itself.
func (l *Loader) Add(err error) { l.errs = append(l.errs, err) }

// Err joins every failure recorded.
func (l *Loader) Err() error { return errors.Join(l.errs...) }

// Cert reads a PEM certificate.
func (l *Loader) Cert(name, path string) *x509.Certificate {
	c, err := ReadCert(path)
	if err != nil {
		l.Fail(name, err)
	}
	return c
}

// Key reads a PEM private key.
func (l *Loader) Key(name, path string) crypto.Signer {
	k, err := ReadKey(path)
	if err != nil {
		l.Fail(name, err)
	}
	return k
}

// Pair reads a TLS certificate and key.
func (l *Loader) Pair(name, certPath, keyPath string) tls.Certificate {
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		l.Fail(name, err)
	}
	return c
}

// Decrypter requires the encryption key to decrypt (RSA: XML
// Encryption's key transport) and to be the key of the certificate the
// metadata publishes, or peers would encrypt for a key the role cannot
// use.
func (l *Loader) Decrypter(name string, key crypto.Signer, cert *x509.Certificate) {
	if key == nil || cert == nil {
		return // already reported
	}
	if _, ok := key.(crypto.Decrypter); !ok {
		l.Fail(name+".key", fmt.Errorf("a %T cannot decrypt; XML Encryption needs an RSA key", key))
		return
	}
	if !SameKey(key.Public(), cert.PublicKey) {
		l.Fail(name+".cert", fmt.Errorf("is not the certificate of %s.key", name))
	}
}

// SameKey reports whether two public keys are equal.
func SameKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}
