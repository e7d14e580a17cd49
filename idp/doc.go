// Package idp is Renkei's SAML 2.0 Identity Provider engine: card login by
// TLS client certificate (ARCHITECTURE "Card login"), pairwise persistent
// and transient name identifiers kept in the relay database (SAML Core
// §8.3.7, ARCHITECTURE "The relay DB is the federation table"), signed and
// optionally encrypted assertions for the Web Browser SSO profile (SAML2.md
// §3.2), the ID-WSF discovery bootstrap they carry (IDWSF2 §4.5, §3.6), the
// IdP sessions single logout needs, and the one table that maps the
// engine's typed errors to SAML status codes.
//
// SSO is the Web Browser SSO and ECP engine over that core (SAML2.md §3,
// §13): Accept checks an AuthnRequest step by step (issuer, metadata,
// ACS, schema, version, signature, Destination, freshness, replay,
// NameIDPolicy, RequestedAuthnContext), NeedsLogin decides between the
// session and a card login, Park and Resume keep the request in the shared
// store across the hop to the card-login listener, and Respond and
// ErrorResponse build the signed samlp:Response. Metadata is the IdP's
// own md:EntityDescriptor.
//
// Sessions and single logout: a browser login opens a session named by a
// cookie; an ECP login opens one without a cookie that lasts ECPLifetime.
// Every SP the session answers joins it with its own SessionIndex, and so
// does the Discovery Service when a bootstrap carries its token (the DS
// token's AuthnStatement holds the DS's SessionIndex). The DS in turn
// joins each WSP it mints a token for, in the same shared store. SLO ends
// the session and sends a SOAP LogoutRequest to every participant whose
// metadata lists a SOAP SingleLogoutService (the WSPs' institution SP
// roles); the Discovery Service is not sent one: it reads the session
// from the store and refuses the tokens of one that is gone.
//
// The engine takes typed requests and returns typed results; only the
// HTTP adapters (CardLogin, HTTP) touch an http.ResponseWriter. The
// clock, randomness and keys are Config fields, and each operation takes
// the now its caller read once for the request. Storage is reached only
// through small store interfaces (CardReader, FederationStore,
// SessionStore, ReplayCache, ArtifactStore), each a field of its own.
package idp
