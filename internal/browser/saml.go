package browser

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// RequestSigned reports whether the AuthnRequest the browser carried to
// ssoURL was signed: a Signature parameter with the HTTP-Redirect binding
// (SAML Bindings §3.4.4.1), or a ds:Signature child of the request with
// HTTP-POST (§3.5.4). The first hop to ssoURL counts.
func (b *Browser) RequestSigned(ssoURL string) (bool, error) {
	for _, h := range b.Hops() {
		switch {
		case !strings.HasPrefix(h.URL, ssoURL):
		case h.Method == http.MethodGet:
			u, err := url.Parse(h.URL)
			if err != nil {
				return false, err
			}
			return u.Query().Get("Signature") != "", nil
		default:
			return postSigned(h.Form.Get("SAMLRequest"))
		}
	}
	return false, errors.New("browser: no request reached " + ssoURL)
}

func postSigned(field string) (bool, error) {
	b, err := base64.StdEncoding.DecodeString(field)
	if err != nil {
		return false, err
	}
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		return false, err
	}
	for _, c := range el.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == xmlsec.NSDSig {
			return true, nil
		}
	}
	return false, nil
}
