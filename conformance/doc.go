// Package conformance is Renkei's black-box conformance and interop suite:
// it plays the counterpart of the implementation under test (an SP and a
// browser against an IdP; a WSC and a token issuer against a WSP or a
// Discovery Service; an IdP against an SP; an IdP, a DS and a WSP against
// a WSC), talks to it only over HTTP and SOAP, and judges what
// comes back, clause by clause.
//
// A Case is one check, named after the clause it checks
// ("SAML2-Bind-3.4.4.1/redirect-signature"), positive (a conforming message
// must succeed) or negative (a broken one must be refused, in the way the
// clause requires: an error Response with a given status, an error page
// with nothing sent, a SOAP fault with a given lu:Status). The coverage
// matrix (Matrix) holds the rows of the SAML 2.0 conformance modes IdP,
// IdP Lite and SP (SAML Conformance, Table 2) and rows of the ID-WSF baseline:
// F1-F6 and F11 for a DS and a WSP, F16-F18 for a DS, F12, F14 and F19 for
// a WSP, and a WSC's own rows (IDWSF2-WSC-F2, F4, F6, F11, F14, F16); a MUST row without a case is uncovered and fails the run,
// and a row outside the run's scope (Runner.Only) is reported out of scope,
// never as a pass.
//
// A Runner runs the cases of one role with an Env: the Target (from its
// metadata), the suite's SP (its own key and metadata, which the operator
// registers at the IdP), an Authenticator (TLS client certificate, login
// form, or none), and for ID-WSF the WSFTarget and the suite's WSC, with a
// DSTarget or a WSPTarget describing the parties the suite plays around a
// DS or a WSP. Against an SP (SPTarget, SPCases) the suite plays the IdP:
// its SSO endpoint on a loopback listener receives the SP's AuthnRequest,
// and crafted Responses go to the SP's ACS from the browser that began the
// login; acceptance is read by the target file's AcceptRule. Against a WSC (WSCTarget, WSCCases) the suite plays the IdP, a
// Discovery Service and a WSP at once: the login's assertion carries a
// bootstrap to the suite's DS with a token it minted, the DS answers with
// the suite's WSP, and the WSP's answer holds a random marker; whether
// the WSC accepted an answer (a tampered signature, a foreign key, a wrong
// RelatesTo, a stale Timestamp must not be) is read from the marker in
// the page the target file names. The Report records every case with its verdict, reason, the side that deviates
// and the exchanged messages, and renders as text, JSON, JUnit XML and one
// self-contained HTML page. Signatures the suite judges are checked by
// xmlsec/dsig and, independently, by xmlsec1 (Oracle).
//
// Verdict levels. A case declares what a failure means (Case.Level): a
// MUST of the OASIS text (the default), a SHOULD, or a recommended
// security practice; its Clause cites the OASIS document and section, or
// the source of the practice, and ClauseLinks gives the reports a link to
// open. Only a MUST failure fails the run and makes the target deviate; a
// SHOULD or a practice not followed is a warning (Advisory) with its own
// count, unless Runner.FailOn holds the target to it (-strict). A new case
// declares ID, Clause, Row, Summary, Run, Positive and, when it checks no
// MUST, Level; an IdP case that needs no registration of the suite's SP at
// the target sets Standalone. Its Run returns failed for a deviation,
// failedAt for a weaker part of the same exchange, and broken (through
// outcomeOf for exchange errors) when it could not reach the point it
// tests: a run error, never a pass.
//
// The package imports the wire layers (saml, wsf, xmlsec), never the
// engines or the store: it tests implementations, including Renkei's own,
// from the outside.
package conformance
