// Package dsig signs and verifies enveloped XML signatures (XML-DSig 1.0
// §6.6.4) of SAML 2.0 protocol messages, assertions and metadata, as SAML
// 2.0 Core §5 profiles them: one Reference to the ID of the signed element,
// the transforms enveloped-signature then exclusive c14n, and the Signature
// a direct child of that element.
//
// Signing never changes the caller's tree: Signer.Sign returns a signed
// copy. Verifier.Verify returns a copy of exactly what was digested (no
// comments, no processing instructions, text merged, the Signature
// removed); callers read only that copy. Algorithms, canonicalization,
// trust and ID checks come from the shared core in package xmlsec.
package dsig
