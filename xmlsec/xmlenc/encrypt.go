package xmlenc

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"io"
	"slices"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Placement says where an EncryptedKey goes. SAML core §2.2.4 allows both
// and both occur in practice (SAML2.md §10); decryption accepts either.
type Placement int

const (
	// KeyInside puts the EncryptedKey in EncryptedData/ds:KeyInfo: the most
	// compatible form (older Shibboleth SPs find only this one) and ZXID's
	// default.
	KeyInside Placement = iota
	// KeyBeside puts the EncryptedKey after the EncryptedData in the
	// wrapper, as SAML core §2.2.4 shows: EncryptedData/ds:KeyInfo points at
	// it with a ds:RetrievalMethod of Type xenc#EncryptedKey (XML Encryption
	// 1.0 §3.5.2) and a ds:KeyName equal to the key's xenc:CarriedKeyName
	// (§3.5.1), and the key lists the data in its ReferenceList (§3.6).
	// This is ZXID's ENCKEY_OPT 0x01 form.
	KeyBeside
)

// Recipient is the party an element is encrypted for, as its metadata
// describes it (the KeyDescriptor use="encryption", or with no use).
type Recipient struct {
	// EntityID, when set, is written as EncryptedKey@Recipient.
	EntityID string
	// Cert is the KeyDescriptor's certificate. Its RSA key encrypts the
	// session key and it is copied into the EncryptedKey's ds:KeyInfo, as
	// ZXID and Lasso do, so that a recipient with several keys knows which
	// one to use.
	Cert *x509.Certificate
	// Key is used when Cert is nil.
	Key *rsa.PublicKey
	// Methods are the Algorithm URIs of the KeyDescriptor's
	// md:EncryptionMethod elements, in any order (see Choose).
	Methods []string
}

// Encrypter encrypts SAML elements for recipients. The zero value encrypts
// with the algorithms Choose picks, the key inside the EncryptedData and
// randomness from crypto/rand.
type Encrypter struct {
	// Rand is the source of session keys, IVs and IDs; nil is crypto/rand.
	Rand io.Reader
	// Placement of the EncryptedKey.
	Placement Placement
	// Algorithms overrides Choose: each field that is set is used as is.
	Algorithms Algorithms
	// MinRSABits is the smallest recipient key accepted; 0 means 2048.
	MinRSABits int
}

// Encrypt returns a new wrapper element w holding el encrypted for to, as
// SAML core §2.2.4, §2.3.4, §2.7.3.2 and §3.6.1 define it: one
// xenc:EncryptedData of Type Element with one xenc:EncryptedKey. el itself
// is left unchanged; the caller puts the wrapper where el was. The
// plaintext is el with every namespace declaration it inherits, so that
// the recipient reads it the same wherever it decrypts it. Sign el before
// encrypting it (SAML2.md §9.3).
func (e *Encrypter) Encrypt(el *etree.Element, w Wrapper, to Recipient) (*etree.Element, error) {
	if el == nil {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "nothing to encrypt")
	}
	wi, err := w.accepting(el)
	if err != nil {
		return nil, err
	}
	alg, dc, err := e.algorithms(to)
	if err != nil {
		return nil, err
	}
	pub, err := e.publicKey(to)
	if err != nil {
		return nil, err
	}
	plain, err := serialize(el)
	if err != nil {
		return nil, err
	}
	return e.seal(wi, alg, dc, pub, to, plain)
}

// seal encrypts the plaintext and builds the wrapper.
func (e *Encrypter) seal(wi wrapperInfo, alg Algorithms, dc dataCipher, pub *rsa.PublicKey, to Recipient, plain []byte) (*etree.Element, error) {
	rnd := e.rand()
	key := make([]byte, dc.keyLen)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return nil, err
	}
	ct, err := sealData(dc, key, plain, rnd)
	if err != nil {
		return nil, err
	}
	ekv, err := wrapKey(alg.KeyTransport, pub, key, rnd)
	if err != nil {
		return nil, err
	}
	ids, err := newIDs(rnd)
	if err != nil {
		return nil, err
	}
	return e.build(wi, alg, to, ids, ekv, ct), nil
}

func (e *Encrypter) rand() io.Reader {
	if e.Rand != nil {
		return e.Rand
	}
	return rand.Reader
}

// algorithms fills what e.Algorithms leaves empty from Choose and checks
// that the result is something this package sends.
func (e *Encrypter) algorithms(to Recipient) (Algorithms, dataCipher, error) {
	alg := e.Algorithms
	if alg.KeyTransport == "" || alg.Data == "" {
		chosen, err := Choose(to.Methods)
		if err != nil {
			return Algorithms{}, dataCipher{}, err
		}
		alg.KeyTransport = cmp.Or(alg.KeyTransport, chosen.KeyTransport)
		alg.Data = cmp.Or(alg.Data, chosen.Data)
	}
	if !slices.Contains(keyTransportPreference, alg.KeyTransport) {
		return Algorithms{}, dataCipher{}, xmlsec.Errorf(xmlsec.KindAlgorithm, "key transport %q not sent", alg.KeyTransport)
	}
	if !slices.Contains(dataPreference, alg.Data) {
		return Algorithms{}, dataCipher{}, xmlsec.Errorf(xmlsec.KindAlgorithm, "block encryption %q not sent", alg.Data)
	}
	dc, _ := dataCipherOf(alg.Data)
	return alg, dc, nil
}

// publicKey returns the recipient's RSA key, refusing small ones.
func (e *Encrypter) publicKey(to Recipient) (*rsa.PublicKey, error) {
	pub := to.Key
	if to.Cert != nil {
		k, ok := to.Cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, xmlsec.Errorf(xmlsec.KindAlgorithm, "recipient key is %T, not RSA", to.Cert.PublicKey)
		}
		pub = k
	}
	if pub == nil {
		return nil, xmlsec.Errorf(xmlsec.KindAlgorithm, "recipient has no RSA encryption key")
	}
	minBits := e.MinRSABits
	if minBits == 0 {
		minBits = 2048
	}
	if pub.N.BitLen() < minBits {
		return nil, xmlsec.Errorf(xmlsec.KindAlgorithm, "recipient RSA key of %d bits, below %d", pub.N.BitLen(), minBits)
	}
	return pub, nil
}

// idPair holds the Id attributes of the EncryptedData and EncryptedKey.
type idPair struct{ data, key string }

// newIDs draws two IDs of 128 random bits each.
func newIDs(rnd io.Reader) (idPair, error) {
	var b [32]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return idPair{}, err
	}
	return idPair{data: "_" + hex.EncodeToString(b[:16]), key: "_" + hex.EncodeToString(b[16:])}, nil
}

// build writes the wrapper. Namespaces are declared once, on the wrapper.
func (e *Encrypter) build(wi wrapperInfo, alg Algorithms, to Recipient, ids idPair, ekv, ct []byte) *etree.Element {
	wr := etree.NewElement(wi.prefix + ":" + wi.local)
	wr.CreateAttr("xmlns:"+wi.prefix, wi.space)
	wr.CreateAttr("xmlns:xenc", NSXEnc)
	wr.CreateAttr("xmlns:ds", NSDSig)
	ed := wr.CreateElement("xenc:EncryptedData")
	ed.CreateAttr("Id", ids.data)
	ed.CreateAttr("Type", TypeElement)
	ed.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", alg.Data)
	ki := ed.CreateElement("ds:KeyInfo")
	ek := encryptedKey(alg, to, ids, ekv, e.Placement == KeyBeside)
	if e.Placement == KeyBeside {
		rm := ki.CreateElement("ds:RetrievalMethod")
		rm.CreateAttr("URI", "#"+ids.key)
		rm.CreateAttr("Type", TypeEncryptedKey)
		ki.CreateElement("ds:KeyName").SetText(ids.key)
	} else {
		ki.AddChild(ek)
	}
	addCipherValue(ed, ct)
	if e.Placement == KeyBeside {
		wr.AddChild(ek)
	}
	return wr
}

// encryptedKey writes the xenc:EncryptedKey (XML Encryption 1.0 §3.5.1)
// in schema order.
func encryptedKey(alg Algorithms, to Recipient, ids idPair, ekv []byte, beside bool) *etree.Element {
	ek := etree.NewElement("xenc:EncryptedKey")
	ek.CreateAttr("Id", ids.key)
	if to.EntityID != "" {
		ek.CreateAttr("Recipient", to.EntityID)
	}
	ek.AddChild(keyTransportMethod(alg.KeyTransport))
	if to.Cert != nil {
		x := ek.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data")
		x.CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(to.Cert.Raw))
	}
	addCipherValue(ek, ekv)
	ek.CreateElement("xenc:ReferenceList").CreateElement("xenc:DataReference").CreateAttr("URI", "#"+ids.data)
	if beside {
		ek.CreateElement("xenc:CarriedKeyName").SetText(ids.key)
	}
	return ek
}

func addCipherValue(el *etree.Element, b []byte) {
	el.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(b))
}
