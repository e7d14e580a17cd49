package wsf

import (
	"errors"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// FaultCode is a SOAP 1.1 faultcode: a qualified name.
type FaultCode struct {
	Space string // namespace URI
	Local string
}

// The faultcodes Renkei sends: SOAP 1.1 §4.4.1 and WS-Security 1.0 §12.
var (
	FaultClient                 = FaultCode{NSSOAP, "Client"}
	FaultServer                 = FaultCode{NSSOAP, "Server"}
	FaultMustUnderstand         = FaultCode{NSSOAP, "MustUnderstand"}
	FaultVersionMismatch        = FaultCode{NSSOAP, "VersionMismatch"}
	FaultInvalidSecurity        = FaultCode{NSWSSE, "InvalidSecurity"}
	FaultInvalidSecurityToken   = FaultCode{NSWSSE, "InvalidSecurityToken"}
	FaultFailedCheck            = FaultCode{NSWSSE, "FailedCheck"}
	FaultFailedAuthentication   = FaultCode{NSWSSE, "FailedAuthentication"}
	FaultUnsupportedAlgorithm   = FaultCode{NSWSSE, "UnsupportedAlgorithm"}
	FaultUnsupportedSecurityTok = FaultCode{NSWSSE, "UnsupportedSecurityToken"}
)

// ErrInvalidOutgoing marks a message this side built that the schemas
// refuse: a fault of the sender's own code, never of the peer, so the
// table answers it S:Server whatever else the error wraps.
var ErrInvalidOutgoing = errors.New("wsf: outgoing message refused by the schemas")

// faultRow maps one typed error to its wire form: faultcode, lu:Status code
// (empty: no detail) and the public faultstring.
type faultRow struct {
	match error
	fault FaultCode
	code  Code
	text  string
}

// faultTable is the one table from typed errors to faults, read top down
// with errors.Is. ErrInvalidOutgoing comes first: the schema error it wraps
// would otherwise read as the peer's. Then the ID-WSF codes (IDWSF2 §2.5,
// sender or receiver side as Lasso classifies them); failures of the
// WS-Security header use the WS-Security 1.0 §12 faultcodes with
// InappropriateCredentials as the lu:Status, the code the WSC reacts to by
// fetching a fresh token; a message that cannot be read is
// IDStarMsgNotUnderstood. The faultstring is public and fixed: the private
// cause never reaches the wire.
var faultTable = []faultRow{
	{ErrInvalidOutgoing, FaultServer, "", "internal error"},
	{ErrMustUnderstand, FaultMustUnderstand, "", "a mandatory header block was not understood"},
	{ErrFrameworkVersion, FaultClient, FrameworkVersionMismatch, "framework version not supported"},
	{ErrMsgNotUnderstood, FaultClient, IDStarMsgNotUnderstood, "message not understood"},
	{ErrInvalidActor, FaultClient, InvalidActor, "invalid actor"},
	{ErrInvalidMustUnderstand, FaultClient, InvalidMustUnderstand, "invalid mustUnderstand value"},
	{ErrStaleMsg, FaultClient, StaleMsg, "message is stale"},
	{ErrDuplicateMsg, FaultClient, DuplicateMsg, "duplicate message"},
	{ErrInvalidRefToMsgID, FaultClient, InvalidRefToMsgID, "invalid reference to message ID"},
	{ErrProviderIDNotValid, FaultClient, ProviderIDNotValid, "provider ID not valid"},
	{ErrAffiliationIDNotValid, FaultClient, AffiliationIDNotValid, "affiliation ID not valid"},
	{ErrTargetIdentityNotValid, FaultClient, TargetIdentityNotValid, "target identity not valid"},
	{ErrInappropriateCreds, FaultClient, InappropriateCredentials, "inappropriate credentials"},
	{ErrProcCtxNotUnderstood, FaultServer, ProcCtxURINotUnderstood, "processing context not understood"},
	{ErrProcCtxUnwilling, FaultServer, ProcCtxUnwilling, "processing context refused"},
	{ErrUsageDirective, FaultServer, CannotHonourUsageDirective, "usage directive cannot be honoured"},
	{ErrEndpointUpdated, FaultServer, EndpointUpdated, "endpoint updated"},
	{ErrProcessingTimeout, FaultServer, ProcessingTimeout, "processing timeout"},
	{ErrInteractionRequired, FaultServer, InteractionRequired, "interaction required"},
	{ErrInteractionForData, FaultServer, InteractionRequiredForData, "interaction required for data"},
	{ErrInteractionTime, FaultServer, InteractionTimeNotSufficient, "interaction time not sufficient"},
	{ErrInteractionTimeout, FaultServer, InteractionTimeout, "interaction timeout"},
	{xmlsec.ErrNoSignature, FaultInvalidSecurity, InappropriateCredentials, "message signature missing"},
	{xmlsec.ErrSignature, FaultFailedCheck, InappropriateCredentials, "signature check failed"},
	{xmlsec.ErrDigest, FaultFailedCheck, InappropriateCredentials, "signature check failed"},
	{xmlsec.ErrReference, FaultFailedCheck, InappropriateCredentials, "signature check failed"},
	{xmlsec.ErrTransform, FaultFailedCheck, InappropriateCredentials, "signature check failed"},
	{xmlsec.ErrDuplicateID, FaultFailedCheck, InappropriateCredentials, "signature check failed"},
	{xmlsec.ErrDecrypt, FaultFailedCheck, InappropriateCredentials, "decryption failed"},
	{xmlsec.ErrAlgorithm, FaultUnsupportedAlgorithm, InappropriateCredentials, "algorithm not supported"},
	{xmlsec.ErrUntrustedKey, FaultFailedAuthentication, InappropriateCredentials, "key not trusted"},
	{saml.ErrVersion, FaultInvalidSecurityToken, InappropriateCredentials, "security token not acceptable"},
	{saml.ErrNotYetValid, FaultInvalidSecurityToken, InappropriateCredentials, "security token not acceptable"},
	{saml.ErrExpired, FaultInvalidSecurityToken, InappropriateCredentials, "security token not acceptable"},
	{saml.ErrAudience, FaultInvalidSecurityToken, InappropriateCredentials, "security token not acceptable"},
	{saml.ErrIssuer, FaultInvalidSecurityToken, InappropriateCredentials, "security token not acceptable"},
	{saml.ErrSubject, FaultInvalidSecurityToken, InappropriateCredentials, "security token not acceptable"},
	{saml.ErrConfirmation, FaultInvalidSecurityToken, InappropriateCredentials, "security token not acceptable"},
	{xmlsec.ErrTooLarge, FaultClient, IDStarMsgNotUnderstood, "message too large"},
	{xmlsec.ErrTooDeep, FaultClient, IDStarMsgNotUnderstood, "message too deep"},
	{xmlsec.ErrDoctype, FaultClient, IDStarMsgNotUnderstood, "message not understood"},
	{xmlsec.ErrMalformed, FaultClient, IDStarMsgNotUnderstood, "message not understood"},
	{xmlsec.ErrSchema, FaultClient, IDStarMsgNotUnderstood, "message not valid"},
}

// Fault is a SOAP 1.1 Fault with what ID-WSF puts around it: the lu:Status
// of its detail, an sb:RedirectRequest (IDWSF2 §2.6) and the header blocks
// that may accompany it (sb:EndpointUpdate, sb:CredentialsContext). A
// client receives it as an error.
type Fault struct {
	Code           FaultCode
	String         string
	Actor          string
	Status         *Status
	RedirectURL    string
	EndpointUpdate *EndpointUpdate
	Credentials    *CredentialsContext
}

// FaultFor renders any error as the fault the table gives it; an error
// the table does not know becomes S:Server without detail.
func FaultFor(err error) *Fault {
	for _, r := range faultTable {
		if errors.Is(err, r.match) {
			return newFault(r, err)
		}
	}
	return &Fault{Code: FaultServer, String: "internal error"}
}

func newFault(r faultRow, err error) *Fault {
	f := &Fault{Code: r.fault, String: r.text}
	if r.code != "" {
		f.Status = &Status{Code: r.code}
	}
	var e *Error
	if errors.As(err, &e) {
		if f.Status != nil {
			f.Status.Ref = e.Ref
		}
		f.RedirectURL = e.RedirectURL
		f.EndpointUpdate = e.EndpointUpdate
		f.Credentials = e.Credentials
	}
	return f
}

// Error describes the fault by its faultcode and status code.
func (f *Fault) Error() string {
	s := "wsf: fault " + f.Code.Local
	if f.Status != nil {
		s += " " + string(f.Status.Code)
	}
	if f.String != "" {
		s += ": " + f.String
	}
	return s
}

// StatusCode returns the lu:Status code of the detail, CodeMustUnderstand
// for an S:MustUnderstand fault, and "" when there is neither. Lasso's
// RedirectRequestNeeded reads as InteractionRequired (IDWSF2 §11 item 14).
func (f *Fault) StatusCode() Code {
	switch {
	case f.Code == FaultMustUnderstand:
		return CodeMustUnderstand
	case f.Status == nil:
		return ""
	case f.Status.Code == RedirectRequestNeeded:
		return InteractionRequired
	}
	return f.Status.Code
}

// Is reports whether target is a bare *Error whose code is the fault's
// StatusCode, so errors.Is(fault, wsf.ErrStaleMsg) works on the client.
func (f *Fault) Is(target error) bool {
	c := f.StatusCode()
	return c != "" && isBare(c, target)
}

// Element renders the fault as an S:Fault element (SOAP 1.1 §4.4). The
// faultcode's prefix is declared on the faultcode element itself.
func (f *Fault) Element() *etree.Element {
	el := etree.NewElement("S:Fault")
	el.CreateAttr("xmlns:S", NSSOAP)
	fc := el.CreateElement("faultcode")
	fc.CreateAttr("xmlns:"+prefixOf(f.Code.Space), f.Code.Space)
	fc.SetText(prefixOf(f.Code.Space) + ":" + f.Code.Local)
	wire.TextElement(el, "faultstring", f.String)
	if f.Actor != "" {
		wire.TextElement(el, "faultactor", f.Actor)
	}
	if f.Status == nil && f.RedirectURL == "" {
		return el
	}
	detail := el.CreateElement("detail")
	if f.Status != nil {
		detail.AddChild(f.Status.Element())
	}
	if f.RedirectURL != "" {
		rr := detail.CreateElement("sb:RedirectRequest")
		rr.CreateAttr("xmlns:sb", NSSB)
		rr.CreateAttr("redirectURL", f.RedirectURL)
	}
	return el
}

// prefixOf returns the prefix Renkei writes for a namespace.
func prefixOf(ns string) string {
	for _, p := range prefixes {
		if p[1] == ns {
			return p[0]
		}
	}
	return "ns"
}
