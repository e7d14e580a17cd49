package idp

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// enrolPrefix keeps the enrolment records apart from artifacts and pending
// requests in the shared ArtifactStore.
const enrolPrefix = "nim-enrol:"

// nimApply finds the federation the request names and changes it. The
// NameID's SPProvidedID is not compared: the value and the qualifiers name
// the federation, and an SP whose last NewID answer was lost holds an older
// one (Lasso keeps what it had at login).
func (s *SSO) nimApply(ctx context.Context, r *nimRequest, now time.Time) error {
	sp := r.req.Issuer.Value
	nid, err := s.nimNameID(r)
	if err != nil {
		return err
	}
	f, err := s.p.cfg.Federations.FederationByNameID(ctx, sp, nid.Value)
	if errors.Is(err, store.ErrNotFound) {
		return Wrap(CodeUnknownPrincipal, err, "NameID unknown to "+sp)
	}
	if err != nil {
		return Wrap(CodeInternal, err, "federation lookup")
	}
	if !f.Active() {
		return Errorf(CodeUnknownPrincipal, "federation of %q with %q is terminated", f.PrincipalID, sp)
	}
	if r.req.Terminate {
		return s.terminate(ctx, f, now)
	}
	newID, err := s.nimNewID(r)
	if err != nil {
		return err
	}
	return s.enrol(ctx, f, newID, now)
}

// nimNameID is the NameID of the request, decrypted when encrypted, which
// must be a persistent NameID of this IdP for the requesting SP (absent
// qualifiers default to the IdP and the SP: SAML2.md §15 item 9).
func (s *SSO) nimNameID(r *nimRequest) (*saml.NameID, error) {
	sp := r.req.Issuer.Value
	nid := r.req.NameID
	if r.req.EncryptedID != nil {
		if s.p.cfg.EncryptionKey == nil {
			return nil, Errorf(CodeUnknownPrincipal, "EncryptedID and no decryption key")
		}
		var err error
		if nid, err = r.req.EncryptedID.Decrypt(&xmlenc.Decrypter{Key: s.p.cfg.EncryptionKey, EntityID: s.p.cfg.EntityID}); err != nil {
			return nil, Wrap(CodeUnknownPrincipal, err, "EncryptedID")
		}
	}
	switch {
	case nid == nil || nid.Value == "":
		return nil, Errorf(CodeUnknownPrincipal, "no NameID")
	case nid.Format != saml.NameIDPersistent:
		return nil, Errorf(CodeUnknownPrincipal, "NameID format %q is not persistent", nid.Format)
	case nid.NameQualifier != "" && nid.NameQualifier != s.p.cfg.EntityID:
		return nil, Errorf(CodeUnknownPrincipal, "NameQualifier %q", nid.NameQualifier)
	case nid.SPNameQualifier != "" && nid.SPNameQualifier != sp:
		return nil, Errorf(CodeUnknownPrincipal, "SPNameQualifier %q, request from %q", nid.SPNameQualifier, sp)
	}
	return nid, nil
}

// nimNewID is the SP's new identifier, decrypted when encrypted, checked
// by CheckSPProvidedID.
func (s *SSO) nimNewID(r *nimRequest) (string, error) {
	v := r.req.NewID
	if r.req.NewEncryptedID != nil {
		if s.p.cfg.EncryptionKey == nil {
			return "", Errorf(CodeRequestUnsupported, "NewEncryptedID and no decryption key")
		}
		d := &xmlenc.Decrypter{Key: s.p.cfg.EncryptionKey, EntityID: s.p.cfg.EntityID}
		el, err := d.Decrypt(r.req.NewEncryptedID)
		if err != nil {
			return "", Wrap(CodeInvalidRequest, err, "NewEncryptedID")
		}
		v = el.Text()
	}
	return v, CheckSPProvidedID(v)
}

// CheckSPProvidedID refuses an SP-provided identifier that is empty, longer
// than MaxNewID bytes, not UTF-8 in Normalization Form C, or holds control
// characters (Cc) or format characters (Cf: U+202E RIGHT-TO-LEFT
// OVERRIDE, zero-width joiners, which make one identifier look like
// another on the operator's screens) (ARCHITECTURE "The relay DB": local
// identifiers are UTF-8 NFC). The institution's own format is not
// interpreted further.
func CheckSPProvidedID(v string) error {
	switch {
	case v == "" || len(v) > MaxNewID:
		return Errorf(CodeInvalidRequest, "NewID of %d bytes, want 1 to %d", len(v), MaxNewID)
	case !utf8.ValidString(v):
		return Errorf(CodeInvalidRequest, "NewID is not UTF-8")
	case !norm.NFC.IsNormalString(v):
		return Errorf(CodeInvalidRequest, "NewID is not in Normalization Form C")
	}
	for _, c := range v {
		if unicode.IsControl(c) {
			return Errorf(CodeInvalidRequest, "NewID holds control character %U", c)
		}
		if unicode.Is(unicode.Cf, c) {
			return Errorf(CodeInvalidRequest, "NewID holds format character %U", c)
		}
	}
	return nil
}

// terminate ends the federation (SAML Core §3.6.3): its NameID stays
// reserved and no later SSO revives it (federated).
func (s *SSO) terminate(ctx context.Context, f store.Federation, now time.Time) error {
	_, err := s.p.cfg.Federations.UpdateFederation(ctx, f.PrincipalID, f.ProviderID, func(cur store.Federation) (store.Federation, error) {
		if !cur.Active() {
			return cur, Errorf(CodeUnknownPrincipal, "federation already terminated")
		}
		cur.Terminated = now
		return cur, nil
	})
	return fedError(err, "terminate federation")
}

// enrol stores newID as the federation's SPProvidedID, only within the
// enrolment window of a certificate authentication of the principal at
// that SP (ARCHITECTURE "Enrolment of a link"); the authentication allows
// one enrolment. An identifier another active federation of the SP holds
// is refused.
func (s *SSO) enrol(ctx context.Context, f store.Federation, newID string, now time.Time) error {
	_, err := s.cfg.Pending.TakeArtifact(ctx, enrolKey(f.PrincipalID, f.ProviderID), now)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(CodeRequestDenied, "no certificate authentication of %q at %q in the last %v",
			f.PrincipalID, f.ProviderID, s.cfg.NIM.window())
	}
	if err != nil {
		return Wrap(CodeInternal, err, "enrolment record")
	}
	_, err = s.p.cfg.Federations.UpdateFederation(ctx, f.PrincipalID, f.ProviderID, func(cur store.Federation) (store.Federation, error) {
		if !cur.Active() {
			return cur, Errorf(CodeUnknownPrincipal, "federation terminated")
		}
		cur.SPProvidedID = newID
		return cur, nil
	})
	return fedError(err, "enrol SPProvidedID")
}

func fedError(err error, detail string) error {
	var e *Error
	switch {
	case err == nil || errors.As(err, &e):
		return err
	case errors.Is(err, store.ErrAlreadyExists):
		return Wrap(CodeRequestDenied, err, "identifier taken")
	case errors.Is(err, store.ErrNotFound):
		return Wrap(CodeUnknownPrincipal, err, detail)
	case errors.Is(err, store.ErrInvalid):
		return Wrap(CodeInvalidRequest, err, detail)
	}
	return Wrap(CodeInternal, err, detail)
}

// enrolKey is the store handle of the enrolment record of (principal,
// provider): a hash, so that no principal ID appears in a handle.
func enrolKey(principalID, providerID string) string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(principalID)))
	h.Write(n[:])
	h.Write([]byte(principalID))
	h.Write([]byte(providerID))
	return enrolPrefix + hex.EncodeToString(h.Sum(nil))
}

// noteCardAuthn records that an assertion for authentication a went to sp:
// the SP may register its identifier until a.Instant plus the enrolment
// window. It does nothing when the profile is off or the window has
// already passed (an assertion from an older session).
func (s *SSO) noteCardAuthn(ctx context.Context, sp string, a Authn, now time.Time) error {
	until := a.Instant.Add(s.cfg.NIM.window())
	if s.cfg.NIM.URL == "" || !until.After(now) {
		return nil
	}
	err := s.cfg.Pending.ReplaceArtifact(ctx, store.Artifact{Handle: enrolKey(a.PrincipalID, sp), Issuer: s.p.cfg.EntityID,
		Recipient: sp, Message: []byte(a.PrincipalID), Created: now, Expires: until})
	if err != nil {
		return Wrap(CodeInternal, err, "enrolment record")
	}
	return nil
}
