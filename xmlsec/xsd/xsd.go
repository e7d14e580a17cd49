package xsd

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Validator validates one serialized XML document. A nil error means the
// document is well-formed, passed xmlsec.Parse and is valid against the
// schema set.
type Validator interface {
	Validate(doc []byte) error
}

var _ Validator = (*Schema)(nil)

// MaxErrors is the most libxml2 messages one ValidationError lists; further
// messages are only counted (ValidationError.Omitted).
const MaxErrors = 32

// ErrNoCgo is returned by New in a binary built without cgo.
var ErrNoCgo = errors.New("xsd: built without cgo: XSD validation needs libxml2")

// ErrClosed is returned by Validate after Close.
var ErrClosed = errors.New("xsd: schema closed")

// Config configures New.
type Config struct {
	// Limits bound what Validate accepts, as for xmlsec.Parse; zero fields
	// take xmlsec.DefaultLimits.
	Limits xmlsec.Limits
}

// Message is one libxml2 message. Text is cut after 1024 bytes (libxml2
// quotes offending values, which a peer controls, in full).
type Message struct {
	File string // schema file, for compile messages; empty for documents
	Line int    // line in File or in the validated document, 0 if unknown
	Text string // libxml2's text, without the trailing newline
}

// String returns "file:line: text", leaving out what is unknown.
func (m Message) String() string {
	pos := m.File
	if m.Line > 0 {
		pos += fmt.Sprintf(":%d", m.Line)
	}
	if pos == "" {
		return m.Text
	}
	return strings.TrimPrefix(pos, ":") + ": " + m.Text
}

// ValidationError lists why a document is not valid: libxml2's messages in
// document order, at most MaxErrors, and how many more there were.
type ValidationError struct {
	Messages []Message
	Omitted  int
}

// Error joins the messages with "; ".
func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Messages)+1)
	for _, m := range e.Messages {
		parts = append(parts, m.String())
	}
	if e.Omitted > 0 {
		parts = append(parts, fmt.Sprintf("(%d more messages not kept)", e.Omitted))
	}
	if len(parts) == 0 {
		return "libxml2 gave no message"
	}
	return strings.Join(parts, "; ")
}

var (
	defaultOnce   sync.Once
	defaultSchema *Schema
	errDefault    error
)

// Default returns the package's shared Schema, compiled on first use with
// the zero Config. Close on it is refused: it lives as long as the process.
func Default() (*Schema, error) {
	defaultOnce.Do(func() {
		defaultSchema, errDefault = New(Config{})
		if defaultSchema != nil {
			defaultSchema.shared = true
		}
	})
	return defaultSchema, errDefault
}

// Validate validates doc with the Default schema.
func Validate(doc []byte) error {
	s, err := Default()
	if err != nil {
		return err
	}
	return s.Validate(doc)
}

// CompileError reports that the schema set did not compile, with libxml2's
// reasons (file names relative to the schema tree). It is a fault of the
// build, not of any peer: roles answer it as an internal error.
type CompileError struct {
	Wrapper  string
	Messages []Message
	Err      error
}

// Error names the wrapper, the binding's error and libxml2's messages.
func (e *CompileError) Error() string {
	s := fmt.Sprintf("xsd: compiling %s failed: %v", e.Wrapper, e.Err)
	if len(e.Messages) == 0 {
		return s + " (libxml2 gave no message)"
	}
	parts := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		parts[i] = m.String()
	}
	return s + ": " + strings.Join(parts, "; ")
}

// Unwrap returns the binding's error.
func (e *CompileError) Unwrap() error { return e.Err }
