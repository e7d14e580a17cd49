package idp

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// transientPrefix keeps the records of transient NameIDs apart from
// artifacts, pending requests and enrolments in the shared ArtifactStore.
const transientPrefix = "transient:"

// QueryInbound is a request received over the SOAP binding, not yet
// trusted: the Body's element and the TLS client certificates of the
// connection (none when the listener asked for none).
type QueryInbound struct {
	Element     *etree.Element
	ClientCerts []*x509.Certificate
}

// QueryOutcome is the signed answer to a query and the requester it goes
// to.
type QueryOutcome struct {
	SP       string
	Response *etree.Element
}

// queryPeek finds the requesting SP of a SOAP request named name before
// any check of the message; with an unknown SP nothing may be answered.
func (s *SSO) queryPeek(in QueryInbound, name string, now time.Time) (*samlp.Unverified, *md.SPSSODescriptor, error) {
	u, err := samlp.Peek(in.Element)
	if err != nil {
		return nil, nil, Wrap(CodeInvalidRequest, err, "peek")
	}
	if u.Name != name {
		return nil, nil, Errorf(CodeInvalidRequest, "a %s, not a %s", u.Name, name)
	}
	if u.Issuer == nil || u.Issuer.Value == "" || u.Issuer.Format != "" && u.Issuer.Format != saml.NameIDEntity {
		return nil, nil, Errorf(CodeUnknownSP, "no entity Issuer")
	}
	sp, err := s.lookupSP(u.Issuer.Value, now)
	return u, sp, err
}

// queryAuthentic returns the request element to decode once the
// requester is authenticated against its metadata (SAML Bindings §3.2.2.2
// leaves it to the SOAP channel or the message): by the enveloped
// signature, then only the signed subtree is read, or, for an unsigned
// request, by a TLS client certificate whose key is one of the SP's
// metadata signing keys. Anything else is RequestDenied.
func (s *SSO) queryAuthentic(in QueryInbound, u *samlp.Unverified, sp *md.SPSSODescriptor) (*etree.Element, error) {
	if err := s.checkSchema(u.Element); err != nil {
		return nil, err
	}
	if u.Version != saml.Version {
		return nil, Errorf(CodeVersionMismatch, "version %q", u.Version)
	}
	if faultOn(FaultSkipSignature) {
		return u.Element, nil
	}
	if u.Signed {
		pol := xmlsec.Policy{AllowSHA1: s.quirks(u.Issuer.Value).AllowSHA1}
		el, err := (&dsig.Verifier{Trust: sp.TrustSet(), Policy: pol}).Verify(u.Element)
		if err != nil {
			return nil, signatureError(err)
		}
		return el, nil
	}
	if tlsClientOf(sp, in.ClientCerts) {
		return u.Element, nil
	}
	return nil, Errorf(CodeRequestDenied, "unsigned %s from %q without a TLS client certificate of its metadata", u.Name, u.Issuer.Value)
}

// tlsClientOf reports whether the leaf client certificate carries one of
// sp's metadata signing keys.
func tlsClientOf(sp *md.SPSSODescriptor, certs []*x509.Certificate) bool {
	if len(certs) == 0 {
		return false
	}
	for _, c := range sp.SigningCertificates() {
		if samePublicKey(certs[0].PublicKey, c.PublicKey) {
			return true
		}
	}
	return false
}

// checkQueryHeader checks the authenticated request's Issuer against the
// peeked one, its Destination against the endpoint url (when present),
// its freshness and that its ID is not replayed.
func (s *SSO) checkQueryHeader(ctx context.Context, h *samlp.RequestHeader, u *samlp.Unverified, url string, now time.Time) error {
	switch {
	case h.Issuer == nil || h.Issuer.Value != u.Issuer.Value:
		return Errorf(CodeRequestDenied, "verified Issuer differs from %q", u.Issuer.Value)
	case h.Destination != "" && h.Destination != url:
		return Errorf(CodeRequestDenied, "Destination %q, this endpoint is %q", h.Destination, url)
	}
	if err := s.checkFresh(h, now); err != nil {
		return err
	}
	return s.checkReplay(ctx, h, now)
}

// subjectOf finds the principal a query's subject names: a NameID this
// IdP issued to the requester sp, persistent (an active federation) or
// transient (of a live session), given in clear or as an EncryptedID for
// the IdP. It returns the principal and the NameID as the IdP knows it.
// SAML Core §3.3.2.3 / §3.8.1: an identifier the IdP cannot resolve is
// UnknownPrincipal; one qualified for another provider is RequestDenied.
func (s *SSO) subjectOf(ctx context.Context, sp string, nid *saml.NameID, enc *saml.EncryptedID, now time.Time) (string, *saml.NameID, error) {
	nid, err := s.clearNameID(nid, enc)
	if err != nil {
		return "", nil, err
	}
	owner := sp
	switch {
	case nid.NameQualifier != "" && nid.NameQualifier != s.p.cfg.EntityID:
		return "", nil, Errorf(CodeUnknownPrincipal, "NameQualifier %q", nid.NameQualifier)
	case nid.SPNameQualifier != "" && nid.SPNameQualifier != sp && faultOn(FaultQueryForeignNameID):
		owner = nid.SPNameQualifier
	case nid.SPNameQualifier != "" && nid.SPNameQualifier != sp:
		return "", nil, Errorf(CodeRequestDenied, "a NameID qualified for %q, asked by %q", nid.SPNameQualifier, sp)
	}
	switch nid.Format {
	case saml.NameIDPersistent:
		return s.persistentSubject(ctx, owner, nid.Value)
	case saml.NameIDTransient:
		p, err := s.transientPrincipal(ctx, owner, nid.Value, now)
		return p, &saml.NameID{Value: nid.Value, Format: saml.NameIDTransient, NameQualifier: s.p.cfg.EntityID, SPNameQualifier: owner}, err
	}
	return "", nil, Errorf(CodeUnknownPrincipal, "NameID format %q is neither persistent nor transient", nid.Format)
}

// clearNameID is nid, or enc decrypted with the IdP's key.
func (s *SSO) clearNameID(nid *saml.NameID, enc *saml.EncryptedID) (*saml.NameID, error) {
	if enc != nil {
		if s.p.cfg.EncryptionKey == nil {
			return nil, Errorf(CodeUnknownPrincipal, "EncryptedID and no decryption key")
		}
		var err error
		if nid, err = enc.Decrypt(&xmlenc.Decrypter{Key: s.p.cfg.EncryptionKey, EntityID: s.p.cfg.EntityID}); err != nil {
			return nil, Wrap(CodeUnknownPrincipal, err, "EncryptedID")
		}
	}
	if nid == nil || nid.Value == "" {
		return nil, Errorf(CodeUnknownPrincipal, "no NameID")
	}
	return nid, nil
}

func (s *SSO) persistentSubject(ctx context.Context, owner, value string) (string, *saml.NameID, error) {
	f, err := s.p.cfg.Federations.FederationByNameID(ctx, owner, value)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", nil, Wrap(CodeUnknownPrincipal, err, "persistent NameID unknown to "+owner)
	case err != nil:
		return "", nil, Wrap(CodeInternal, err, "federation lookup")
	case !f.Active():
		return "", nil, Errorf(CodeUnknownPrincipal, "federation of %q with %q is terminated", f.PrincipalID, owner)
	}
	return f.PrincipalID, s.p.federated(f), nil
}

// transientKey is the store handle of the record of a transient NameID
// issued to sp: a hash, so that no identifier appears in a handle.
func transientKey(sp, value string) string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(sp)))
	h.Write(n[:])
	h.Write([]byte(sp))
	h.Write([]byte(value))
	return transientPrefix + hex.EncodeToString(h.Sum(nil))
}

// noteTransient records which session a transient NameID was issued in,
// for as long as the session lasts, when the SP may query attributes
// about it: a transient identifier names its principal only while that
// session lives (SAML Core §8.3.8).
func (s *SSO) noteTransient(ctx context.Context, nid *saml.NameID, sess *Session, now time.Time) error {
	if nid.Format != saml.NameIDTransient || s.cfg.AttributeServiceURL == "" || !s.p.releases(nid.SPNameQualifier) {
		return nil
	}
	err := s.cfg.Pending.PutArtifact(ctx, store.Artifact{Handle: transientKey(nid.SPNameQualifier, nid.Value),
		Issuer: s.p.cfg.EntityID, Recipient: nid.SPNameQualifier, Message: []byte(sess.ID), Created: now, Expires: sess.Expires})
	if err != nil {
		return Wrap(CodeInternal, err, "transient NameID record")
	}
	return nil
}

// transientPrincipal is the principal of the live session in which sp
// received the transient NameID value, which must still be the one sp
// holds in it. The record is taken and put back: the store resolves a
// handle at most once, so a query that runs at the same instant as
// another about the same NameID may find it missing (UnknownPrincipal)
// and is asked again by its SP.
func (s *SSO) transientPrincipal(ctx context.Context, sp, value string, now time.Time) (string, error) {
	a, err := s.cfg.Pending.TakeArtifact(ctx, transientKey(sp, value), now)
	if errors.Is(err, store.ErrNotFound) {
		return "", Errorf(CodeUnknownPrincipal, "transient NameID unknown to %q or its session ended", sp)
	}
	if err != nil {
		return "", Wrap(CodeInternal, err, "transient NameID record")
	}
	if err := s.cfg.Pending.PutArtifact(ctx, a); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return "", Wrap(CodeInternal, err, "transient NameID record")
	}
	sess, err := s.p.cfg.Sessions.Session(ctx, string(a.Message))
	if err != nil || !now.Before(sess.Expires) {
		return "", Errorf(CodeUnknownPrincipal, "the session of a transient NameID of %q ended", sp)
	}
	for _, pt := range sess.Participants {
		if pt.ProviderID == sp && pt.NameID == value && pt.NameIDFormat == saml.NameIDTransient {
			return sess.PrincipalID, nil
		}
	}
	return "", Errorf(CodeUnknownPrincipal, "the transient NameID is no longer the one %q holds", sp)
}

// queryResponse signs a samlp:Response to a query, with status st and the
// assertion (nil for a refusal), and checks it against the schema. It is
// always signed: SAML Bindings §3.2 leaves the response's authentication
// to the message when the channel does not authenticate the IdP to the
// requester's application.
func (s *SSO) queryResponse(inResponseTo string, st samlp.Status, assertion *etree.Element, now time.Time) (*etree.Element, error) {
	id, err := s.p.newID()
	if err != nil {
		return nil, err
	}
	r := &samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: id, InResponseTo: inResponseTo,
		IssueInstant: now, Issuer: &saml.Issuer{Value: s.p.cfg.EntityID}, Status: st}}
	if assertion != nil {
		r.Assertions = []*etree.Element{assertion}
	}
	return s.signChecked(r, "Response")
}

// signChecked signs m, counting the signature, and checks the result
// against the schema.
func (s *SSO) signChecked(m samlp.Message, what string) (*etree.Element, error) {
	el, err := samlp.Sign(m, s.signer())
	wsf.CountSignature(s.p.cfg.Meter, wsf.SigSign, err)
	if err != nil {
		return nil, Wrap(CodeInternal, err, "sign "+what)
	}
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return nil, Wrap(CodeInternal, err, "outgoing "+what+" is not schema-valid")
	}
	return el, nil
}

// statusOf is the SAML status of err: Success for nil.
func statusOf(err error) samlp.Status {
	if err == nil {
		return samlp.NewStatus(samlp.StatusSuccess, "")
	}
	e := StatusFor(err)
	st := samlp.NewStatus(e.Top, e.Second)
	st.Message = e.Message
	return st
}
