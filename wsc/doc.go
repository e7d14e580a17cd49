// Package wsc is the Web Service Consumer side of Renkei that My Portal
// and the reception terminal share: from the Discovery Service bootstrap
// of a citizen's login to verified answers of the institutions' WSPs.
// Like the other engines it takes typed requests and returns typed
// results, reads time through Config.Now, and never touches HTTP itself:
// the wsf/client it is given signs, sends and verifies.
//
// # One Session per login
//
// The IdP puts the DS's EPR, with a DS token for this WSC, in the SSO
// assertion (IDWSF2 §4.5). After verifying the assertion the WSC takes
// it with BootstrapOf and makes the login's Session with NewSession; the
// Session lives as long as the login and is dropped with it. Config says
// who calls (Client), the disco:RequestedService resultsType and the
// preferred security mechanisms, the purpose stated on every call
// (wsf.PurposeSelf for the portal; the terminal states
// wsf.PurposeEligibility or wsf.PurposeTreatment, per call if need be),
// and how long to keep EPRs whose token expiry cannot be read.
//
// # Discovery and the EPR cache
//
// Discover asks the DS one disco:Query, one RequestedService per service
// type, and caches the EPRs by service type until the earliest
// NotOnOrAfter of their tokens, less a margin. The token, a saml:Assertion
// for the WSP, is read without verification: the WSC is not its audience,
// and the expiry is only a hint of when to ask again. A token the WSC
// cannot read (an EncryptedAssertion) is kept until the EPR's
// notOnOrAfter, or Config.MaxTokenAge. Concurrent callers missing the same
// type share one query. NoResults is no EPR, not an error, and so is
// InteractionRequired: the DS wants the citizen's consent first, which a
// Discover does not collect; another status is a *StatusError. Discover without a type asks for every service of the
// citizen (the portal's overview) and caches what comes back by type.
// Forget drops cached types, e.g. after the citizen gave consent.
//
// # Calls
//
// Do (Call, and Query for DST queries) picks the EPR of the service type
// at the provider, discovering when the cache has none, and sends the
// operation with the purpose's sb:UsageDirective. The client signs per
// the EPR's mechanism and checks the response's signature, Timestamp and
// RelatesTo. An sb:EndpointUpdate is followed and the new EPR replaces the
// cached one. A fault InappropriateCredentials, which is also what a WSP
// answers to an expired token (wsse:InvalidSecurityToken), drops the
// type's cache entry, and the call is re-sent once with a fresh EPR. A
// RedirectRequest comes back as *client.RedirectError: the portal sends
// the browser to its URL and, when the citizen returns, re-sends the Call
// with Header.RelatesTo set to the error's FaultMessageID (and Forget, if
// the consent changes what the DS would answer). ErrNotDiscovered means
// the DS gave no EPR of that type at that provider.
//
// # Several WSPs at once
//
// CallAll sends its calls in parallel, each under its own timeout, and
// returns the outcomes in order. The uncached service types are discovered
// first in one shared DS query. A slow or dead WSP costs its own call the
// timeout and nothing to the others, so a page can show what answered and
// say which institution did not.
package wsc
