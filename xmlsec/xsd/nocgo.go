//go:build !cgo

package xsd

// Schema stands in for the compiled schema set in a binary built without
// cgo: New fails with ErrNoCgo, and so does every method.
type Schema struct {
	cfg    Config
	shared bool
}

// New fails: XSD validation needs libxml2, which needs cgo.
func New(Config) (*Schema, error) { return nil, ErrNoCgo }

// Validate fails with ErrNoCgo.
func (s *Schema) Validate([]byte) error { return ErrNoCgo }

// ValidateParsed fails with ErrNoCgo.
func (s *Schema) ValidateParsed([]byte) error { return ErrNoCgo }

// validateChecked fails with ErrNoCgo.
func (s *Schema) validateChecked([]byte) error { return ErrNoCgo }

// Close does nothing.
func (s *Schema) Close() error { return nil }
