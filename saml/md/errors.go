package md

import (
	"fmt"

	"github.com/renkei-idwsf/renkei/internal/kinderr"
)

// Kind classifies a metadata failure.
type Kind int

// The kinds of metadata failure.
const (
	KindExpired    Kind = iota + 1 // validUntil has passed
	KindNotFound                   // no entity or role with that identifier
	KindNoEndpoint                 // the role lists no suitable endpoint
	KindNoKey                      // the role lists no suitable key
	KindDuplicate                  // one entityID twice in a document
	KindFetch                      // a source could not be read
	KindConfig                     // the Set's configuration is unusable
	KindInvalid                    // a value breaks a metadata rule
)

var kindNames = map[Kind]string{
	KindExpired:    "metadata expired",
	KindNotFound:   "entity not found",
	KindNoEndpoint: "no suitable endpoint",
	KindNoKey:      "no suitable key",
	KindDuplicate:  "duplicate entityID",
	KindFetch:      "metadata source unavailable",
	KindConfig:     "invalid metadata configuration",
	KindInvalid:    "invalid metadata",
}

// String returns the public, stable text of the kind.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("md kind %d", int(k))
}

// Error is the package's typed error (internal/kinderr). Kind is public; Detail and Err are the private cause, for logs only.
type Error = kinderr.Error[Kind]

// Package names the package in error texts.
func (Kind) Package() string { return "md" }

// Errorf returns an *Error of kind k with a formatted detail.
func Errorf(k Kind, format string, args ...any) *Error { return kinderr.New(k, format, args...) }

// Sentinels for errors.Is, one per kind.
var (
	ErrExpired    = &Error{Kind: KindExpired}
	ErrNotFound   = &Error{Kind: KindNotFound}
	ErrNoEndpoint = &Error{Kind: KindNoEndpoint}
	ErrNoKey      = &Error{Kind: KindNoKey}
	ErrDuplicate  = &Error{Kind: KindDuplicate}
	ErrFetch      = &Error{Kind: KindFetch}
	ErrConfig     = &Error{Kind: KindConfig}
	ErrInvalid    = &Error{Kind: KindInvalid}
)
