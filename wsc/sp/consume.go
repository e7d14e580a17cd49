package sp

import (
	"context"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// response is a samlp:Response as far as Consume may rely on it: the
// header and assertions of the verified copy when the Response is signed;
// of the received tree when it is not, and then only for checks that the
// signed assertion repeats (Destination as its Recipient, InResponseTo as
// its confirmation's InResponseTo) and for a Success status, which alone
// opens nothing.
type response struct {
	samlp.StatusResponseHeader
	signed     bool
	assertions []*etree.Element
}

// Consume checks a Response posted to the ACS (SAML Profiles §4.1.4.3,
// §4.1.4.5; SAML2.md §3.3), requestID being the ID the portal bound to this
// browser at StartLogin, and returns the login it asserts. Each check has
// its error kind:
//   - the message is a SAMLResponse, schema-valid (ErrMalformed), from the
//     configured IdP (ErrIssuer), which the metadata lists (ErrMetadata);
//   - a signed Response verifies with the IdP's metadata keys, SHA-1
//     refused (ErrSignature); its Destination is the ACS (ErrDestination);
//   - it answers a request (ErrUnsolicited), the browser's (ErrUnknownRequest),
//     which is taken from the store, once (a second Consume of it, an
//     expired or unknown one: ErrUnknownRequest), with the RelayState it
//     was sent with (ErrRelayState);
//   - its status is Success (else a *StatusError, when the Response is
//     signed; an unsigned error status is ErrSignature);
//   - it carries exactly one assertion (ErrMalformed), an
//     EncryptedAssertion that decrypts (ErrDecrypt; a plain one is
//     ErrUnencrypted unless AllowPlainAssertions), signed by the IdP
//     whether or not the Response is (WantAssertionsSigned), and read only
//     from the verified copy (ErrSignature: wrapping, comments and
//     duplicate IDs come to nothing);
//   - the assertion passes checkAssertion, and its ID was never accepted
//     before (ErrReplay, remembered until it expires).
func (s *SP) Consume(ctx context.Context, msg *binding.POSTMessage, requestID string) (*Login, error) {
	now := s.now()
	if msg == nil || msg.Param != binding.ParamResponse || msg.Element == nil {
		return nil, errorf(KindMalformed, "not a SAMLResponse")
	}
	return s.consume(ctx, msg.Element, msg.RelayState, requestID, s.cfg.ACSURL, now)
}

// consume checks the Response el received at acs (the ACS of the
// browser's binding, or the ECP one) with relayState, answering requestID.
func (s *SP) consume(ctx context.Context, el *etree.Element, relayState, requestID, acs string, now time.Time) (*Login, error) {
	d, resp, err := s.readResponse(el, acs, now)
	if err != nil {
		return nil, err
	}
	pend, err := s.answered(ctx, resp, requestID, now)
	if err != nil {
		return nil, err
	}
	if err := checkRelayState(relayState, pend); err != nil {
		return nil, err
	}
	if err := checkStatus(resp); err != nil {
		return nil, err
	}
	a, err := s.openAssertion(resp, verifier(d))
	if err != nil {
		return nil, err
	}
	l, expiry, err := s.checkAssertion(a, requestID, acs, now)
	if err != nil {
		return nil, err
	}
	if err := s.checkReplay(ctx, a.ID, expiry, now); err != nil {
		return nil, err
	}
	l.RelayState = pend.RelayState
	return l, nil
}

// readResponse checks the schema and the issuer, then the signature of a
// signed Response, and its Destination.
func (s *SP) readResponse(el *etree.Element, acs string, now time.Time) (*md.IDPSSODescriptor, *response, error) {
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return nil, nil, wrap(KindMalformed, err, "schema")
	}
	u, err := samlp.PeekResponse(el)
	if err != nil {
		return nil, nil, wrap(KindMalformed, err, "Response")
	}
	if err := s.checkIssuer(u.Issuer); err != nil {
		return nil, nil, err
	}
	d, err := s.idp(now)
	if err != nil {
		return nil, nil, err
	}
	resp, err := verifyResponse(u, verifier(d))
	if err != nil {
		return nil, nil, err
	}
	return d, resp, checkDestination(resp.Destination, resp.signed, acs)
}

// checkIssuer wants the configured IdP as an entity Issuer (SAML Profiles
// §4.1.4.2).
func (s *SP) checkIssuer(is *saml.Issuer) error {
	if err := (&samlp.StatusResponseHeader{Issuer: is}).CheckIssuer(); err != nil {
		return wrap(KindIssuer, err, "issuer")
	}
	if is.Value != s.cfg.IdP {
		return errorf(KindIssuer, "issued by %q, not %q", is.Value, s.cfg.IdP)
	}
	return nil
}

// verifyResponse verifies a signed Response and returns what was signed;
// an unsigned one is returned as received (see response).
func verifyResponse(u *samlp.UnverifiedResponse, v *dsig.Verifier) (*response, error) {
	if !u.Signed {
		h := samlp.StatusResponseHeader{ID: u.ID, InResponseTo: u.InResponseTo, Destination: u.Destination,
			Issuer: u.Issuer, Status: u.Status}
		return &response{StatusResponseHeader: h, assertions: u.Assertions}, nil
	}
	r, _, err := samlp.VerifyResponse(u.Element, v)
	if err != nil {
		return nil, verifyError(err, "Response")
	}
	return &response{StatusResponseHeader: r.StatusResponseHeader, signed: true, assertions: r.Assertions}, nil
}

// checkDestination wants the ACS as Destination: always when the Response
// is signed (SAML Bindings §3.5.5.2), and whenever present.
func checkDestination(dest string, signed bool, acs string) error {
	switch {
	case dest == "" && signed:
		return errorf(KindDestination, "signed Response without Destination")
	case dest != "" && dest != acs:
		return errorf(KindDestination, "Destination %q, the ACS is %q", dest, acs)
	}
	return nil
}

// answered takes the request the Response answers, which must be the
// browser's: unsolicited responses are refused (SAML2.md §3.4), and so is
// one for another browser's request (a login CSRF).
func (s *SP) answered(ctx context.Context, resp *response, requestID string, now time.Time) (*pending, error) {
	switch {
	case resp.InResponseTo == "":
		return nil, errorf(KindUnsolicited, "Response %s answers no request", resp.ID)
	case requestID == "":
		return nil, errorf(KindUnknownRequest, "the browser holds no request; the Response answers %q", resp.InResponseTo)
	case resp.InResponseTo != requestID:
		return nil, errorf(KindUnknownRequest, "the Response answers %q, the browser's request is %q", resp.InResponseTo, requestID)
	}
	return s.take(ctx, prefixLogin, requestID, now)
}

// checkStatus reports an error status of a signed Response as a
// *StatusError; an unsigned one could be anybody's.
func checkStatus(resp *response) error {
	switch {
	case resp.Status.Success():
		return nil
	case !resp.signed:
		return errorf(KindSignature, "unsigned Response with status %s", resp.Status.Code.Value)
	}
	return &StatusError{Status: resp.Status}
}

// openAssertion returns the Response's one assertion, decrypted and
// verified: the decoded verified copy, never the received element.
func (s *SP) openAssertion(resp *response, v *dsig.Verifier) (*saml.Assertion, error) {
	if len(resp.assertions) != 1 {
		return nil, errorf(KindMalformed, "%d assertions in a Success Response, want one", len(resp.assertions))
	}
	el := resp.assertions[0]
	switch {
	case el.Tag == "EncryptedAssertion":
		plain, err := s.decrypter.Decrypt(el)
		if err != nil {
			return nil, wrap(KindDecrypt, err, "EncryptedAssertion")
		}
		// The Response's schema check could not see inside the
		// ciphertext.
		if err := s.cfg.Schema.ValidateElement(plain); err != nil {
			return nil, wrap(KindMalformed, err, "decrypted assertion")
		}
		el = plain
	case !s.cfg.AllowPlainAssertions:
		return nil, errorf(KindUnencrypted, "plain saml:Assertion")
	}
	if s.fault(FaultAcceptUnsigned) {
		el, v = faultSignUnsigned(el, v)
	}
	a, _, err := saml.VerifyAssertion(el, v)
	if err != nil {
		return nil, verifyError(err, "Assertion")
	}
	return a, nil
}
