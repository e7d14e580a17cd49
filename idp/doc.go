// Package idp is Renkei's SAML 2.0 Identity Provider engine: card login by
// TLS client certificate (ARCHITECTURE "Card login"), pairwise persistent
// and transient name identifiers kept in the relay database (SAML Core
// §8.3.7, ARCHITECTURE "The relay DB is the federation table"), signed and
// optionally encrypted assertions for the Web Browser SSO profile (SAML2.md
// §3.2), the ID-WSF discovery bootstrap they carry (IDWSF2 §4.5, §3.6), the
// IdP sessions single logout needs, and the one table that maps the
// engine's typed errors to SAML status codes.
//
// The engine takes typed requests and returns typed results; only the
// small HTTP adapter of the card login touches an http.ResponseWriter. The
// clock, randomness and keys are Config fields, and each operation takes
// the now its caller read once for the request. Storage is reached only
// through the three small store interfaces the engine needs (CardReader,
// FederationStore, SessionStore), each a Config field of its own.
package idp
