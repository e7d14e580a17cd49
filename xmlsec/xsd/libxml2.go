//go:build cgo

package xsd

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/lestrrat-go/libxml2/parser"
	libxsd "github.com/lestrrat-go/libxml2/xsd"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// docOptions parse documents without network access, without substituting
// entities and without loading any DTD, and keep libxml2's parse messages
// off stderr (the error returned carries them).
const docOptions = parser.XMLParseNoNet | parser.XMLParseNoError | parser.XMLParseNoWarning

var docParser = parser.New(docOptions)

// compileMu serializes schema compilation: libxml2 initializes its built-in
// type tables on first use without a lock.
var compileMu sync.Mutex

// Schema is the compiled schema set. Validate and ValidateElement may be
// called from many goroutines at once.
type Schema struct {
	cfg    Config
	mu     sync.RWMutex // Close (write) against validations (read)
	schema *libxsd.Schema
	// ctxts are idle validation contexts of schema: one made per
	// validation cost allocations of its own and warmed nothing.
	ctxts  chan uintptr
	dir    string // temporary schema tree, if it could not be removed at once
	shared bool   // the Default schema, never closed
}

// New compiles the embedded schema set.
func New(cfg Config) (*Schema, error) {
	sch, dir, err := compile(schemaFiles, wrapperPath)
	if err != nil {
		return nil, err
	}
	return &Schema{cfg: cfg, schema: sch, dir: dir, ctxts: make(chan uintptr, maxIdleCtxts)}, nil
}

// compile writes fsys to a private temporary directory, compiles the
// wrapper schema there and removes the directory. It returns the directory
// only when removing it failed, for Close to try again.
func compile(fsys fs.FS, wrapper string) (*libxsd.Schema, string, error) {
	compileMu.Lock()
	defer compileMu.Unlock()
	cInit()
	dir, err := os.MkdirTemp("", "renkei-xsd-")
	if err != nil {
		return nil, "", fmt.Errorf("xsd: temporary schema directory: %w", err)
	}
	if err := writeTree(fsys, dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", fmt.Errorf("xsd: writing the schema set: %w", err)
	}
	sch, err := compileFile(dir, wrapper)
	if rmErr := os.RemoveAll(dir); rmErr == nil {
		dir = ""
	}
	if err != nil {
		return nil, "", err
	}
	return sch, dir, nil
}

// compileFile compiles dir/wrapper with the binding; on failure it compiles
// once more with a collecting error handler, since the binding sends
// libxml2's reasons to stderr only.
func compileFile(dir, wrapper string) (*libxsd.Schema, error) {
	file := filepath.Join(dir, filepath.FromSlash(wrapper))
	sch, err := libxsd.ParseFromFile(file)
	if err == nil {
		return sch, nil
	}
	msgs := cCompileErrors(file)
	for i := range msgs {
		if msgs[i].File != "" {
			msgs[i].File = schemaDirName(dir, msgs[i].File)
		}
	}
	return nil, &CompileError{Wrapper: wrapper, Messages: msgs, Err: err}
}

// Validate checks doc with xmlsec.Parse (limits, no DOCTYPE, UTF-8 only),
// then validates it. Invalid documents give an *xmlsec.Error of kind
// KindSchema wrapping a *ValidationError; refusals by xmlsec.Parse keep
// their own kinds (ErrDoctype, ErrMalformed, ErrTooLarge, ...).
func (s *Schema) Validate(doc []byte) error {
	if _, err := xmlsec.Parse(doc, s.cfg.Limits); err != nil {
		return err
	}
	return s.validateChecked(doc)
}

// ValidateParsed validates doc without reading it with xmlsec.Parse first:
// it is for a caller that has just had doc accepted by xmlsec.Parse (no
// DOCTYPE, UTF-8 only, within the caller's limits), or that serialized doc
// itself, and saves that second parse (in the ID-WSF receiver, about a
// seventh of a message's cost). libxml2 still parses without network
// access, entity substitution or DTD loading. (libxml2's streaming
// validator was tried here: twice as fast in a tight loop, no faster in a
// receiver, and it skips the xs:ID checks, which need the document.)
func (s *Schema) ValidateParsed(doc []byte) error {
	return s.validateChecked(doc)
}

// validateChecked parses doc with libxml2 and validates it. doc has passed
// xmlsec.Parse or the equivalent tree check of ValidateElement.
func (s *Schema) validateChecked(doc []byte) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.schema == nil {
		return ErrClosed
	}
	d, err := docParser.Parse(doc)
	if err != nil {
		return xmlsec.Wrap(xmlsec.KindMalformed, err, "libxml2")
	}
	defer d.Free()
	if err := checkDoc(cCheckDoc(d.Pointer())); err != nil {
		return err
	}
	v := s.validCtxt()
	if v == 0 {
		return xmlsec.Errorf(xmlsec.KindSchema, "libxml2 made no validation context")
	}
	defer s.putValidCtxt(v)
	return result(cValidate(v, d.Pointer()))
}

// checkDoc maps cCheckDoc's finding to an error.
func checkDoc(code int) error {
	switch code {
	case docDTD:
		return xmlsec.Errorf(xmlsec.KindDoctype, "libxml2 found a DTD")
	case docUnbound:
		return xmlsec.Errorf(xmlsec.KindMalformed, "undeclared namespace prefix")
	}
	return nil
}

// result maps libxml2's validation outcome to an error.
func result(rc int, msgs []Message, omitted int) error {
	switch {
	case rc == 0:
		return nil
	case rc < 0:
		return xmlsec.Wrap(xmlsec.KindSchema, &ValidationError{Messages: msgs, Omitted: omitted},
			fmt.Sprintf("libxml2 internal error %d", rc))
	}
	return xmlsec.Wrap(xmlsec.KindSchema, &ValidationError{Messages: msgs, Omitted: omitted}, "")
}

// Close frees the compiled schema and removes the temporary directory if it
// is still there. Validations after Close return ErrClosed. The Default
// schema refuses to close.
func (s *Schema) Close() error {
	if s.shared {
		return fmt.Errorf("xsd: the default schema is shared and stays open")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.schema != nil {
		s.freeValidCtxts()
		s.schema.Free()
		s.schema = nil
	}
	if s.dir == "" {
		return nil
	}
	err := os.RemoveAll(s.dir)
	s.dir = ""
	return err
}

// maxIdleCtxts bounds the idle validation contexts kept.
const maxIdleCtxts = 64

// validCtxt takes an idle validation context, or makes one (0 if libxml2
// cannot). The caller holds s.mu for reading.
func (s *Schema) validCtxt() uintptr {
	select {
	case v := <-s.ctxts:
		return v
	default:
		return cValidCtxt(s.schema.Pointer())
	}
}

// putValidCtxt keeps v for the next validation, or frees it when enough
// are kept. The caller holds s.mu for reading.
func (s *Schema) putValidCtxt(v uintptr) {
	select {
	case s.ctxts <- v:
	default:
		cFreeValidCtxt(v)
	}
}

// freeValidCtxts frees the idle contexts; the caller holds s.mu.
func (s *Schema) freeValidCtxts() {
	for {
		select {
		case v := <-s.ctxts:
			cFreeValidCtxt(v)
		default:
			return
		}
	}
}
