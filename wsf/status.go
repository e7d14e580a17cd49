package wsf

import (
	"fmt"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/kinderr"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Code is an lu:Status code of the ID-WSF SOAP binding (IDWSF2 §2.5).
type Code string

// The SOAP-binding status codes, exactly as IDWSF2 §2.5 spells them.
const (
	FrameworkVersionMismatch     Code = "FrameworkVersionMismatch"
	IDStarMsgNotUnderstood       Code = "IDStarMsgNotUnderstood"
	InvalidActor                 Code = "InvalidActor"
	InvalidMustUnderstand        Code = "InvalidMustUnderstand"
	StaleMsg                     Code = "StaleMsg"
	DuplicateMsg                 Code = "DuplicateMsg"
	InvalidRefToMsgID            Code = "InvalidRefToMsgID"
	ProviderIDNotValid           Code = "ProviderIDNotValid"
	AffiliationIDNotValid        Code = "AffiliationIDNotValid"
	TargetIdentityNotValid       Code = "TargetIdentityNotValid"
	InappropriateCredentials     Code = "InappropriateCredentials"
	ProcCtxURINotUnderstood      Code = "ProcCtxURINotUnderstood"
	ProcCtxUnwilling             Code = "ProcCtxUnwilling"
	CannotHonourUsageDirective   Code = "CannotHonourUsageDirective"
	EndpointUpdated              Code = "EndpointUpdated"
	ProcessingTimeout            Code = "ProcessingTimeout"
	InteractionRequired          Code = "InteractionRequired"
	InteractionRequiredForData   Code = "InteractionRequiredForData"
	InteractionTimeNotSufficient Code = "InteractionTimeNotSufficient"
	InteractionTimeout           Code = "InteractionTimeout"
	// RedirectRequestNeeded is Lasso's non-standard code, read as
	// InteractionRequired (IDWSF2 §11 item 14) and never sent.
	RedirectRequestNeeded Code = "RedirectRequestNeeded"
	// OK and Failed are the generic service status codes.
	OK     Code = "OK"
	Failed Code = "Failed"
)

// CodeMustUnderstand is not an lu:Status code: it names the SOAP 1.1
// S:MustUnderstand fault (IDWSF2 §2.3 step 1), which carries no detail
// because SOAP 1.1 §4.4 keeps header errors out of the fault detail.
const CodeMustUnderstand Code = "S:MustUnderstand"

// String returns the code as IDWSF2 §2.5 spells it: the public text of an
// *Error of that code.
func (c Code) String() string { return string(c) }

// Package names the package in error texts.
func (Code) Package() string { return "wsf" }

// Error is the typed error of the SOAP binding: the lu:Status code the
// fault will carry, the offending element's ID (Ref), the private cause,
// and what some faults carry besides (IDWSF2 §2.5, §2.6). Its text and its
// errors.Is matching are internal/kinderr's, with Ref as part of what makes
// a sentinel; the fields it adds keep it a type of its own.
type Error struct {
	Code   Code
	Ref    string
	Detail string // private: logs only, never on the wire
	Err    error  // private cause

	RedirectURL    string          // sb:RedirectRequest in the detail (InteractionRequired)
	EndpointUpdate *EndpointUpdate // sb:EndpointUpdate header (EndpointUpdated)
	Credentials    *CredentialsContext
}

// Errorf returns an *Error with code c and a formatted private detail.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Detail: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code c caused by err.
func Wrap(c Code, err error, detail string) *Error {
	return &Error{Code: c, Err: err, Detail: detail}
}

// kind returns e as the kinderr.Error of its code, detail and cause.
func (e *Error) kind() *kinderr.Error[Code] {
	return &kinderr.Error[Code]{Kind: e.Code, Detail: e.Detail, Err: e.Err}
}

// Error returns "wsf: ", the code, then the private detail and cause.
func (e *Error) Error() string { return e.kind().Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is a bare *Error (no Ref, detail or cause) with
// the same code, so that errors.Is(err, wsf.ErrStaleMsg) matches every
// stale message.
func (e *Error) Is(target error) bool { return isBare(e.Code, target) }

// isBare reports whether target is a sentinel *Error of code c.
func isBare(c Code, target error) bool {
	t, ok := target.(*Error)
	return ok && t.Ref == "" && (&kinderr.Error[Code]{Kind: c}).Is(t.kind())
}

// Sentinels for errors.Is, one per code the pipeline reports.
var (
	ErrMustUnderstand         = &Error{Code: CodeMustUnderstand}
	ErrFrameworkVersion       = &Error{Code: FrameworkVersionMismatch}
	ErrMsgNotUnderstood       = &Error{Code: IDStarMsgNotUnderstood}
	ErrInvalidActor           = &Error{Code: InvalidActor}
	ErrInvalidMustUnderstand  = &Error{Code: InvalidMustUnderstand}
	ErrStaleMsg               = &Error{Code: StaleMsg}
	ErrDuplicateMsg           = &Error{Code: DuplicateMsg}
	ErrInvalidRefToMsgID      = &Error{Code: InvalidRefToMsgID}
	ErrProviderIDNotValid     = &Error{Code: ProviderIDNotValid}
	ErrAffiliationIDNotValid  = &Error{Code: AffiliationIDNotValid}
	ErrTargetIdentityNotValid = &Error{Code: TargetIdentityNotValid}
	ErrInappropriateCreds     = &Error{Code: InappropriateCredentials}
	ErrProcCtxNotUnderstood   = &Error{Code: ProcCtxURINotUnderstood}
	ErrProcCtxUnwilling       = &Error{Code: ProcCtxUnwilling}
	ErrUsageDirective         = &Error{Code: CannotHonourUsageDirective}
	ErrEndpointUpdated        = &Error{Code: EndpointUpdated}
	ErrProcessingTimeout      = &Error{Code: ProcessingTimeout}
	ErrInteractionRequired    = &Error{Code: InteractionRequired}
	ErrInteractionForData     = &Error{Code: InteractionRequiredForData}
	ErrInteractionTime        = &Error{Code: InteractionTimeNotSufficient}
	ErrInteractionTimeout     = &Error{Code: InteractionTimeout}
)

// Status is an lu:Status (IDWSF2 §2.5): a code, optionally the ID of the
// offending element and a comment, and nested more specific statuses.
type Status struct {
	Code    Code
	Ref     string
	Comment string
	Sub     []Status
}

// Element renders the status as an lu:Status with the lu prefix declared.
func (s Status) Element() *etree.Element {
	el := etree.NewElement("lu:Status")
	el.CreateAttr("xmlns:lu", NSLU)
	s.fill(el)
	return el
}

func (s Status) fill(el *etree.Element) {
	el.CreateAttr("code", string(s.Code))
	wire.SetAttr(el, "ref", s.Ref)
	wire.SetAttr(el, "comment", s.Comment)
	for _, sub := range s.Sub {
		sub.fill(el.CreateElement("lu:Status"))
	}
}

// maxStatusDepth bounds the nesting of lu:Status that DecodeStatus follows.
const maxStatusDepth = 8

// DecodeStatus reads an lu:Status element.
func DecodeStatus(el *etree.Element) (Status, error) {
	return decodeStatus(el, 0)
}

func decodeStatus(el *etree.Element, depth int) (Status, error) {
	if !wire.Is(el, NSLU, "Status") || depth > maxStatusDepth {
		return Status{}, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a usable lu:Status", wire.Name(el))
	}
	code, err := wire.RequiredAttr(el, "code")
	if err != nil {
		return Status{}, err
	}
	s := Status{Code: Code(code)}
	s.Ref, _ = wire.Attr(el, "ref")
	s.Comment, _ = wire.Attr(el, "comment")
	for _, c := range wire.Children(el, NSLU, "Status") {
		sub, err := decodeStatus(c, depth+1)
		if err != nil {
			return Status{}, err
		}
		s.Sub = append(s.Sub, sub)
	}
	return s, nil
}
