// Package wss signs and verifies the detached, multi-reference XML
// signatures of WS-Security (OASIS WSS 1.1 SOAP Message Security §8) as the
// Liberty ID-WSF 2.0 SOAP binding and security mechanisms use them
// (IDWSF2.md §2.4, §3): one ds:Signature inside the wsse:Security header,
// one Reference per signed part (the SOAP Body, wsu:Timestamp, every sb,
// sbf and wsa header block, and the security token reference), each with
// URI="#id" and exactly the exclusive c14n transform.
//
// Signer.Sign returns a signed copy of an envelope and never changes the
// caller's tree. Verifier.Verify takes the verifying keys from the caller
// (a trust set holding the holder-of-key key of the token, or the metadata
// key of the sender); ds:KeyInfo only selects among them. It returns a
// Verified result holding a detached copy of exactly what each Reference
// digested, and where in the envelope that element sits. Callers read only
// those copies, and check with Unsigned or CheckCoverage that every part
// the security mechanism requires was signed.
//
// Algorithms, canonicalization, trust sets and the duplicate-ID defence
// come from the shared core in package xmlsec; every failure is an
// *xmlsec.Error matched with errors.Is against the xmlsec sentinels.
package wss
