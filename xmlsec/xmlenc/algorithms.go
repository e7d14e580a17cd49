package xmlenc

import (
	"crypto"
	"slices"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Namespaces of the elements this package reads and writes.
const (
	NSXEnc   = "http://www.w3.org/2001/04/xmlenc#"
	NSXEnc11 = "http://www.w3.org/2009/xmlenc11#"
	NSDSig   = "http://www.w3.org/2000/09/xmldsig#"
	NSSAML   = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSSAMLP  = "urn:oasis:names:tc:SAML:2.0:protocol"
)

// Type URIs of XML Encryption 1.0: of an EncryptedData holding an element
// (§3.1), and of a ds:RetrievalMethod pointing at an EncryptedKey (§3.5.1).
const (
	TypeElement      = NSXEnc + "Element"
	TypeEncryptedKey = NSXEnc + "EncryptedKey"
)

// Key transport algorithms (XML Encryption 1.1 §5.5).
const (
	// RSAOAEPMGF1P is RSA-OAEP with MGF1-SHA1; its digest is SHA-1 unless a
	// ds:DigestMethod child says otherwise. The default: every SAML peer
	// and xmlsec1 1.2 implement it.
	RSAOAEPMGF1P = NSXEnc + "rsa-oaep-mgf1p"
	// RSAOAEP is XML Encryption 1.1 RSA-OAEP with an explicit xenc11:MGF;
	// this package sends it with SHA-256 and MGF1-SHA256.
	RSAOAEP = NSXEnc11 + "rsa-oaep"
	// RSA15 is RSA PKCS#1 v1.5 key transport. It is recognised only to be
	// refused: it is open to Bleichenbacher's attack.
	RSA15 = NSXEnc + "rsa-1_5"
)

// Block encryption algorithms (XML Encryption 1.1 §5.2).
const (
	AES128GCM = NSXEnc11 + "aes128-gcm"
	AES256GCM = NSXEnc11 + "aes256-gcm"
	AES128CBC = NSXEnc + "aes128-cbc"
	AES256CBC = NSXEnc + "aes256-cbc"
	// ZXIDAES256GCM is the URI ZXID 1.43 writes for AES-256-GCM, in the
	// XML Encryption 1.0 namespace by mistake. It is accepted only when a
	// Decrypter lists it (a ZXID peer profile), never sent.
	ZXIDAES256GCM = "http://www.w3.org/2001/04/xmlenc11#aes256-gcm"
)

// Digest and mask generation functions of RSA-OAEP (XML Encryption 1.1
// §5.5.2).
const (
	SHA1       = "http://www.w3.org/2000/09/xmldsig#sha1"
	SHA256     = NSXEnc + "sha256"
	SHA384     = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	SHA512     = NSXEnc + "sha512"
	MGF1SHA1   = NSXEnc11 + "mgf1sha1"
	MGF1SHA256 = NSXEnc11 + "mgf1sha256"
	MGF1SHA384 = NSXEnc11 + "mgf1sha384"
	MGF1SHA512 = NSXEnc11 + "mgf1sha512"
)

// Algorithms names the key transport and the block encryption of one
// encrypted element.
type Algorithms struct {
	KeyTransport string
	Data         string
}

// DefaultAlgorithms returns RSA-OAEP-MGF1P and AES-256-GCM. GCM is the
// default because it authenticates: CBC in XML Encryption can be decrypted
// by anyone who can tell whether a tampered ciphertext decrypted to
// well-formed XML (Jager and Somorovsky, "How To Break XML Encryption",
// CCS 2011), and no uniform error hides every such signal.
func DefaultAlgorithms() Algorithms {
	return Algorithms{KeyTransport: RSAOAEPMGF1P, Data: AES256GCM}
}

// Our order of preference; Choose takes the first that the recipient also
// declares, whatever order its metadata lists them in.
var (
	keyTransportPreference = []string{RSAOAEP, RSAOAEPMGF1P}
	dataPreference         = []string{AES256GCM, AES128GCM, AES256CBC, AES128CBC}
)

// knownKeyTransports and knownData are what a metadata list may name in
// each family, supported or not: naming any of them says which family the
// recipient restricts.
var (
	knownKeyTransports = []string{RSAOAEP, RSAOAEPMGF1P, RSA15}
	knownData          = []string{AES128GCM, NSXEnc11 + "aes192-gcm", AES256GCM,
		AES128CBC, NSXEnc + "aes192-cbc", AES256CBC, NSXEnc + "tripledes-cbc"}
)

// Choose picks the algorithms to encrypt for a recipient from the Algorithm
// URIs of the md:EncryptionMethod elements of its KeyDescriptor (SAML
// metadata §2.4.1.1). In each family (key transport, block encryption)
// it takes the strongest one the recipient declares; a family the list does
// not mention takes the default of DefaultAlgorithms, so an empty list
// gives the defaults. A family that is mentioned but holds nothing this
// package sends (only rsa-1_5, only 3DES) is an ErrAlgorithm: encrypting
// with something else would fail at the recipient.
func Choose(declared []string) (Algorithms, error) {
	def := DefaultAlgorithms()
	kt, err := pick(declared, knownKeyTransports, keyTransportPreference, def.KeyTransport)
	if err != nil {
		return Algorithms{}, err
	}
	data, err := pick(declared, knownData, dataPreference, def.Data)
	if err != nil {
		return Algorithms{}, err
	}
	return Algorithms{KeyTransport: kt, Data: data}, nil
}

func pick(declared, family, preference []string, def string) (string, error) {
	mentioned := false
	for _, d := range declared {
		mentioned = mentioned || slices.Contains(family, d)
	}
	if !mentioned {
		return def, nil
	}
	for _, p := range preference {
		if slices.Contains(declared, p) {
			return p, nil
		}
	}
	return "", xmlsec.Errorf(xmlsec.KindAlgorithm, "recipient declares none of %v", preference)
}

// dataCipher describes a block encryption algorithm.
type dataCipher struct {
	keyLen int
	gcm    bool
}

// dataCipherOf returns the cipher a URI names.
func dataCipherOf(uri string) (dataCipher, bool) {
	switch uri {
	case AES128GCM:
		return dataCipher{16, true}, true
	case AES256GCM, ZXIDAES256GCM:
		return dataCipher{32, true}, true
	case AES128CBC:
		return dataCipher{16, false}, true
	case AES256CBC:
		return dataCipher{32, false}, true
	}
	return dataCipher{}, false
}

// digestOf returns the hash a ds:DigestMethod URI names.
func digestOf(uri string) (crypto.Hash, bool) {
	switch uri {
	case SHA1:
		return crypto.SHA1, true
	case SHA256:
		return crypto.SHA256, true
	case SHA384:
		return crypto.SHA384, true
	case SHA512:
		return crypto.SHA512, true
	}
	return 0, false
}

// mgfOf returns the hash of MGF1 an xenc11:MGF URI names.
func mgfOf(uri string) (crypto.Hash, bool) {
	switch uri {
	case MGF1SHA1:
		return crypto.SHA1, true
	case MGF1SHA256:
		return crypto.SHA256, true
	case MGF1SHA384:
		return crypto.SHA384, true
	case MGF1SHA512:
		return crypto.SHA512, true
	}
	return 0, false
}

// DefaultKeyTransports are the key transports a Decrypter accepts when its
// list is nil: both RSA-OAEP forms, never RSA PKCS#1 v1.5.
func DefaultKeyTransports() []string { return []string{RSAOAEPMGF1P, RSAOAEP} }

// DefaultDataAlgorithms are the block encryptions a Decrypter accepts when
// its list is nil: AES-GCM only. Accepting CBC from a peer also weakens GCM
// ciphertexts sent to the same key: an attacker can move a GCM message's
// EncryptedKey onto a forged CBC EncryptedData and use the CBC decryption
// as an oracle (Jager, Paterson and Somorovsky, "One Bad Apple: Backwards
// Compatibility Attacks on State-of-the-Art Cryptography", NDSS 2013). List
// LegacyDataAlgorithms only for a peer that cannot send GCM.
func DefaultDataAlgorithms() []string { return []string{AES128GCM, AES256GCM} }

// LegacyDataAlgorithms are AES-GCM plus AES-128-CBC and AES-256-CBC, for
// peers that send only CBC (XML Encryption 1.0 implementations, SAML 2.0
// conformance baseline).
func LegacyDataAlgorithms() []string {
	return []string{AES128GCM, AES256GCM, AES128CBC, AES256CBC}
}
