package disco

import (
	"encoding/xml"
	"strconv"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// root returns a new element disco:local declaring the disco prefix, and
// the sbf prefix when the content holds sbf:Framework.
func root(local string, sbf bool) *etree.Element {
	el := etree.NewElement("disco:" + local)
	el.CreateAttr("xmlns:disco", NS)
	if sbf {
		el.CreateAttr("xmlns:sbf", wsf.NSSBF)
	}
	return el
}

// texts appends one child tag per value.
func texts(parent *etree.Element, tag string, values []string) {
	for _, v := range values {
		wire.TextElement(parent, tag, v)
	}
}

// copies appends standalone copies of els to parent.
func copies(parent *etree.Element, els []*etree.Element) {
	for _, c := range els {
		parent.AddChild(xmlsec.DetachCopy(c))
	}
}

// writeAttrs writes foreign-namespace attributes kept by a decoder, each
// prefix declared on el (the xml prefix is never declared).
func writeAttrs(el *etree.Element, as []xml.Attr) {
	prefixes := map[string]string{xmlsec.NSXML: "xml"}
	for _, a := range as {
		p, ok := prefixes[a.Name.Space]
		if !ok {
			p = "ext" + strconv.Itoa(len(prefixes))
			prefixes[a.Name.Space] = p
			el.CreateAttr("xmlns:"+p, a.Name.Space)
		}
		el.CreateAttr(p+":"+a.Name.Local, a.Value)
	}
}

// statusElement renders an lu:Status as the first child of a response.
func statusElement(parent *etree.Element, s wsf.Status) {
	parent.AddChild(s.Element())
}
