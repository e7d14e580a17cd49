package conformance

import (
	"fmt"
	"slices"
	"strings"
)

// Mode is a conformance operational mode (SAML2.md §14) or an ID-WSF role
// column (IDWSF2.md §10).
type Mode string

// The modes the matrix has columns for.
const (
	ModeIdP     Mode = "IdP"
	ModeIdPLite Mode = "IdP Lite"
	ModeSP      Mode = "SP"
	ModeDS      Mode = "DS"
	ModeWSP     Mode = "WSP"
	ModeWSC     Mode = "WSC"
)

// Requirement is a cell of the matrix.
type Requirement string

// The requirement levels.
const (
	Must     Requirement = "MUST"
	Optional Requirement = "OPTIONAL"
	NA       Requirement = "n/a"
)

// Row is one feature row of the coverage matrix. Group is what --only
// selects ("web-sso", "artifact", "ecp", "nim", "slo", "idp-discovery",
// "metadata", "idwsf", "idwsf-disco", "idwsf-wsp").
//
// Unconfirmed lists the modes whose cell could not be checked against the
// conformance document itself: the suite judges them at the stated value
// and every report says the cell is unconfirmed.
type Row struct {
	ID          string
	Source      string // "SAML Conformance Table 2" or "ID-WSF 2.0 baseline"
	Feature     string
	Group       string
	Req         map[Mode]Requirement
	Unconfirmed []Mode
}

// Confirmed reports whether the row's cell for mode m was checked against
// the conformance document.
func (r Row) Confirmed(m Mode) bool {
	return !slices.Contains(r.Unconfirmed, m)
}

// Required reports the row's requirement for mode m; an absent cell is NA.
func (r Row) Required(m Mode) Requirement {
	if q, ok := r.Req[m]; ok {
		return q
	}
	return NA
}

func samlRow(id, feature, group string, idp, lite, sp Requirement, unconfirmed ...Mode) Row {
	return Row{ID: id, Source: "SAML Conformance Table 2", Feature: feature, Group: group,
		Req: map[Mode]Requirement{ModeIdP: idp, ModeIdPLite: lite, ModeSP: sp}, Unconfirmed: unconfirmed}
}

// queryRow is a SOAP query profile that Table 2 of the conformance
// document leaves to the query modes: optional for every SAML mode here.
// Its cells were not checked against the conformance document either, so
// every one is reported unconfirmed, as samlRow's unconfirmed modes are.
func queryRow(id, feature, group, source string) Row {
	return Row{ID: id, Source: source, Feature: feature, Group: group,
		Req:         map[Mode]Requirement{ModeIdP: Optional, ModeIdPLite: Optional, ModeSP: Optional},
		Unconfirmed: []Mode{ModeIdP, ModeIdPLite, ModeSP}}
}

func wsfRow(id, feature string) Row {
	return Row{ID: id, Source: "ID-WSF 2.0 baseline", Feature: feature, Group: "idwsf",
		Req: map[Mode]Requirement{ModeDS: Must, ModeWSP: Must}}
}

func dsRow(id, feature string) Row {
	return Row{ID: id, Source: "ID-WSF 2.0 baseline", Feature: feature, Group: "idwsf-disco",
		Req: map[Mode]Requirement{ModeDS: Must}}
}

// wspRow is a row judged for a WSP only. Rows F12 and F14 are optional for
// a Discovery Service in IDWSF2.md §10, but no DS case covers them yet, so
// their DS cells are left out rather than reported uncovered on every DS
// run.
func wspRow(id, feature string, req Requirement) Row {
	return Row{ID: id, Source: "ID-WSF 2.0 baseline", Feature: feature, Group: "idwsf-wsp",
		Req: map[Mode]Requirement{ModeWSP: req}}
}

// wscRow is a row judged for a WSC, the client side of an ID-WSF feature.
func wscRow(id, feature string, req Requirement) Row {
	return Row{ID: id, Source: "ID-WSF 2.0 baseline", Feature: feature, Group: "idwsf-wsc",
		Req: map[Mode]Requirement{ModeWSC: req}}
}

// Matrix returns the coverage matrix: the IdP, IdP Lite and SP columns of the
// SAML 2.0 conformance modes (saml-conformance-2.0-os, Table 2, the feature
// matrix) and rows F1-F6, F11, for a Discovery Service F16-F18, and for a
// WSP F12, F14 and F19 of the ID-WSF 2.0 baseline. The SAML cells were not
// all checked against the conformance document itself (it was not at hand
// when the matrix was written): ECP and IdP discovery for IdP Lite, and
// every cell of the metadata, AttributeQuery and Name Identifier Mapping
// rows, are taken at the value the project's reading gives them and
// reported as unconfirmed; the rest follow the
// document's principle that the Lite modes drop the SOAP variants of NIM
// and SLO.
func Matrix() []Row {
	return []Row{
		samlRow("SAML2-Conf/websso-redirect", "Web SSO, <AuthnRequest>, HTTP-Redirect", "web-sso", Must, Must, Must),
		samlRow("SAML2-Conf/websso-post", "Web SSO, <Response>, HTTP-POST", "web-sso", Must, Must, Must),
		samlRow("SAML2-Conf/websso-artifact", "Web SSO, <Response>, HTTP-Artifact", "artifact", Must, Must, Must),
		samlRow("SAML2-Conf/artifact-resolution", "Artifact Resolution, SOAP", "artifact", Must, Must, Must),
		samlRow("SAML2-Conf/ecp", "Enhanced Client/Proxy SSO, PAOS", "ecp", Must, Must, Must, ModeIdPLite),
		samlRow("SAML2-Conf/nim-redirect-idp", "Name Identifier Management, HTTP-Redirect, IdP-initiated", "nim", Must, Must, Must),
		samlRow("SAML2-Conf/nim-soap-idp", "Name Identifier Management, SOAP, IdP-initiated", "nim", Must, Optional, Must),
		samlRow("SAML2-Conf/nim-redirect-sp", "Name Identifier Management, HTTP-Redirect, SP-initiated", "nim", Must, Must, Must),
		samlRow("SAML2-Conf/nim-soap-sp", "Name Identifier Management, SOAP, SP-initiated", "nim", Must, Optional, Must),
		samlRow("SAML2-Conf/slo-redirect-idp", "Single Logout, HTTP-Redirect, IdP-initiated", "slo", Must, Must, Must),
		samlRow("SAML2-Conf/slo-soap-idp", "Single Logout, SOAP, IdP-initiated", "slo", Must, Optional, Must),
		samlRow("SAML2-Conf/slo-redirect-sp", "Single Logout, HTTP-Redirect, SP-initiated", "slo", Must, Must, Must),
		samlRow("SAML2-Conf/slo-soap-sp", "Single Logout, SOAP, SP-initiated", "slo", Must, Optional, Must),
		samlRow("SAML2-Conf/idp-discovery", "Identity Provider Discovery (common-domain cookie)", "idp-discovery", Must, Must, Optional, ModeIdPLite),
		samlRow("SAML2-Conf/metadata", "Metadata (SAML metadata schema for configuration)", "metadata", Must, Must, Must, ModeIdP, ModeIdPLite, ModeSP),
		queryRow(rowAttributeQuery, "Assertion Query/Request, <AttributeQuery>, SOAP (attribute authority)", "attribute-query", "SAML Core §3.3.2.3"),
		queryRow(rowNameIDMapping, "Name Identifier Mapping, SOAP", "nameid-mapping", "SAML Core §3.8"),
		wsfRow("IDWSF2-F1", "SOAP 1.1 + sbf:Framework 2.0 + FrameworkVersionMismatch fault"),
		wsfRow("IDWSF2-F2", "WS-Addressing headers: MessageID/RelatesTo/Action/To/ReplyTo processing"),
		wsfRow("IDWSF2-F3", "sb:Sender send/verify"),
		wsfRow("IDWSF2-F4", "wsse:Security + wsu:Timestamp freshness, StaleMsg"),
		wsfRow("IDWSF2-F5", "MessageID replay detection, DuplicateMsg"),
		wsfRow("IDWSF2-F6", "Message signature create/verify (exc-c14n, ID refs, anti-wrapping)"),
		wsfRow("IDWSF2-F11", "Token validation: signature, issuer, audience, time, confirmation, subject mapping"),
		dsRow("IDWSF2-F16", "disco:Query/QueryResponse incl. token minting, resultsType, options"),
		dsRow("IDWSF2-F17", "SvcMDRegister/Query/Replace/Delete"),
		dsRow("IDWSF2-F18", "SvcMDAssociationAdd/Delete/Query"),
		wspRow("IDWSF2-F12", "sb:TargetIdentity (accept)", Must),
		wspRow("IDWSF2-F14", "EndpointUpdate, Timeout, ProcessingContext(Simulate), Consent, UsageDirective, CredentialsContext", Optional),
		wspRow("IDWSF2-F19", "DST 2.1 Query/Create/Modify/Delete + status codes", Must),
		wscRow(rowWSCAddressing, "WSC: WS-Addressing MessageID sent, RelatesTo of responses checked", Must),
		wscRow(rowWSCTimestamp, "WSC: wsu:Timestamp of responses checked for freshness", Must),
		wscRow(rowWSCSignature, "WSC: requests signed, response signatures verified with metadata keys", Must),
		wscRow(rowWSCToken, "WSC: the DS's token presented under the EPR's mechanism (ClientTLS:SAMLV2)", Must),
		wscRow(rowWSCDisco, "WSC: disco:Query from the bootstrap EPR", Must),
		wscRow(rowWSCHeaders, "WSC: EndpointUpdate followed, InappropriateCredentials re-queried", Optional),
	}
}

// Groups returns the distinct groups of rows, in matrix order.
func Groups(rows []Row) []string {
	var gs []string
	for _, r := range rows {
		if !slices.Contains(gs, r.Group) {
			gs = append(gs, r.Group)
		}
	}
	return gs
}

// ModesFor returns the modes a role is judged in.
func ModesFor(r Role) []Mode {
	switch r {
	case RoleIdP:
		return []Mode{ModeIdP, ModeIdPLite}
	case RoleSP:
		return []Mode{ModeSP}
	case RoleDS:
		return []Mode{ModeDS}
	case RoleWSP:
		return []Mode{ModeWSP}
	case RoleWSC:
		return []Mode{ModeWSC}
	}
	return nil
}

// ParseMode reads a mode name as the command line spells it ("idp",
// "idp-lite", "sp", "ds", "wsp").
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "idp":
		return ModeIdP, nil
	case "idp-lite", "idplite", "idp lite":
		return ModeIdPLite, nil
	case "sp":
		return ModeSP, nil
	case "ds":
		return ModeDS, nil
	case "wsp":
		return ModeWSP, nil
	case "wsc":
		return ModeWSC, nil
	}
	return "", fmt.Errorf("conformance: unknown mode %q (want idp, idp-lite, sp, ds, wsp or wsc)", s)
}

// WriteMatrix writes the matrix as text: each row with its cells for the
// given modes and the cases that cover it.
func WriteMatrix(w interface{ Write([]byte) (int, error) }, rows []Row, cases []Case, modes []Mode) error {
	for _, r := range rows {
		var cells []string
		applies := false
		for _, m := range modes {
			cell := fmt.Sprintf("%s=%s", m, r.Required(m))
			if !r.Confirmed(m) {
				cell += "(unconfirmed)"
			}
			cells = append(cells, cell)
			applies = applies || r.Required(m) != NA
		}
		if !applies {
			continue
		}
		ids := casesFor(r.ID, cases)
		cov := fmt.Sprintf("%d case(s)", len(ids))
		if len(ids) == 0 {
			cov = "no case"
		}
		if _, err := fmt.Fprintf(w, "%-32s %-14s [%s] %s — %s\n", r.ID, r.Group, strings.Join(cells, " "), r.Feature, cov); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := fmt.Fprintf(w, "    %s\n", id); err != nil {
				return err
			}
		}
	}
	return nil
}

func casesFor(row string, cases []Case) []string {
	var ids []string
	for _, c := range cases {
		if c.Row == row {
			ids = append(ids, c.ID)
		}
	}
	return ids
}
