package disco

import (
	"encoding/xml"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
)

// DecodeSvcMDRegister reads a disco:SvcMDRegister: one SvcMD or more.
func DecodeSvcMDRegister(el *etree.Element) (*SvcMDRegister, error) {
	ms, as, err := decodeSvcMDs(el, "SvcMDRegister")
	if err != nil {
		return nil, err
	}
	return &SvcMDRegister{SvcMDs: ms, Attrs: as}, nil
}

// DecodeSvcMDReplace reads a disco:SvcMDReplace: one SvcMD or more.
func DecodeSvcMDReplace(el *etree.Element) (*SvcMDReplace, error) {
	ms, as, err := decodeSvcMDs(el, "SvcMDReplace")
	if err != nil {
		return nil, err
	}
	return &SvcMDReplace{SvcMDs: ms, Attrs: as}, nil
}

// DecodeSvcMDQuery reads a disco:SvcMDQuery: any number of SvcMDIDs.
func DecodeSvcMDQuery(el *etree.Element) (*SvcMDQuery, error) {
	ids, as, err := decodeIDs(el, "SvcMDQuery", 0)
	if err != nil {
		return nil, err
	}
	return &SvcMDQuery{SvcMDIDs: ids, Attrs: as}, nil
}

// DecodeSvcMDDelete reads a disco:SvcMDDelete: one SvcMDID or more.
func DecodeSvcMDDelete(el *etree.Element) (*SvcMDDelete, error) {
	ids, as, err := decodeIDs(el, "SvcMDDelete", 1)
	if err != nil {
		return nil, err
	}
	return &SvcMDDelete{SvcMDIDs: ids, Attrs: as}, nil
}

// DecodeSvcMDAssociationAdd reads a disco:SvcMDAssociationAdd: one
// SvcMDID or more.
func DecodeSvcMDAssociationAdd(el *etree.Element) (*SvcMDAssociationAdd, error) {
	ids, as, err := decodeIDs(el, "SvcMDAssociationAdd", 1)
	if err != nil {
		return nil, err
	}
	return &SvcMDAssociationAdd{SvcMDIDs: ids, Attrs: as}, nil
}

// DecodeSvcMDAssociationDelete reads a disco:SvcMDAssociationDelete: one
// SvcMDID or more.
func DecodeSvcMDAssociationDelete(el *etree.Element) (*SvcMDAssociationDelete, error) {
	ids, as, err := decodeIDs(el, "SvcMDAssociationDelete", 1)
	if err != nil {
		return nil, err
	}
	return &SvcMDAssociationDelete{SvcMDIDs: ids, Attrs: as}, nil
}

// DecodeSvcMDAssociationQuery reads a disco:SvcMDAssociationQuery: any
// number of SvcMDIDs.
func DecodeSvcMDAssociationQuery(el *etree.Element) (*SvcMDAssociationQuery, error) {
	ids, as, err := decodeIDs(el, "SvcMDAssociationQuery", 0)
	if err != nil {
		return nil, err
	}
	return &SvcMDAssociationQuery{SvcMDIDs: ids, Attrs: as}, nil
}

// DecodeSvcMDRegisterResponse reads a disco:SvcMDRegisterResponse.
func DecodeSvcMDRegisterResponse(el *etree.Element) (*SvcMDRegisterResponse, error) {
	return decoder{}.svcMDRegisterResponse(el)
}

func (d decoder) svcMDRegisterResponse(el *etree.Element) (*SvcMDRegisterResponse, error) {
	if !isDisco(el, "SvcMDRegisterResponse") {
		return nil, notA(el, "SvcMDRegisterResponse")
	}
	r := &SvcMDRegisterResponse{}
	s, err := d.response(el, &r.Status, &r.Attrs)
	if err != nil {
		return nil, err
	}
	if r.SvcMDIDs, err = s.uris(NS, "SvcMDID", 0); err != nil {
		return nil, err
	}
	keys, err := s.take(NS, "Keys", 0, unbounded)
	if err != nil {
		return nil, err
	}
	if r.Keys, err = mapEls(keys, decodeKeys); err != nil {
		return nil, err
	}
	return r, s.done()
}

// DecodeSvcMDQueryResponse reads a disco:SvcMDQueryResponse.
func DecodeSvcMDQueryResponse(el *etree.Element) (*SvcMDQueryResponse, error) {
	return decoder{}.svcMDQueryResponse(el)
}

func (d decoder) svcMDQueryResponse(el *etree.Element) (*SvcMDQueryResponse, error) {
	if !isDisco(el, "SvcMDQueryResponse") {
		return nil, notA(el, "SvcMDQueryResponse")
	}
	r := &SvcMDQueryResponse{}
	s, err := d.response(el, &r.Status, &r.Attrs)
	if err != nil {
		return nil, err
	}
	if r.SvcMDs, err = takeSvcMDs(s, 0); err != nil {
		return nil, err
	}
	return r, s.done()
}

// DecodeSvcMDAssociationQueryResponse reads a
// disco:SvcMDAssociationQueryResponse.
func DecodeSvcMDAssociationQueryResponse(el *etree.Element) (*SvcMDAssociationQueryResponse, error) {
	return decoder{}.svcMDAssociationQueryResponse(el)
}

func (d decoder) svcMDAssociationQueryResponse(el *etree.Element) (*SvcMDAssociationQueryResponse, error) {
	if !isDisco(el, "SvcMDAssociationQueryResponse") {
		return nil, notA(el, "SvcMDAssociationQueryResponse")
	}
	r := &SvcMDAssociationQueryResponse{}
	s, err := d.response(el, &r.Status, &r.Attrs)
	if err != nil {
		return nil, err
	}
	if r.SvcMDIDs, err = s.uris(NS, "SvcMDID", 0); err != nil {
		return nil, err
	}
	return r, s.done()
}

// DecodeSvcMDReplaceResponse reads a disco:SvcMDReplaceResponse.
func DecodeSvcMDReplaceResponse(el *etree.Element) (*SvcMDReplaceResponse, error) {
	return decoder{}.svcMDReplaceResponse(el)
}

func (d decoder) svcMDReplaceResponse(el *etree.Element) (*SvcMDReplaceResponse, error) {
	st, as, err := d.statusOnly(el, "SvcMDReplaceResponse")
	if err != nil {
		return nil, err
	}
	return &SvcMDReplaceResponse{Status: st, Attrs: as}, nil
}

// DecodeSvcMDDeleteResponse reads a disco:SvcMDDeleteResponse.
func DecodeSvcMDDeleteResponse(el *etree.Element) (*SvcMDDeleteResponse, error) {
	return decoder{}.svcMDDeleteResponse(el)
}

func (d decoder) svcMDDeleteResponse(el *etree.Element) (*SvcMDDeleteResponse, error) {
	st, as, err := d.statusOnly(el, "SvcMDDeleteResponse")
	if err != nil {
		return nil, err
	}
	return &SvcMDDeleteResponse{Status: st, Attrs: as}, nil
}

// DecodeSvcMDAssociationAddResponse reads a
// disco:SvcMDAssociationAddResponse.
func DecodeSvcMDAssociationAddResponse(el *etree.Element) (*SvcMDAssociationAddResponse, error) {
	return decoder{}.svcMDAssociationAddResponse(el)
}

func (d decoder) svcMDAssociationAddResponse(el *etree.Element) (*SvcMDAssociationAddResponse, error) {
	st, as, err := d.statusOnly(el, "SvcMDAssociationAddResponse")
	if err != nil {
		return nil, err
	}
	return &SvcMDAssociationAddResponse{Status: st, Attrs: as}, nil
}

// DecodeSvcMDAssociationDeleteResponse reads a
// disco:SvcMDAssociationDeleteResponse.
func DecodeSvcMDAssociationDeleteResponse(el *etree.Element) (*SvcMDAssociationDeleteResponse, error) {
	return decoder{}.svcMDAssociationDeleteResponse(el)
}

func (d decoder) svcMDAssociationDeleteResponse(el *etree.Element) (*SvcMDAssociationDeleteResponse, error) {
	st, as, err := d.statusOnly(el, "SvcMDAssociationDeleteResponse")
	if err != nil {
		return nil, err
	}
	return &SvcMDAssociationDeleteResponse{Status: st, Attrs: as}, nil
}

// decodeSvcMDs reads a request disco:local holding one SvcMD or more.
func decodeSvcMDs(el *etree.Element, local string) ([]*SvcMD, []xml.Attr, error) {
	s, as, err := request(el, local)
	if err != nil {
		return nil, nil, err
	}
	ms, err := takeSvcMDs(s, 1)
	if err != nil {
		return nil, nil, err
	}
	return ms, as, s.done()
}

// decodeIDs reads a request disco:local holding at least min SvcMDIDs.
func decodeIDs(el *etree.Element, local string, min int) ([]string, []xml.Attr, error) {
	s, as, err := request(el, local)
	if err != nil {
		return nil, nil, err
	}
	ids, err := s.uris(NS, "SvcMDID", min)
	if err != nil {
		return nil, nil, err
	}
	return ids, as, s.done()
}

// request checks that el is disco:local, reads its foreign attributes and
// starts reading its children.
func request(el *etree.Element, local string) (*seq, []xml.Attr, error) {
	if !isDisco(el, local) {
		return nil, nil, notA(el, local)
	}
	as, err := attrs(el, true)
	if err != nil {
		return nil, nil, err
	}
	s, err := newSeq(el)
	return s, as, err
}

// statusOnly reads a response disco:local that holds only its lu:Status.
func (d decoder) statusOnly(el *etree.Element, local string) (wsf.Status, []xml.Attr, error) {
	if !isDisco(el, local) {
		return wsf.Status{}, nil, notA(el, local)
	}
	var st wsf.Status
	var as []xml.Attr
	s, err := d.response(el, &st, &as)
	if err != nil {
		return wsf.Status{}, nil, err
	}
	return st, as, s.done()
}

func takeSvcMDs(s *seq, min int) ([]*SvcMD, error) {
	els, err := s.take(NS, "SvcMD", min, unbounded)
	if err != nil {
		return nil, err
	}
	return mapEls(els, DecodeSvcMD)
}
