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
