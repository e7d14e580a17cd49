package xmlenc

import (
	"encoding/xml"
	"slices"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Wrapper is a SAML element of type saml:EncryptedElementType: one
// xenc:EncryptedData and any number of xenc:EncryptedKey.
type Wrapper int

const (
	// EncryptedAssertion is saml:EncryptedAssertion; its content MUST be a
	// saml:Assertion (SAML core §2.3.4).
	EncryptedAssertion Wrapper = iota + 1
	// EncryptedID is saml:EncryptedID; its content is a saml:NameID, a
	// saml:BaseID or a saml:Assertion (SAML core §2.2.4).
	EncryptedID
	// NewEncryptedID is samlp:NewEncryptedID of a ManageNameIDRequest; its
	// content MUST be a samlp:NewID (SAML core §3.6.1), as ZXID sends it.
	NewEncryptedID
	// EncryptedAttribute is saml:EncryptedAttribute; its content MUST be a
	// saml:Attribute (SAML core §2.7.3.2).
	EncryptedAttribute
)

// wrapperInfo is the name of a wrapper and what it may hold.
type wrapperInfo struct {
	space, prefix, local string
	content              []xml.Name
}

var wrappers = map[Wrapper]wrapperInfo{
	EncryptedAssertion: {NSSAML, "saml", "EncryptedAssertion", []xml.Name{{Space: NSSAML, Local: "Assertion"}}},
	EncryptedID: {NSSAML, "saml", "EncryptedID", []xml.Name{
		{Space: NSSAML, Local: "NameID"}, {Space: NSSAML, Local: "BaseID"}, {Space: NSSAML, Local: "Assertion"}}},
	NewEncryptedID:     {NSSAMLP, "samlp", "NewEncryptedID", []xml.Name{{Space: NSSAMLP, Local: "NewID"}}},
	EncryptedAttribute: {NSSAML, "saml", "EncryptedAttribute", []xml.Name{{Space: NSSAML, Local: "Attribute"}}},
}

// String returns the wrapper's qualified name.
func (w Wrapper) String() string {
	if wi, ok := wrappers[w]; ok {
		return wi.prefix + ":" + wi.local
	}
	return "xmlenc.Wrapper(?)"
}

// accepting returns the wrapper's description when el is content it may
// hold, else ErrMalformed: encrypting the wrong element is the caller's
// mistake, to be caught before anything is sent.
func (w Wrapper) accepting(el *etree.Element) (wrapperInfo, error) {
	wi, ok := wrappers[w]
	if !ok {
		return wrapperInfo{}, xmlsec.Errorf(xmlsec.KindMalformed, "unknown wrapper %d", int(w))
	}
	if !wi.holds(el) {
		return wrapperInfo{}, xmlsec.Errorf(xmlsec.KindMalformed, "%s cannot hold {%s}%s", w, el.NamespaceURI(), el.Tag)
	}
	return wi, nil
}

// holds reports whether el may be the content of the wrapper.
func (wi wrapperInfo) holds(el *etree.Element) bool {
	return slices.Contains(wi.content, xml.Name{Space: el.NamespaceURI(), Local: el.Tag})
}

// wrapperOf returns the description of a known wrapper element.
func wrapperOf(el *etree.Element) (wrapperInfo, bool) {
	if el == nil {
		return wrapperInfo{}, false
	}
	for _, wi := range wrappers {
		if wire.Is(el, wi.space, wi.local) {
			return wi, true
		}
	}
	return wrapperInfo{}, false
}
