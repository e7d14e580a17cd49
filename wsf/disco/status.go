package disco

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// decoder carries the peer's quirk profile into the decoders; its zero
// value is strict.
type decoder struct {
	profile wsf.Profile
}

// lassoStatusNS are the namespaces Lasso writes a response's Status in
// (IDWSF2 §11 item 19): disco, and the relative URI "util".
var lassoStatusNS = []string{NS, "util"}

// status reads the lu:Status every Discovery response starts with (IDWSF2
// §4.2, §4.3). ZXID's code Fail is read as Failed (IDWSF2 §4.4); under a
// profile with MisplacedStatus, Lasso's Status in another namespace is
// read as lu:Status.
func (d decoder) status(s *seq) (wsf.Status, error) {
	if c := s.peek(); c != nil && c.Tag == "Status" && contains(lassoStatusNS, c.NamespaceURI()) {
		if !d.profile.MisplacedStatus {
			return wsf.Status{}, xmlsec.Errorf(xmlsec.KindMalformed,
				"%s: %s where lu:Status belongs (Lasso's habit, accepted only under a profile with MisplacedStatus)",
				wire.Name(s.parent), wire.Name(c))
		}
		s.i++
		return readStatus(relabelStatus(c))
	}
	els, err := s.take(wsf.NSLU, "Status", 1, 1)
	if err != nil {
		return wsf.Status{}, err
	}
	return readStatus(els[0])
}

func readStatus(el *etree.Element) (wsf.Status, error) {
	st, err := wsf.DecodeStatus(el)
	if err != nil {
		return st, err
	}
	if err := checkStatusShape(el); err != nil { // wsf.DecodeStatus bounded the depth
		return wsf.Status{}, err
	}
	normalizeCodes(&st)
	return st, nil
}

// checkStatusShape refuses what wsf.DecodeStatus passes over but
// lu:StatusType does not allow: attributes other than code, ref and
// comment, and children other than lu:Status.
func checkStatusShape(el *etree.Element) error {
	if _, err := attrs(el, false, "code", "ref", "comment"); err != nil {
		return err
	}
	s, err := newSeq(el)
	if err != nil {
		return err
	}
	subs, err := s.take(wsf.NSLU, "Status", 0, unbounded)
	if err != nil {
		return err
	}
	for _, c := range subs {
		if err := checkStatusShape(c); err != nil {
			return err
		}
	}
	return s.done()
}

func normalizeCodes(st *wsf.Status) {
	if st.Code == Fail {
		st.Code = Failed
	}
	for i := range st.Sub {
		normalizeCodes(&st.Sub[i])
	}
}

// maxStatusDepth bounds relabel's walk over a Status not yet decoded: one
// past the nesting wsf.DecodeStatus accepts, which then refuses it.
const maxStatusDepth = 9

// relabelStatus returns a standalone copy of Lasso's Status el with it and
// its nested Status of the same namespace moved into lu.
func relabelStatus(el *etree.Element) *etree.Element {
	ns := el.NamespaceURI()
	c := xmlsec.DetachCopy(el)
	relabel(c, ns, 0)
	return c
}

func relabel(el *etree.Element, ns string, depth int) {
	if depth > maxStatusDepth {
		return
	}
	for _, sub := range wire.Children(el, ns, "Status") {
		relabel(sub, ns, depth+1)
	}
	el.Space = "lu"
	el.CreateAttr("xmlns:lu", wsf.NSLU)
}
