// Package secmech implements the ID-WSF 2.0 security mechanisms on both
// sides (IDWSF2 §2.4, §3): the sender's wsse:Security (Timestamp, token,
// SecurityTokenReference or BinarySecurityToken, and the WS-Security
// signature over Body, Timestamp, every sb and wsa header and the token
// reference), and the receiver's checks of the same (signature coverage
// against wrapping, Timestamp freshness, the token rules of §3.4 and the
// binding of holder-of-key tokens to the signing and TLS client keys).
// Beside the checker of tokens (TokenChecker) is their one minter
// (Minter), which the IdP's discovery bootstrap and the Discovery Service
// share: the Liberty SAML 2.0 token of IDWSF2 §3.6.
//
// Supported mechanisms are those of wsf.Mechanisms: ClientTLS:SAMLV2 (the
// default), ClientTLS:peerSAMLV2, TLS:SAMLV2, TLS:Bearer (only for peers
// whose profile allows it) and ClientTLS:X509.
package secmech
