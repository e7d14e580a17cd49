package wsf

import "fmt"

// Validator is an XSD validator of a whole message (xmlsec/xsd.Schema
// satisfies it).
type Validator interface {
	Validate(doc []byte) error
}

// ValidateParsed validates a message that xmlsec.Parse has already
// accepted, or that this provider serialized itself, skipping that
// second parse where v can (xsd.Schema.ValidateParsed; libxml2 still
// refuses a DTD), and with v.Validate otherwise.
func ValidateParsed(v Validator, doc []byte) error {
	if p, ok := v.(interface{ ValidateParsed([]byte) error }); ok {
		return p.ValidateParsed(doc)
	}
	return v.Validate(doc)
}

// CheckOutgoing validates a message this provider is about to send; a
// refusal wraps ErrInvalidOutgoing, which the fault table answers
// S:Server: the fault is ours, not the peer's.
func CheckOutgoing(v Validator, doc []byte) error {
	if err := ValidateParsed(v, doc); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOutgoing, err)
	}
	return nil
}
