package rolekit

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
)

// KeyPair names a PEM certificate and its PKCS#8 PEM key.
type KeyPair struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// ServiceKeys are the keys of an ID-WSF web service (the DS, a WSP): its
// TLS listener's, its signing key (responses, tokens, its TLS client key)
// with the certificate the metadata lists, its encryption key (the
// subjects of the tokens sent to it), and the metadata sources.
type ServiceKeys struct {
	TLS         tls.Certificate
	Signing     crypto.Signer
	SigningCert *x509.Certificate
	EncKey      crypto.Signer
	EncCert     *x509.Certificate
	Metadata    []md.Source
}

// LoadServiceKeys reads the key files; problems go to l, all of them.
func LoadServiceKeys(l *keyfile.Loader, tlsPair, signing, encryption KeyPair, metadata []MetadataSource) *ServiceKeys {
	k := &ServiceKeys{TLS: l.Pair("tls", tlsPair.Cert, tlsPair.Key),
		Signing: l.Key("signing.key", signing.Key), SigningCert: l.Cert("signing.cert", signing.Cert),
		EncKey: l.Key("encryption.key", encryption.Key), EncCert: l.Cert("encryption.cert", encryption.Cert)}
	if k.Signing != nil && k.SigningCert != nil && !keyfile.SameKey(k.Signing.Public(), k.SigningCert.PublicKey) {
		l.Fail("signing.cert", errors.New("is not the certificate of signing.key"))
	}
	l.Decrypter("encryption", k.EncKey, k.EncCert)
	k.Metadata = Sources(l, metadata)
	return k
}

// CheckKeyPairs reports each named pair that lacks its certificate or key.
func CheckKeyPairs(pairs map[string]KeyPair) []error {
	var errs []error
	for name, kp := range pairs {
		if kp.Cert == "" || kp.Key == "" {
			errs = append(errs, fmt.Errorf("%s needs cert and key", name))
		}
	}
	return errs
}

// CheckSelf requires the metadata to list the web service entityID as
// these keys run it: its signing key, and its encryption key as the one
// tokens are encrypted for. A service the metadata describes otherwise
// would sign what peers refuse, or be sent tokens it cannot read.
func CheckSelf(ctx context.Context, dir *metadir.Directory, role, entityID string, k *ServiceKeys) []error {
	var errs []error
	self, err := dir.Peer(ctx, entityID)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("metadata does not list the %s %s: %v", role, entityID, err))
	case !self.HasKey(k.SigningCert.PublicKey):
		errs = append(errs, fmt.Errorf("metadata lists another signing key for the %s %s than signing.cert", role, entityID))
	}
	if r, err := dir.Recipient(ctx, entityID); err != nil || r.Cert == nil || !keyfile.SameKey(r.Cert.PublicKey, k.EncCert.PublicKey) {
		errs = append(errs, fmt.Errorf("metadata does not list encryption.cert as the %s's encryption key (%v)", role, err))
	}
	return errs
}

// SPRole is what the metadata must list for a role that is an SP of the
// IdP and a WSC of the DS (the portal, a reception terminal): the role's
// own entity with its keys and its assertion consumer service at ACS
// with ACSBinding, the IdP with a single sign-on service of SSOBinding,
// and the DS.
type SPRole struct {
	Role, EntityID  string
	Keys            *ServiceKeys
	ACS, ACSBinding string
	IdP, SSOBinding string
	DS              string
}

// CheckSPRole reports every problem of r in the metadata at once, with
// loadErr (the error of loading the metadata) when there are any: it
// often explains them.
func CheckSPRole(ctx context.Context, meta *md.Set, dir *metadir.Directory, r SPRole, loadErr error, now time.Time) error {
	errs := CheckSelf(ctx, dir, r.Role, r.EntityID, r.Keys)
	if e, err := meta.Entity(r.EntityID, now); err == nil {
		found := false
		for _, d := range e.SPSSO {
			for _, ep := range d.AssertionConsumer {
				found = found || ep.Location == r.ACS && ep.Binding == r.ACSBinding
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("metadata does not list %s as an assertion consumer service (%s) of %s", r.ACS, r.ACSBinding, r.EntityID))
		}
	}
	if e, err := meta.Entity(r.IdP, now); err != nil || len(e.IDPSSO) == 0 {
		errs = append(errs, fmt.Errorf("metadata does not list the IdP %s with a single sign-on service (%v)", r.IdP, err))
	} else if _, err := e.IDPSSO[0].SingleSignOnService(r.SSOBinding); err != nil {
		errs = append(errs, fmt.Errorf("the IdP %s has no single sign-on service for %s: %v", r.IdP, r.SSOBinding, err))
	}
	if eps, err := dir.Service(ctx, r.DS, wsf.ServiceTypeDisco); err != nil || len(eps) == 0 {
		errs = append(errs, fmt.Errorf("metadata does not list the Discovery Service %s (%v)", r.DS, err))
	}
	if len(errs) > 0 && loadErr != nil {
		errs = append(errs, fmt.Errorf("loading the metadata: %w", loadErr))
	}
	return errors.Join(errs...)
}
