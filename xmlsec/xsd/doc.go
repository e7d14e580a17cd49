// Package xsd validates SAML 2.0 and ID-WSF 2.0 messages against the XML
// Schemas of those standards, through libxml2.
//
// The schema set (SAML 2.0 assertion, protocol, metadata, ECP and the
// authentication context classes Renkei issues; XML-DSig 1.0 and 1.1; XML-Enc
// 1.0 and 1.1; SOAP 1.1; WS-Addressing 1.0; WS-Security 1.0 secext and
// utility; xml.xsd; and the reconstructed ID-WSF 2.0 schemas) is embedded in
// the binary, see schemas/README.md. libxml2 resolves schema imports only
// from files, so New writes the set to a private temporary directory,
// compiles one wrapper schema (schemas/all.xsd) that imports every
// namespace, and removes the directory again: the compiled schema no longer
// needs it. One compiled Schema is safe for concurrent use.
//
// Every document is first read by xmlsec.Parse, so that a DOCTYPE, a
// non-UTF-8 encoding or anything over the size and depth limits is refused
// before libxml2 sees it; libxml2 then parses without network access, entity
// substitution or DTD loading, and validates. Nothing is fetched: neither the
// schema set nor the documents can make libxml2 open a file or a connection
// (xsi:schemaLocation hints are ignored).
//
// ValidateElement validates a tree the caller already holds from
// xmlsec.Parse, for instance the subtree a signature check returned: it
// checks the tree and serializes it once instead of reading bytes again.
//
// Validation failures are *xmlsec.Error of kind xmlsec.KindSchema wrapping a
// *ValidationError that lists libxml2's messages, at most MaxErrors of them.
//
// Only this package may import github.com/lestrrat-go/libxml2 (it is archived
// upstream); the rest of Renkei sees the Validator interface. It needs cgo:
// built without cgo, New fails with ErrNoCgo.
package xsd
