// Package piv speaks the PIV card application of NIST SP 800-73-4 (Part 2,
// the card command interface) to any card reached through a Transmitter: the
// subset a smart-card login needs (SELECT, GET DATA for the authentication
// certificate and CHUID, VERIFY, GENERAL AUTHENTICATE with key 9A, command
// chaining and GET RESPONSE), and a crypto.Signer whose private key stays on
// the card.
package piv

// AID is the full PIV application identifier (SP 800-73-4 Part 1 §2.2).
var AID = []byte{0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00}

// Instructions of SP 800-73-4 Part 2 §3 and ISO/IEC 7816-4.
const (
	InsSelect       byte = 0xA4
	InsGetData      byte = 0xCB
	InsVerify       byte = 0x20
	InsGeneralAuth  byte = 0x87
	InsGetResponse  byte = 0xC0
	claChain        byte = 0x10
	pinReferencePIV byte = 0x80
)

// Data object tags (SP 800-73-4 Part 1 Table 3).
const (
	TagCHUID       uint32 = 0x5FC102
	TagAuthCert    uint32 = 0x5FC105
	TagCCC         uint32 = 0x5FC107
	TagKeyHistory  uint32 = 0x5FC10C
	TagDiscovery   uint32 = 0x7E
	tagDataObject  uint32 = 0x53
	tagTagList     uint32 = 0x5C
	tagCertificate uint32 = 0x70
	tagCertInfo    uint32 = 0x71
)

// Key references and algorithm identifiers (SP 800-78-4 Tables 6-1, 6-2).
const (
	KeyAuthentication byte = 0x9A
	AlgRSA2048        byte = 0x07
	AlgECCP256        byte = 0x11
)

// Tags of the dynamic authentication template (SP 800-73-4 Part 2 Table 7).
const (
	tagDynAuth   uint32 = 0x7C
	tagResponse  uint32 = 0x82
	tagChallenge uint32 = 0x81
)
