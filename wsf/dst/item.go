package dst

import (
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Item is one item of service data: an element of an item type whose
// children are its fields, with the DST common attributes id and
// modificationTime.
type Item struct {
	Type     string
	ID       string
	Modified time.Time
	Values   []Value
}

// Value is one field of an item: the element's name and its text, a
// lexical value of the field's XSD type.
type Value struct {
	Name string
	Text string
}

// Get returns the text of the field name, "" when absent.
func (it *Item) Get(name string) string {
	for _, v := range it.Values {
		if v.Name == name {
			return v.Text
		}
	}
	return ""
}

// Has reports whether the field name is present.
func (it *Item) Has(name string) bool {
	for _, v := range it.Values {
		if v.Name == name {
			return true
		}
	}
	return false
}

// Set sets the field name to text.
func (it *Item) Set(name, text string) {
	for i := range it.Values {
		if it.Values[i].Name == name {
			it.Values[i].Text = text
			return
		}
	}
	it.Values = append(it.Values, Value{Name: name, Text: text})
}

// appendTo renders it under parent, fields in the item type's schema
// order (the fields the type does not know are not rendered).
func (s *Service) appendItem(parent *etree.Element, it *Item) {
	el := parent.CreateElement(s.Prefix + ":" + it.Type)
	wire.SetAttr(el, "id", it.ID)
	if !it.Modified.IsZero() {
		wire.SetTimeAttr(el, "modificationTime", it.Modified)
	}
	t := s.Item(it.Type)
	if t == nil {
		return
	}
	for _, f := range t.Fields {
		if it.Has(f.Name) {
			wire.TextElement(el, s.Prefix+":"+f.Name, it.Get(f.Name))
		}
	}
}

// MaxItemsPerData bounds the items one Data, ItemData or NewData holds.
const MaxItemsPerData = 1000

// decodeItems reads the item elements of a Data, ItemData or NewData.
func (s *Service) decodeItems(el *etree.Element) ([]Item, error) {
	var out []Item
	for _, c := range el.ChildElements() {
		if len(out) == MaxItemsPerData {
			return nil, malformed("%s holds more than %d items", wire.Name(el), MaxItemsPerData)
		}
		it, err := s.decodeItem(c)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

func (s *Service) decodeItem(el *etree.Element) (Item, error) {
	t := (*ItemType)(nil)
	if el.NamespaceURI() == s.NS {
		t = s.Item(el.Tag)
	}
	if t == nil {
		return Item{}, malformed("%s is not an item of %s", wire.Name(el), s.NS)
	}
	it := Item{Type: t.Name}
	it.ID, _ = wire.Attr(el, "id")
	if _, ok := wire.Attr(el, "modificationTime"); ok {
		var err error
		if it.Modified, err = wire.TimeAttr(el, "modificationTime"); err != nil {
			return it, err
		}
	}
	for _, c := range el.ChildElements() {
		if c.NamespaceURI() != s.NS || t.Field(c.Tag) == nil || it.Has(c.Tag) {
			return it, malformed("%s holds %s", wire.Name(el), wire.Name(c))
		}
		v, err := wire.Text(c)
		if err != nil {
			return it, err
		}
		it.Values = append(it.Values, Value{Name: c.Tag, Text: v})
	}
	return it, nil
}

func malformed(format string, args ...any) error {
	return xmlsec.Errorf(xmlsec.KindMalformed, format, args...)
}

func errf(format string, args ...any) error { return fmt.Errorf(format, args...) }
