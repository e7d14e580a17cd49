package wsf

import "github.com/renkei-idwsf/renkei/xmlsec"

// Profile is a per-peer quirk profile. The zero value is strict; each field
// relaxes exactly one item of IDWSF2 §11 for that peer alone, and nothing
// outside §11 can be relaxed. Spellings §11 says to accept from everyone
// (anonymous addresses, peerSAMLV2 dates, interact case, EPR framework
// element, unknown EPR attributes, boolean forms, Security child order)
// are accepted without a profile.
type Profile struct {
	// Name identifies the profile in logs.
	Name string
	// AllowSHA1 accepts rsa-sha1 signatures and sha1 digests from the peer
	// (§11 item 18: ZXID 1.43 signs rsa-sha1).
	AllowSHA1 bool
	// DetachedEnveloped accepts WS-Security references with the
	// transforms enveloped-signature then exc-c14n, as ZXID writes them on
	// every reference (§11 item 18).
	DetachedEnveloped bool
	// UnrelatedDuplicateIDs tolerates an ID that occurs twice where no
	// signature references it: ZXID gives the discovery EPR and the
	// bootstrap EPR inside its token the same wsu:Id (§11 item 18).
	UnrelatedDuplicateIDs bool
	// UnqualifiedID accepts signature references to an unqualified id
	// attribute, such as ZXID's S:Body id="BDY" (§11 item 18).
	UnqualifiedID bool
	// AllowBearer accepts urn:liberty:security:2005-02:TLS:Bearer from the
	// peer (§11 item 18; never the default, ARCHITECTURE "Security
	// mechanism per hop").
	AllowBearer bool
	// BearerWithoutConfirmation accepts, under Bearer only, a token with no
	// SubjectConfirmation as a bearer token (§11 item 9, Lasso's DS tokens).
	BearerWithoutConfirmation bool
	// UnsignedBearer accepts, under Bearer only, a message without a
	// signature or Timestamp (§11 item 19: Lasso sends neither).
	UnsignedBearer bool
	// UnreferencedToken accepts a message signature that references
	// neither the holder-of-key token nor a SecurityTokenReference naming
	// it, when the signature is by the key the token confirms. ZXID 1.43
	// references the tokens of its own DS but not a foreign token it keeps
	// from a bootstrap: its Query with a Renkei DS token signs FWK, TS,
	// MID, ACT, TO, PRV and BDY only (captures/zxid-renkei). The token is
	// still verified as its issuer signed it, and holder-of-key still
	// requires the message to be signed by the confirmed key; what is lost
	// is the binding of this token to this message, so the peer (or whoever
	// can change its TLS traffic) could swap in another token confirmed to
	// the same key. Not in IDWSF2 §11 (its item 18 records ZXID covering
	// its own tokens): Renkei adds it for ZXID with that argument.
	UnreferencedToken bool
	// LenientSchema skips the XSD check of the peer's messages (§11 item
	// 16: validate our own output strictly, peers' input leniently). A
	// receiver applies it once the request is proven to be the peer's:
	// signed with its metadata key or sent over TLS with that key as the
	// client key; an unsigned Bearer request without that client key
	// proves no sender and is validated strictly. A client applies it to
	// the responses of the peer whose EPR it called.
	LenientSchema bool
	// UsageDirectiveWithoutRef accepts sb:UsageDirective without its
	// required ref (§11 item 15: ZXID's TAS3 usage directives).
	UsageDirectiveWithoutRef bool
	// MisplacedStatus accepts the lu:Status of a Discovery response in the
	// disco namespace or in the relative namespace "util", as Lasso writes
	// it (§11 item 19); wsf/disco reads it as lu:Status.
	MisplacedStatus bool
}

// The profiles of the peers IDWSF2 §11 describes.
var (
	// Strict is the default: nothing relaxed.
	Strict = Profile{Name: "strict"}
	// ZXID is ZXID 1.43 as recorded (§11 items 15, 16, 18).
	ZXID = Profile{Name: "zxid", AllowSHA1: true, DetachedEnveloped: true, UnrelatedDuplicateIDs: true,
		UnqualifiedID: true, AllowBearer: true, UnreferencedToken: true, LenientSchema: true, UsageDirectiveWithoutRef: true}
	// Lasso is Lasso 2.7 with ID-WSF (§11 items 9, 16, 19).
	Lasso = Profile{Name: "lasso", AllowSHA1: true, AllowBearer: true, BearerWithoutConfirmation: true,
		UnsignedBearer: true, LenientSchema: true, MisplacedStatus: true}
)

// Policy returns the signature policy for the peer: strict but for the
// profile's AllowSHA1, DetachedEnveloped and UnrelatedDuplicateIDs.
func (p Profile) Policy() xmlsec.Policy {
	return xmlsec.Policy{AllowSHA1: p.AllowSHA1, DetachedEnveloped: p.DetachedEnveloped,
		UnrelatedDuplicateIDs: p.UnrelatedDuplicateIDs}
}
