//go:build cgo

package xsd

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	libxsd "github.com/lestrrat-go/libxml2/xsd"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// compileMu serializes schema compilation: libxml2 initializes its built-in
// type tables on first use without a lock.
var compileMu sync.Mutex

// Schema is the compiled schema set. Validate and ValidateElement may be
// called from many goroutines at once.
type Schema struct {
	cfg    Config
	mu     sync.RWMutex // Close (write) against validations (read)
	schema *libxsd.Schema
	// ctxts are idle parser and validation contexts of schema: one made
	// per validation cost allocations of its own and warmed nothing.
	ctxts  chan ctxtPair
	dir    string // temporary schema tree, if it could not be removed at once
	shared bool   // the Default schema, never closed
}

// New compiles the embedded schema set.
func New(cfg Config) (*Schema, error) {
	sch, dir, err := compile(schemaFiles, wrapperPath)
	if err != nil {
		return nil, err
	}
	return &Schema{cfg: cfg, schema: sch, dir: dir, ctxts: make(chan ctxtPair, maxIdleCtxts)}, nil
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
	c := s.takeCtxt()
	if c.p == 0 || c.v == 0 {
		s.putCtxt(c)
		return xmlsec.Errorf(xmlsec.KindSchema, "libxml2 made no parser or validation context")
	}
	rc, msgs, omitted, stage, perr := cParseValidate(c.p, c.v, doc)
	if stage == stageParseFailed {
		freeCtxt(c) // the failure may be libxml2's dictionary limit: start afresh
	} else {
		s.putCtxt(c)
	}
	switch stage {
	case stageParseFailed:
		return xmlsec.Wrap(xmlsec.KindMalformed, fmt.Errorf("%s", perr), "libxml2")
	case stageDTD:
		return checkDoc(docDTD)
	case stageUnbound:
		return checkDoc(docUnbound)
	}
	return result(rc, msgs, omitted)
}

// checkDoc maps a document check's finding to an error.
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
		s.freeCtxts()
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

// maxIdleCtxts bounds the idle context pairs kept.
const maxIdleCtxts = 64

// A parser context whose dictionary holds more names or bytes than these
// is retired: a reused context keeps every name and ID it has seen, and a
// stream of unique or long ones must not grow it for ever (nor reach
// libxml2's 10 MB dictionary limit, past which its parses fail).
const (
	maxParserNames = 1 << 14
	maxParserBytes = 1 << 20
)

// ctxtPair is a parser context and a validation context of the schema,
// used by one validation at a time: reused, they keep the allocations and
// the dictionary of names that made one per document a measurable cost.
type ctxtPair struct{ p, v uintptr }

// takeCtxt takes an idle pair, or makes one (a zero member if libxml2
// cannot). The caller holds s.mu for reading.
func (s *Schema) takeCtxt() ctxtPair {
	select {
	case c := <-s.ctxts:
		return c
	default:
		return ctxtPair{p: cParser(), v: cValidCtxt(s.schema.Pointer())}
	}
}

// putCtxt keeps c for the next validation, or frees it when enough are
// kept or its parser's dictionary has grown too large. The caller holds
// s.mu for reading.
func (s *Schema) putCtxt(c ctxtPair) {
	if c.p != 0 && c.v != 0 && !cParserWorn(c.p, maxParserNames, maxParserBytes) {
		select {
		case s.ctxts <- c:
			return
		default:
		}
	}
	freeCtxt(c)
}

func freeCtxt(c ctxtPair) {
	if c.p != 0 {
		cFreeParser(c.p)
	}
	if c.v != 0 {
		cFreeValidCtxt(c.v)
	}
}

// freeCtxts frees the idle pairs; the caller holds s.mu.
func (s *Schema) freeCtxts() {
	for {
		select {
		case c := <-s.ctxts:
			freeCtxt(c)
		default:
			return
		}
	}
}
