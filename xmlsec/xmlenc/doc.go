// Package xmlenc is XML Encryption for SAML 2.0 and ID-WSF 2.0: it
// encrypts an element (a saml:Assertion, a saml:NameID, a samlp:NewID) for
// a recipient into saml:EncryptedAssertion, saml:EncryptedID or
// samlp:NewEncryptedID, and decrypts such wrappers with an RSA private key
// that may live on a card or in an HSM (crypto.Decrypter).
//
// Key transport is RSA-OAEP: xmlenc#rsa-oaep-mgf1p by default, or
// xmlenc11#rsa-oaep with SHA-256 and MGF1-SHA256. RSA PKCS#1 v1.5 is never
// used (Bleichenbacher). Block encryption is AES-GCM (AES-256-GCM by
// default, AES-128-GCM on request or from metadata); AES-CBC is sent only
// to recipients that declare nothing better and accepted only from peers
// it is allowed for, because CBC in XML Encryption is malleable and its
// decryption is an oracle (Jager and Somorovsky, "How To Break XML
// Encryption", CCS 2011; the "One Bad Apple" backwards-compatibility
// attack of NDSS 2013 then reaches GCM ciphertexts under the same key).
// The choice for a recipient comes from the md:EncryptionMethod list of
// its metadata through Choose.
//
// Every decryption failure is the one error xmlsec.ErrDecrypt with the
// same text; see Decrypter.
package xmlenc
