// Package discovery is Renkei's ID-WSF 2.0 Discovery Service (IDWSF2 §4)
// over the relay database: the engine that turns one card login into one
// token per institution, each readable by that institution alone
// (ARCHITECTURE "Tokens from the DS").
//
// The engine takes typed requests and returns typed results. Every
// operation gets an Invoker, what the wsf/server pipeline verified about
// the message (the sender, the mechanism, the principal of its token), and
// the decoded wsf/disco request; Services wires the operations into a
// wsf/server Receiver. The consent page's HTTP adapter is consent_http.go.
//
//   - disco:Query (§4.1, §4.2): the principal is the one the IdP's DS token
//     names through its pairwise NameID at this DS; the results are the
//     service instances the principal is associated with (the citizen's
//     consent, ARCHITECTURE "Consent"), or, for a reception terminal with a
//     fresh card login, the services of the institutions the principal is
//     linked with that the purpose allows (the reception-desk rule). Each
//     EPR carries a token minted for its WSP alone by secmech.Minter: the
//     subject an EncryptedID holding the pairwise persistent NameID with
//     the institution's local identifier, holder-of-key bound to the WSC's
//     metadata key (bearer only for peers whose profile allows it).
//   - Single logout (SAML Profiles §4.4): a DS token whose AuthnStatement
//     carries a SessionIndex belongs to an IdP session, which the DS reads
//     from the store it shares with the IdP (once per request). A session
//     that is gone or ran out is Forbidden, for every operation that takes
//     the principal from the token, as a terminated federation is. On
//     disco:Query each WSP a token is minted for joins the session with
//     its pairwise NameID (one write, only for WSPs that had not joined),
//     and the token carries that WSP's SessionIndex, so that the IdP's
//     LogoutRequest to the WSP ends it. A token without a SessionIndex, or
//     issued by another IdP, is not tied to a session.
//   - SvcMD Register, Query, Replace and Delete (§4.3) are the WSPs' own,
//     under ClientTLS:X509: a provider reads and changes only its SvcMDs.
//   - SvcMDAssociation Add, Delete and Query record, withdraw and list the
//     principal's consent.
//
// Every token issued and every refusal is an audit event (ARCHITECTURE
// "Audit"). The relay database keeps identifiers, links, keys and times
// only.
//
// Status codes (IDWSF2 §4.4) are the top-level lu:Status code, as Lasso
// reads them: OK, NoResults, Forbidden, NotFound, Duplicate,
// LogicalDuplicate, Failed.
package discovery
