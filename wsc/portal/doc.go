// Package portal is My Portal: the citizen's one site over every
// institution (ARCHITECTURE "The story" 1-4, 6). Its engine takes typed
// requests and returns typed results; its HTTP adapters are the files
// named *_http.go and the templates in pages/.
//
// # The engine
//
// A Portal holds the citizens' sessions (Citizen), each opened with
// Open from a verified login (Identity: the pairwise NameID and the IdP's
// session index) and the Discovery Service bootstrap of its assertion,
// and each with its own wsc.Session: the EPRs and tokens the DS gave,
// cached until they expire. Nothing of a session is stored: it lives in
// the process and ends with the login (Close, EndLogin for the IdP's
// logout), after SessionLife, or when the citizen's logins exceed
// MaxPerCitizen. The portal therefore runs as one node.
//
//   - Records asks every institution the DS names, for the service types
//     asked (none: every DST type of wsf/dst), in parallel, each call
//     under Config.Timeout; an institution that does not answer costs its
//     own Section a Problem (Slow, Down, Refused) and nothing else. Only
//     a DS that cannot be asked is an error (ErrDiscovery). LabRange and
//     LabTrend read the lab results; Trend.SVG draws one test over time
//     without script.
//   - OpenSlots, Book and Cancel are the appointments (DST Create and
//     Delete): a slot taken meanwhile is ErrSlotFull.
//   - Institutions, Links and Withdraw are the citizen's consents, the
//     associations the DS holds (SvcMDAssociationQuery, SvcMDQuery for
//     what each covers, SvcMDAssociationDelete). StartLink asks the DS for
//     one institution's services with a UserInteraction header; the DS
//     answers with a RedirectRequest to its consent page (Pending), and
//     FinishLink re-sends the Query when the citizen comes back (IDWSF2
//     §2.6). An institution that does not know the citizen is
//     ErrNotEnrolled: enrolment is at its desk, with the card.
//   - AccessLog merges, newest first, the events of every audit service
//     the DS names: its own (tokens issued, consents) and each
//     institution's (every access to the citizen's records).
//
// The portal never learns an institution's local identifier: the tokens'
// subjects are encrypted for each WSP.
//
// # The pages
//
// HTTP serves the pages (portal_http.go) with an Auth beside them: SAML
// (saml_http.go) over wsc/sp for the login, the assertion consumer, the
// logouts and the SP's metadata. Every string is in the catalogue
// (words.go), in Japanese and English; the language is the lang
// parameter's, kept in a cookie, else the browser's, else Japanese. The
// pages use no script (a strict Content-Security-Policy), every POST
// carries the session's CSRF token, the cookies are __Host- and Secure,
// and a page that fails says so in the catalogue's words only.
package portal
