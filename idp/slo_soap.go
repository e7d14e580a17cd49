package idp

import (
	"context"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// SOAP answers a LogoutRequest received over the SOAP binding (SAML
// Profiles §4.4.3.1, back channel): it is accepted as AcceptLogout says
// (SessionIndex required: there is no browser session), the session ends,
// the other participants are reached over SOAP only, and the signed
// LogoutResponse (Success, or Responder/PartialLogout) is returned for the
// SOAP body, with why each participant that failed did (Chain.Failures),
// for the logs. A failure after the issuer is known is a LogoutResponse
// with its status; before, the error itself, for a SOAP fault.
func (l *SLO) SOAP(ctx context.Context, el *etree.Element, now time.Time) (*etree.Element, []error, error) {
	lr, err := l.AcceptLogout(ctx, Inbound{Binding: samlp.BindingSOAP, Element: el}, nil, now)
	if err != nil {
		return l.soapError(lr, err, now)
	}
	c, err := l.Start(ctx, lr.SessionID, lr, false, now)
	if err != nil {
		return l.soapError(lr, err, now)
	}
	out, err := l.Reply(lr, c.status(), now)
	if err != nil {
		return nil, c.Failures(), err
	}
	return out.Message, c.Failures(), nil
}

// soapError is the LogoutResponse with err's status for lr, and err; or
// no response and the error when none may be sent.
func (l *SLO) soapError(lr *LogoutRequest, err error, now time.Time) (*etree.Element, []error, error) {
	out, err2 := l.ErrorReply(lr, err, now)
	if err2 != nil {
		return nil, nil, err2
	}
	return out.Message, nil, err
}

// backChannel sends p a signed LogoutRequest over SOAP at loc and checks
// the answer (SAML Bindings §3.2; SAML Profiles §4.4.4.2): a SOAP envelope
// whose body is a LogoutResponse signed by p's metadata key, for this
// request, Success. A Destination is optional on the SOAP binding; when
// present it must name the IdP's SOAP SingleLogoutService, the endpoint
// that asked (SAML Core §3.2.2: the URI the response is sent to).
func (l *SLO) backChannel(ctx context.Context, p store.Participant, sp *md.SPSSODescriptor, loc string, now time.Time) error {
	if err := safeURL(loc); err != nil { // before anything is signed for it
		return err
	}
	el, id, err := l.logoutRequest(p, loc, now)
	if err != nil {
		return err
	}
	body, err := l.soap.call(ctx, loc, el)
	if err != nil {
		return err
	}
	u, err := peekLogout(body, "LogoutResponse")
	if err != nil {
		return err
	}
	if u.Issuer.Value != p.ProviderID {
		return Errorf(CodeRequestDenied, "LogoutResponse from %q, asked %q", u.Issuer.Value, p.ProviderID)
	}
	if err := l.sso.checkSchema(u.Element); err != nil {
		return err
	}
	resp, _, err := samlp.VerifyLogoutResponse(u.Element, &dsig.Verifier{Trust: sp.TrustSet(), Policy: l.policy(p.ProviderID)})
	if err != nil {
		return signatureError(err)
	}
	return checkLogoutResponse(resp, id, l.sso.cfg.SLOSOAPURL)
}
