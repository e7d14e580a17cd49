// Package disco holds the wire types of the ID-WSF 2.0 Discovery Service
// (IDWSF2 §4): disco:Query and its response, service metadata (disco:SvcMD)
// and the SvcMD registration and association operations, each with an
// Element method that encodes it and a Decode function that reads it. The
// Discovery Service and every WSC import it; EPRs and lu:Status are the
// types of package wsf.
//
// Decoders read an element the caller has already verified (a signature
// check's subtree, or the Body of a message whose security the receiver
// checked). They are strict: the children must come in the order and
// number that liberty-idwsf-disco-svc-v2.0.xsd gives, an unknown child is
// refused except where the schema has xs:any, and an unknown attribute is
// refused except a foreign-namespace one where the schema has
// xs:anyAttribute; what xs:any and xs:anyAttribute admit is kept. Every
// failure is an *xmlsec.Error of kind xmlsec.KindMalformed.
//
// Where the digest (IDWSF2 §4) and the schema disagree, the schema wins and
// the type's comment says so.
package disco

import "github.com/renkei-idwsf/renkei/wsf"

// NS is the Discovery Service 2.0 namespace, also its service type
// (IDWSF2 §4).
const NS = wsf.NSDisco

// NSMetadata is the SAML 2.0 metadata namespace of md:KeyDescriptor,
// which disco:Keys holds.
const NSMetadata = "urn:oasis:names:tc:SAML:2.0:metadata"

// The lu:Status codes of the Discovery Service, exactly as IDWSF2 §4.4
// spells them.
const (
	OK     = wsf.OK
	Failed = wsf.Failed
	// Forbidden: the caller is not allowed the operation.
	Forbidden wsf.Code = "Forbidden"
	// Duplicate: the same SvcMD is already registered.
	Duplicate wsf.Code = "Duplicate"
	// LogicalDuplicate: an equivalent registration exists with other
	// details.
	LogicalDuplicate wsf.Code = "LogicalDuplicate"
	// NoResults: the query matched nothing (a DS may also answer OK with
	// no EPR).
	NoResults wsf.Code = "NoResults"
	// NotFound: an SvcMDID does not exist.
	NotFound wsf.Code = "NotFound"
	// Fail is ZXID's spelling of Failed: decoders read it as Failed and
	// it is never sent (IDWSF2 §4.4, §11 item 5).
	Fail wsf.Code = "Fail"
)

// ResultsType is the resultsType of a disco:RequestedService (IDWSF2
// §4.1). The schema types it xs:string; the decoder accepts only the
// three values the digest names, since a DS cannot honour another.
type ResultsType string

// The results types of IDWSF2 §4.1.
const (
	// ResultsAll asks for every match; it is the default.
	ResultsAll ResultsType = "all"
	// ResultsBest asks the DS to pick the single best match.
	ResultsBest ResultsType = "best"
	// ResultsOnlyOne asks for at most one EPR.
	ResultsOnlyOne ResultsType = "only-one"
)

// Effective returns r, or ResultsAll when r is absent (IDWSF2 §4.1:
// "all" is the default).
func (r ResultsType) Effective() ResultsType {
	if r == "" {
		return ResultsAll
	}
	return r
}

func (r ResultsType) valid() bool {
	return r == "" || r == ResultsAll || r == ResultsBest || r == ResultsOnlyOne
}

// Action returns the wsa:Action of the Discovery operation whose element
// has local name op: the service type, ':' and op (IDWSF2 §4).
func Action(op string) string {
	return NS + ":" + op
}
