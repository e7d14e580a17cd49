// Package sp is the SAML 2.0 Service Provider engine of My Portal (and of
// the reception terminal): Web Browser SSO with the IdP (SAML Profiles
// §4.1) and Single Logout on both channels (§4.4), strict by default.
// Like the other engines it takes typed requests and returns typed
// results, reads time through Config.Now, once per call, and keeps its
// state in a Store that every node of the portal shares. The portal's
// handlers decode and write HTTP, and own the sessions; SOAPHandler is the
// one thin HTTP helper.
//
// # Login
//
// StartLogin makes a signed AuthnRequest over HTTP-Redirect (persistent
// NameID, the ACS over HTTP-POST) and keeps it pending for
// RequestLifetime. The portal binds LoginRequest.ID to the browser (a
// cookie), sends the browser to LoginRequest.URL, and at the ACS hands the
// decoded form (binding.POSTDecoder) and that ID to Consume, which returns
// the Login: the pairwise persistent NameID, the IdP's SessionIndex, how
// and when the citizen authenticated, and the Discovery Service bootstrap
// EPR that wsc.NewSession starts from. The portal keys its session by
// (Login.IdP, NameID, SessionIndex).
//
// Consume refuses unsolicited Responses (IdP-initiated SSO has no request
// to bind a browser to, so it is a login CSRF waiting to happen) and a
// Response to any request but the browser's; each pending request is
// taken once, from any node. The assertion must be signed by the IdP's key
// from metadata, whether or not the Response is (WantAssertionsSigned),
// and encrypted. Only the verified, decrypted copy is read: signature
// wrapping, duplicate IDs and comments inside a NameID come to nothing.
// SHA-1 signatures are refused (the zero xmlsec.Policy), and so is AES-CBC
// unless the Decrypter lists it. Each check fails with its own Kind,
// matched with errors.Is against the Err* sentinels; the lower layer's
// error stays reachable as the cause (xmlsec.ErrAlgorithm for SHA-1). An
// error status of the IdP is a *StatusError the portal shows: the citizen
// cancelled, AuthnFailed, NoPassive.
//
// # Logout
//
// SP-initiated: the portal ends its session, then sends the browser to
// StartLogout's URL; the IdP ends every other participant's session and
// answers at the SLOURL, where ConsumeLogoutResponse verifies the answer.
// A partial logout is a LogoutResult, not an error.
//
// IdP-initiated, or another SP's logout that the IdP propagates: over the
// front channel, ReceiveLogoutRequest authenticates the request at the
// SLOURL (IsLogoutResponse tells it from an answer), the portal ends the
// sessions of IdPLogout.NameID and SessionIndexes and sends the browser to
// LogoutResponseURL with LogoutStatus of the outcome; over the back
// channel, when Config.SOAPSLOURL is set, ReceiveLogoutSOAP (SOAPHandler)
// does the same through the portal's end function and answers in place.
// Renkei's IdP sends its LogoutRequest over SOAP to a participant whose
// metadata lists a SOAP SingleLogoutService, and through the browser to the
// others. Every logout message of the IdP must be signed, a query
// signature or an enveloped one, as the IdP requires of SPs; the SP signs
// its own.
//
// # Metadata and peers
//
// Metadata is the SP's entity for the operator's aggregate: signing and
// encryption certificates (AES-GCM with RSA-OAEP), the ACS, the
// SingleLogoutServices, the persistent NameID format, AuthnRequestsSigned,
// WantAssertionsSigned, and the request for the DiscoveryEPR attribute
// that makes the IdP add the bootstrap.
//
// An IdP other than Renkei's may need two settings, each a relaxation
// the portal makes for that peer alone: Lasso 2.8 encrypts with AES-CBC
// (Decrypter.DataAlgorithms = xmlenc.LegacyDataAlgorithms()), and an IdP
// that cannot encrypt needs AllowPlainAssertions.
package sp
