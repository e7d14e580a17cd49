package xmlsec

import "github.com/beevik/etree"

// writeSettings escape what a reader would otherwise change: a tab, LF or
// CR in an attribute value (normalized to a space on reading, XML 1.0
// §3.3.3) and a CR in text (read as LF, §2.11) become character references,
// as canonical XML writes them. etree's defaults write them literally.
func writeSettings() etree.WriteSettings {
	return etree.WriteSettings{CanonicalAttrVal: true, CanonicalText: true}
}

// Serialize writes el as a standalone document that any reader, this
// package's Parse or libxml2, reads back as the same tree: the namespace
// declarations el inherits are carried on it (DetachCopy), and whitespace in
// attribute values and CR in text are written as character references. The
// caller's tree is not changed. Every Renkei writer of XML for the wire goes
// through Serialize or SerializeDocument.
func Serialize(el *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.SetRoot(DetachCopy(el))
	return SerializeDocument(doc)
}

// SerializeDocument writes doc with the settings of Serialize; the
// document's own WriteSettings are left as they were.
func SerializeDocument(doc *etree.Document) ([]byte, error) {
	saved := doc.WriteSettings
	doc.WriteSettings = writeSettings()
	defer func() { doc.WriteSettings = saved }()
	return doc.WriteToBytes()
}
