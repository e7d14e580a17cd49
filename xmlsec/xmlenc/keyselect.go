package xmlenc

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// maxCertChars bounds the base64 text of an X509Certificate read to tell
// several EncryptedKeys apart.
const maxCertChars = 16384

// selectKey returns the one EncryptedKey meant for this Decrypter, or
// ErrDecrypt. The candidates are the EncryptedKeys inside
// EncryptedData/ds:KeyInfo, plus those in the wrapper beside the
// EncryptedData: only the ones a ds:RetrievalMethod (by Id) or a ds:KeyName
// (by CarriedKeyName) points at when the KeyInfo has such pointers, else
// all of them (SAML core §2.2.4). Then, narrowing while more than one is
// left: keys whose Recipient names another entity are dropped (always,
// when EntityID is set); keys naming this EntityID are preferred; keys
// whose ReferenceList does not list this EncryptedData are dropped; keys
// carrying a certificate of this Decrypter's public key are preferred.
// Exactly one must remain. Nothing is ever tried by decrypting.
func (d *Decrypter) selectKey(ed, wrapper *etree.Element) (*etree.Element, error) {
	ki, err := only(ed, NSDSig, "KeyInfo")
	if err != nil {
		return nil, err
	}
	cands := d.candidates(ed, ki, wrapper)
	cands = d.byRecipient(cands)
	cands = narrow(cands, func(ek *etree.Element) bool { return refersTo(ek, ed) })
	cands = narrow(cands, d.carriesOurCert)
	if len(cands) != 1 {
		return nil, errDecrypt()
	}
	return cands[0], nil
}

// candidates gathers the nested keys and the sibling keys KeyInfo points
// at (or all siblings when it points at none).
func (d *Decrypter) candidates(ed, ki, wrapper *etree.Element) []*etree.Element {
	var nested, pointers []*etree.Element
	if ki != nil {
		nested = wire.Children(ki, NSXEnc, "EncryptedKey")
		pointers = append(wire.Children(ki, NSDSig, "RetrievalMethod"), wire.Children(ki, NSDSig, "KeyName")...)
	}
	if wrapper == nil {
		return nested
	}
	siblings := wire.Children(wrapper, NSXEnc, "EncryptedKey")
	if len(pointers) == 0 {
		return append(nested, siblings...)
	}
	for _, s := range siblings {
		if slices.ContainsFunc(pointers, func(p *etree.Element) bool { return pointsAt(p, s) }) {
			nested = append(nested, s)
		}
	}
	return nested
}

// pointsAt reports whether a ds:RetrievalMethod or ds:KeyName of the
// EncryptedData designates the EncryptedKey ek. A RetrievalMethod must be
// a same-document reference ("#Id") of Type EncryptedKey, if typed.
func pointsAt(p, ek *etree.Element) bool {
	if p.Tag == "KeyName" {
		name := strings.TrimSpace(p.Text())
		ckn := wire.Children(ek, NSXEnc, "CarriedKeyName")
		return name != "" && len(ckn) == 1 && strings.TrimSpace(ckn[0].Text()) == name
	}
	if t := p.SelectAttr("Type"); t != nil && t.Value != TypeEncryptedKey {
		return false
	}
	uri := p.SelectAttrValue("URI", "")
	id := ek.SelectAttrValue("Id", "")
	return id != "" && uri == "#"+id
}

// byRecipient drops keys for other entities and prefers keys for ours.
func (d *Decrypter) byRecipient(cands []*etree.Element) []*etree.Element {
	if d.EntityID == "" {
		return cands
	}
	var out []*etree.Element
	for _, ek := range cands {
		if r := ek.SelectAttr("Recipient"); r == nil || r.Value == d.EntityID {
			out = append(out, ek)
		}
	}
	return narrow(out, func(ek *etree.Element) bool { return ek.SelectAttrValue("Recipient", "") == d.EntityID })
}

// narrow keeps the candidates satisfying keep when there are several and
// at least one does; otherwise it leaves them as they are.
func narrow(cands []*etree.Element, keep func(*etree.Element) bool) []*etree.Element {
	if len(cands) < 2 {
		return cands
	}
	var out []*etree.Element
	for _, c := range cands {
		if keep(c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return cands
	}
	return out
}

// refersTo reports whether ek's ReferenceList lists ed, or ek has no
// ReferenceList (it then applies to whatever points at it).
func refersTo(ek, ed *etree.Element) bool {
	rl := wire.Children(ek, NSXEnc, "ReferenceList")
	if len(rl) != 1 {
		return len(rl) == 0
	}
	id := ed.SelectAttrValue("Id", "")
	for _, dr := range wire.Children(rl[0], NSXEnc, "DataReference") {
		if id != "" && dr.SelectAttrValue("URI", "") == "#"+id {
			return true
		}
	}
	return false
}

// carriesOurCert reports whether ek's ds:KeyInfo holds an X509Certificate
// of the Decrypter's public key.
func (d *Decrypter) carriesOurCert(ek *etree.Element) bool {
	ki, err := only(ek, NSDSig, "KeyInfo")
	if err != nil || ki == nil {
		return false
	}
	for _, xd := range wire.Children(ki, NSDSig, "X509Data") {
		for _, xc := range wire.Children(xd, NSDSig, "X509Certificate") {
			if d.isOurCert(xc) {
				return true
			}
		}
	}
	return false
}

func (d *Decrypter) isOurCert(xc *etree.Element) bool {
	text := xc.Text()
	if len(text) > maxCertChars {
		return false
	}
	der, err := base64.StdEncoding.DecodeString(stripSpace(text))
	if err != nil {
		return false
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return false
	}
	pub, ok := d.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}
