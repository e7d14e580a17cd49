package idp

import (
	"crypto/tls"
	"crypto/x509"
	"html/template"
	"net/http"
)

// CardLoginTLSConfig returns the tls.Config of the IdP's separate card-login
// listener (ARCHITECTURE "Card login"). It requests a client certificate
// but does not demand or verify one in the handshake
// (tls.RequestClientCert): a browser without a card then reaches a page
// that says so instead of a TLS alert, and the chain, CRL and registry
// checks happen in AuthenticateCertificate with typed errors. Go's TLS
// server can neither renegotiate nor do TLS 1.3 post-handshake
// authentication, which is why this listener is separate from the SSO one.
//
// hints, the card-issuer and soft CA certificates, are sent as the
// handshake's certificate_authorities (RFC 8446 §4.2.4) so that a browser
// offers only certificates that can log in; they are hints, not trust.
func CardLoginTLSConfig(server tls.Certificate, hints ...*x509.Certificate) *tls.Config {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{server},
		ClientAuth:   tls.RequestClientCert,
		MinVersion:   tls.VersionTLS12,
		// A resumed session would carry the certificate of an earlier
		// handshake without a new signature by the card: every card
		// login must prove the card is there now.
		SessionTicketsDisabled: true,
	}
	if len(hints) > 0 {
		cfg.ClientCAs = x509.NewCertPool()
		for _, c := range hints {
			cfg.ClientCAs.AddCert(c)
		}
	}
	return cfg
}

// CardLogin is the HTTP adapter of the card login: it authenticates the
// request's TLS client certificate and hands the Authn to OnSuccess, or
// renders a page that says what went wrong and what to do, with the HTTP
// status of the error table.
type CardLogin struct {
	IdP       *IdP
	OnSuccess func(w http.ResponseWriter, r *http.Request, a Authn)
	// Log, when set, receives the private cause of every refusal.
	Log func(r *http.Request, err error)
}

// ServeHTTP handles one login request.
func (h CardLogin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := h.IdP.Now()
	if r.TLS == nil {
		h.fail(w, r, Errorf(CodeNoCertificate, "request did not arrive over TLS"))
		return
	}
	a, err := h.IdP.AuthenticateCertificate(r.Context(), r.TLS.PeerCertificates, now)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.OnSuccess(w, r, a)
}

func (h CardLogin) fail(w http.ResponseWriter, r *http.Request, err error) {
	if h.Log != nil {
		h.Log(r, err)
	}
	WriteLoginError(w, err)
}

// advice is what the login page tells the user to do, per code.
var advice = map[Code]string{
	CodeNoCertificate:         "No card was presented. Insert your card into the reader, make sure the reader is connected, then reload this page and choose the card's certificate when the browser asks.",
	CodeCertExpired:           "Your card has expired. Please apply to the card issuer for a new card.",
	CodeCertNotYetValid:       "Your card is not valid yet. Check your computer's clock, or wait until the validity date printed on the card.",
	CodeCertRevoked:           "Your card has been revoked and can no longer be used. If you did not report it lost, contact the card issuer.",
	CodeForeignIssuer:         "The certificate you chose was not issued by an accepted card issuer. Reload this page and choose the certificate of your card.",
	CodeCertUsage:             "The certificate you chose cannot be used to log in. Reload this page and choose the authentication certificate of your card.",
	CodeRevocationUnavailable: "The card's revocation status cannot be checked right now. Please try again in a few minutes.",
	CodeUnknownCard:           "Your card is not registered with this service. If you received a new card, register it with the card issuer, then try again.",
}

var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Card login: {{.Title}}</title></head>
<body><main>
<h1>Card login failed</h1>
<p><strong>{{.Title}}.</strong></p>
<p>{{.Advice}}</p>
</main></body></html>
`))

// WriteLoginError renders the card-login failure page for err: the public
// text of the error table, what to do next, and the table's HTTP status.
// Nothing of the private cause is shown.
func WriteLoginError(w http.ResponseWriter, err error) {
	st := StatusFor(err)
	adv, ok := advice[CodeOf(err)]
	if !ok {
		adv = "Something went wrong on our side. Please try again later."
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(st.Page.HTTP())
	_ = loginPage.Execute(w, struct{ Title, Advice string }{capitalize(st.Message), adv})
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
