// Package wsp is Renkei's WSP engine: the Data Services Template 2.1
// (IDWSF2 §5) in front of an institution's back office. A WSP serves one
// or more service types of the federation (wsf/dst's catalog: clinical
// results and prescriptions, check-ups, appointments, eligibility, the
// pension record) and the audit service of its own accesses
// (urn:renkei:svc:audit:1.0), on the wsf/server receiver, which verifies
// each message and its token first.
//
// The subject of every request is the token's subject, decrypted by the
// receiver from its EncryptedID (or the sb:TargetIdentity token's, when
// one is sent): its SPProvidedID is the institution's local identifier,
// the only key the back office is asked by. A token without one is
// answered Failed/ActionNotAuthorized, a local identifier the back office
// does not know Failed/DoesNotExist: never a guess.
//
// The back office is a Backend (backend.go) an adapter builds from a
// mapping file (wsp/sqlmap, wsp/httpjson). Every call to it is bounded in
// time (Config.Timeout): a back office that is down answers
// Failed/UnexpectedError, a slow one Failed/TimeOut, in time. Writes are
// atomic per request: every item of a Create, Modify or Delete, or none.
//
// Every request is audited in the WSP's own log (who, for which subject,
// what was read or written, the purpose of sb:UsageDirective and the
// status), which the citizen reads through the audit service. A purpose
// the WSP's policy does not name for the service, or a usage directive in
// a policy language it does not speak, is CannotHonourUsageDirective.
//
// Restricted Select (wsf/dst.ParseSelect): "/p:Item", "/p:Item[@id='v']",
// "/p:Item[p:Field='v']" for a filter field; Modify and Delete take the
// @id form only. Status codes (IDWSF2 §5.2), per item, nested under the
// top-level OK, Partial or Failed with ref = the item's itemID:
// MissingSelect, InvalidSelect, ObjectTypeMismatch, UnsupportedObjectType
// (an item type this WSP's back office does not map), UnsupportedPredefined,
// SortNotSupported, StaticNotSupported, InvalidSetID, FormatNotSupported,
// NoSuchTest, ItemIDDuplicated, MissingItemID, ChangedSinceReturnsAll (under
// OK: the back office keeps no modification time), MissingNewDataElement,
// NoMultipleAllowed, MissingDataElement, InvalidData, ActionNotAuthorized,
// DoesNotExist, ModifiedSince, ResultQueryNotSupported, TimeOut,
// UnexpectedError.
//
// Single logout (slo.go; SAML Profiles §4.4.3.4, §4.4.4, SAML Bindings
// §3.2): the WSP participates in the IdP session of every token the DS
// mints for it (the token's AuthnStatement carries the WSP's
// SessionIndex). SLO answers the IdP's SOAP LogoutRequest: only one
// issued by the configured IdP and signed by its metadata key (SHA-1
// refused), SAML 2.0, at most MaxBody bytes, Destination this endpoint,
// fresh, not past NotOnOrAfter, its ID never seen; it records each
// SessionIndex as ended in the WSP's own store, as long as a token can
// live, then the request's ID, and answers a signed LogoutResponse:
// Success, Requester/RequestDenied (wrong or no Destination, stale,
// replayed), Requester/RequestUnsupported (no SessionIndex), or
// Responder; a request that cannot be authenticated (another SAML
// version included) gets a SOAP fault and records nothing. As secmech.EndedSessions, SLO makes the receiver
// refuse a token of an ended session as it refuses an expired token
// (wsse:InvalidSecurityToken, InappropriateCredentials).
package wsp
