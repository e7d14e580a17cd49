package disco

import (
	"encoding/xml"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
)

// The SvcMD registration and association operations of IDWSF2 §4.3. Every
// request type carries xs:anyAttribute ##other (kept in Attrs), and every
// response starts with an lu:Status.

// SvcMDRegister asks the DS to register service metadata (one or more);
// the SvcMDs carry no ID.
type SvcMDRegister struct {
	SvcMDs []*SvcMD
	Attrs  []xml.Attr
}

// SvcMDRegisterResponse answers SvcMDRegister: the IDs the DS assigned,
// one per registered SvcMD in the same order, and keys of the DS.
type SvcMDRegisterResponse struct {
	Status   wsf.Status
	SvcMDIDs []string
	Keys     []Keys
	Attrs    []xml.Attr
}

// SvcMDQuery asks for the caller's service metadata with these IDs; no ID
// asks for all of it.
type SvcMDQuery struct {
	SvcMDIDs []string
	Attrs    []xml.Attr
}

// SvcMDQueryResponse answers SvcMDQuery with the metadata found.
type SvcMDQueryResponse struct {
	Status wsf.Status
	SvcMDs []*SvcMD
	Attrs  []xml.Attr
}

// SvcMDReplace replaces registered service metadata (one or more). The
// digest says each SvcMD carries its svcMDID; the schema leaves svcMDID
// optional and wins here, so the DS must refuse a replacement without one.
type SvcMDReplace struct {
	SvcMDs []*SvcMD
	Attrs  []xml.Attr
}

// SvcMDReplaceResponse answers SvcMDReplace.
type SvcMDReplaceResponse struct {
	Status wsf.Status
	Attrs  []xml.Attr
}

// SvcMDDelete deletes registered service metadata (one ID or more).
type SvcMDDelete struct {
	SvcMDIDs []string
	Attrs    []xml.Attr
}

// SvcMDDeleteResponse answers SvcMDDelete.
type SvcMDDeleteResponse struct {
	Status wsf.Status
	Attrs  []xml.Attr
}

// SvcMDAssociationAdd associates service metadata (one ID or more) with
// the principal the invocation names.
type SvcMDAssociationAdd struct {
	SvcMDIDs []string
	Attrs    []xml.Attr
}

// SvcMDAssociationAddResponse answers SvcMDAssociationAdd.
type SvcMDAssociationAddResponse struct {
	Status wsf.Status
	Attrs  []xml.Attr
}

// SvcMDAssociationDelete removes associations (one ID or more) of the
// principal.
type SvcMDAssociationDelete struct {
	SvcMDIDs []string
	Attrs    []xml.Attr
}

// SvcMDAssociationDeleteResponse answers SvcMDAssociationDelete.
type SvcMDAssociationDeleteResponse struct {
	Status wsf.Status
	Attrs  []xml.Attr
}

// SvcMDAssociationQuery asks which of these IDs are associated with the
// principal; no ID asks for all associations.
type SvcMDAssociationQuery struct {
	SvcMDIDs []string
	Attrs    []xml.Attr
}

// SvcMDAssociationQueryResponse answers SvcMDAssociationQuery with the
// associated IDs.
type SvcMDAssociationQueryResponse struct {
	Status   wsf.Status
	SvcMDIDs []string
	Attrs    []xml.Attr
}

// Element renders the request as a disco:SvcMDRegister.
func (r *SvcMDRegister) Element() *etree.Element {
	return svcMDsElement("SvcMDRegister", r.SvcMDs, r.Attrs)
}

// Element renders the response as a disco:SvcMDRegisterResponse.
func (r *SvcMDRegisterResponse) Element() *etree.Element {
	el := statusResponse("SvcMDRegisterResponse", r.Status, r.Attrs)
	texts(el, "disco:SvcMDID", r.SvcMDIDs)
	for _, k := range r.Keys {
		k.appendTo(el)
	}
	return el
}

// Element renders the request as a disco:SvcMDQuery.
func (r *SvcMDQuery) Element() *etree.Element { return idsElement("SvcMDQuery", r.SvcMDIDs, r.Attrs) }

// Element renders the response as a disco:SvcMDQueryResponse.
func (r *SvcMDQueryResponse) Element() *etree.Element {
	el := statusResponse("SvcMDQueryResponse", r.Status, r.Attrs)
	el.CreateAttr("xmlns:sbf", wsf.NSSBF)
	for _, m := range r.SvcMDs {
		m.appendTo(el)
	}
	return el
}

// Element renders the request as a disco:SvcMDReplace.
func (r *SvcMDReplace) Element() *etree.Element {
	return svcMDsElement("SvcMDReplace", r.SvcMDs, r.Attrs)
}

// Element renders the response as a disco:SvcMDReplaceResponse.
func (r *SvcMDReplaceResponse) Element() *etree.Element {
	return statusResponse("SvcMDReplaceResponse", r.Status, r.Attrs)
}

// Element renders the request as a disco:SvcMDDelete.
func (r *SvcMDDelete) Element() *etree.Element { return idsElement("SvcMDDelete", r.SvcMDIDs, r.Attrs) }

// Element renders the response as a disco:SvcMDDeleteResponse.
func (r *SvcMDDeleteResponse) Element() *etree.Element {
	return statusResponse("SvcMDDeleteResponse", r.Status, r.Attrs)
}

// Element renders the request as a disco:SvcMDAssociationAdd.
func (r *SvcMDAssociationAdd) Element() *etree.Element {
	return idsElement("SvcMDAssociationAdd", r.SvcMDIDs, r.Attrs)
}

// Element renders the response as a disco:SvcMDAssociationAddResponse.
func (r *SvcMDAssociationAddResponse) Element() *etree.Element {
	return statusResponse("SvcMDAssociationAddResponse", r.Status, r.Attrs)
}

// Element renders the request as a disco:SvcMDAssociationDelete.
func (r *SvcMDAssociationDelete) Element() *etree.Element {
	return idsElement("SvcMDAssociationDelete", r.SvcMDIDs, r.Attrs)
}

// Element renders the response as a disco:SvcMDAssociationDeleteResponse.
func (r *SvcMDAssociationDeleteResponse) Element() *etree.Element {
	return statusResponse("SvcMDAssociationDeleteResponse", r.Status, r.Attrs)
}

// Element renders the request as a disco:SvcMDAssociationQuery.
func (r *SvcMDAssociationQuery) Element() *etree.Element {
	return idsElement("SvcMDAssociationQuery", r.SvcMDIDs, r.Attrs)
}

// Element renders the response as a disco:SvcMDAssociationQueryResponse.
func (r *SvcMDAssociationQueryResponse) Element() *etree.Element {
	el := statusResponse("SvcMDAssociationQueryResponse", r.Status, r.Attrs)
	texts(el, "disco:SvcMDID", r.SvcMDIDs)
	return el
}

func svcMDsElement(local string, ms []*SvcMD, as []xml.Attr) *etree.Element {
	el := root(local, true)
	writeAttrs(el, as)
	for _, m := range ms {
		m.appendTo(el)
	}
	return el
}

func idsElement(local string, ids []string, as []xml.Attr) *etree.Element {
	el := root(local, false)
	writeAttrs(el, as)
	texts(el, "disco:SvcMDID", ids)
	return el
}

func statusResponse(local string, st wsf.Status, as []xml.Attr) *etree.Element {
	el := root(local, false)
	writeAttrs(el, as)
	statusElement(el, st)
	return el
}
