package idp

import (
	"errors"
	"mime"
	"net/http"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// ecp is the SingleSignOnService with the SOAP binding for the ECP
// profile (SAML Profiles §4.2.4.3; SAML2.md §13), on the card listener:
// the reception terminal relays the institution's AuthnRequest over a TLS
// connection whose client authentication the patient's card performed.
// The answer is a SOAP envelope with the ecp:Response header naming the
// ACS and the samlp:Response in the Body; the assertion lives at most
// ECPLifetime. An IdP session without a cookie starts (SSO.Respond) and
// ends with them, or earlier when the terminal's SOAP LogoutRequest
// names its SessionIndex: every terminal token comes from a fresh card
// handshake.
func (h *HTTP) ecp(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	if err := soapMediaType(r); err != nil {
		h.soapFault(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, int64(h.maxBody())+1)
	env, err := (&binding.SOAPDecoder{MaxBody: h.maxBody()}).Decode(r.Body)
	if err != nil {
		h.soapFault(w, r, bindingError(err, true))
		return
	}
	pend, err := h.SSO.Accept(r.Context(), Inbound{Binding: samlp.BindingSOAP, Element: env.Body}, now)
	if err != nil {
		h.ecpFail(w, r, pend, err)
		return
	}
	var peer = r.TLS
	if peer == nil {
		h.ecpFail(w, r, pend, Errorf(CodeNoCertificate, "not over TLS"))
		return
	}
	a, err := h.SSO.p.AuthenticateCertificate(r.Context(), peer.PeerCertificates, now)
	if err != nil {
		h.ecpFail(w, r, pend, err)
		return
	}
	out, err := h.SSO.Respond(r.Context(), pend, a, nil, now)
	if err != nil {
		h.ecpFail(w, r, pend, err)
		return
	}
	h.soapResponse(w, r, out)
}

// soapMediaType takes only the SOAP 1.1 media type, text/xml (SOAP 1.1
// §6.1.1; SAML Bindings §3.2.3.1; the ECP posts the AuthnRequest with the
// SOAP binding, SAML Profiles §4.2.4.3). Anything else is refused before
// the body is read: a form on another site can POST text/plain,
// multipart/form-data or application/x-www-form-urlencoded without a
// preflight, and the browser would present the card for it.
func soapMediaType(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "text/xml" {
		return Errorf(CodeMediaType, "content type %q", r.Header.Get("Content-Type"))
	}
	return nil
}

// ecpFail answers with a signed error Response in the envelope (SAML
// Bindings §3.2.3.3: SAML errors are SAML responses, HTTP 200) when it may
// be sent, and with a SOAP fault when the SP or its ACS is unknown.
func (h *HTTP) ecpFail(w http.ResponseWriter, r *http.Request, pend *Pending, err error) {
	h.log(r, err)
	out, err2 := h.SSO.ErrorResponse(pend, err, h.SSO.p.Now())
	if err2 != nil {
		h.soapFault(w, r, err2)
		return
	}
	h.soapResponse(w, r, out)
}

func (h *HTTP) soapResponse(w http.ResponseWriter, r *http.Request, out *Outcome) {
	hdr := (&binding.ECPResponse{AssertionConsumerServiceURL: out.ACS}).Element()
	b, err := h.SSO.envelopeBytes(&binding.Envelope{Header: []*etree.Element{hdr}, Body: out.Response})
	if err != nil {
		h.soapFault(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(b)
}

// soapFault answers a SOAP-level failure, or a request that may not be
// answered with a SAML response, with a SOAP fault (HTTP 500, SOAP 1.1
// §6.2; 413 for an oversized body, 415 for a body that is not text/xml):
// the public text only. The sender's fault (a typed error other than
// CodeInternal: malformed XML, a DOCTYPE, a bad envelope) is a Client
// fault, the IdP's own a Server fault.
func (h *HTTP) soapFault(w http.ResponseWriter, r *http.Request, err error) {
	h.log(r, err)
	f := &binding.Fault{Code: binding.FaultClient, String: StatusFor(err).Message}
	var rf *binding.Fault
	status := http.StatusInternalServerError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &rf):
		f = rf
	case errors.Is(err, xmlsec.ErrTooLarge) || errors.As(err, &mbe):
		f.String, status = "the request is too large", http.StatusRequestEntityTooLarge
	case CodeOf(err) == CodeMediaType:
		status = http.StatusUnsupportedMediaType
	case CodeOf(err) == CodeInternal:
		f.Code = binding.FaultServer
	}
	b := h.SSO.faultBytes(f)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// soapRequest reads the SOAP envelope of a back-channel request (SAML
// Bindings §3.2) within the IdP's bound on a body; a body that is not one
// gets the sender's fault, S:Client, and nil.
func (h *HTTP) soapRequest(w http.ResponseWriter, r *http.Request) *binding.Envelope {
	r.Body = http.MaxBytesReader(w, r.Body, int64(h.maxBody())+1)
	env, err := (&binding.SOAPDecoder{MaxBody: h.maxBody(), Understood: []string{}}).Decode(r.Body)
	if err != nil {
		h.soapFault(w, r, bindingError(err, true))
		return nil
	}
	return env
}

// soapAnswer writes the engine's signed answer in an envelope, HTTP 200
// whatever its status (SAML Bindings §3.2.3.3), logging err beside it; with
// no answer, the fault of err.
func (h *HTTP) soapAnswer(w http.ResponseWriter, r *http.Request, answer *etree.Element, err error) {
	if answer == nil {
		h.soapFault(w, r, err)
		return
	}
	if err != nil {
		h.log(r, err)
	}
	b, err := h.SSO.envelopeBytes(&binding.Envelope{Body: answer})
	if err != nil {
		h.soapFault(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
