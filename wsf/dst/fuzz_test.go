package dst_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// The decoders read network bytes: each has a native fuzz target, seeded
// from testdata/fuzz/<FuzzName>/ with the messages the services render
// (go test -update rewrites the seeds; go test runs them; go test -fuzz
// explores from them). Whatever the bytes, parsed as the receiver parses
// them, a decoder of any service must not panic and must refuse only
// with a malformed-XML error; what it accepts must render to a message
// that reads back, and renders the same again.
//
// The seeds are whole messages of a few kilobytes: the fuzzer's default
// minimization of each new input (up to a minute) stalls a short run, so
// run a target with -fuzzminimizetime=2s.

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata")

// fuzzLimits are the parse limits of the fuzz targets: the receiver's,
// with a smaller document so that the fuzzer spends its time on the
// decoders.
var fuzzLimits = xmlsec.Limits{MaxBytes: 64 << 10}

// decoder is one decoder under fuzzing, with the renderer of what it
// reads.
type decoder[M any] struct {
	decode func(*dst.Service, *etree.Element) (M, error)
	render func(*dst.Service, M) *etree.Element
	// sample is the seed of a service: a rendered message.
	sample func(testing.TB, *dst.Service) *etree.Element
}

func (d decoder[M]) fuzz(t *testing.T, b []byte) {
	el, err := xmlsec.ParseElement(b, fuzzLimits)
	if err != nil {
		return
	}
	for _, s := range dst.Services() {
		m, err := d.decode(s, el)
		if err != nil {
			if !errors.Is(err, xmlsec.ErrMalformed) {
				t.Fatalf("%s refuses with %T %v, not a malformed-XML error", s.Prefix, err, err)
			}
			continue
		}
		once := serialize(t, d.render(s, m))
		back, err := xmlsec.ParseElement(once, xmlsec.DefaultLimits)
		if err != nil {
			t.Fatalf("%s: accepted message renders to one that does not parse: %v\n%s", s.Prefix, err, once)
		}
		m2, err := d.decode(s, back)
		if err != nil {
			t.Fatalf("%s: accepted message renders to one that is refused: %v\n%s", s.Prefix, err, once)
		}
		if twice := serialize(t, d.render(s, m2)); !bytes.Equal(once, twice) {
			t.Fatalf("%s: second round trip changed the message:\n%s\n%s", s.Prefix, once, twice)
		}
	}
}

func serialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleOf returns a sample's message of the service's first item type.
func sampleOf(pick func(samples, *dst.Service) *etree.Element) func(testing.TB, *dst.Service) *etree.Element {
	return func(t testing.TB, s *dst.Service) *etree.Element {
		return pick(sampleMessages(t, s, &s.Items[0]), s)
	}
}

var (
	fuzzQuery = decoder[*dst.Query]{(*dst.Service).DecodeQuery, (*dst.Service).QueryElement,
		sampleOf(func(m samples, s *dst.Service) *etree.Element { return s.QueryElement(m.query) })}
	fuzzQueryResponse = decoder[*dst.QueryResponse]{(*dst.Service).DecodeQueryResponse, (*dst.Service).QueryResponseElement,
		sampleOf(func(m samples, s *dst.Service) *etree.Element { return s.QueryResponseElement(m.response) })}
	fuzzCreate = decoder[*dst.Create]{(*dst.Service).DecodeCreate, (*dst.Service).CreateElement,
		sampleOf(func(m samples, s *dst.Service) *etree.Element { return s.CreateElement(m.create) })}
	fuzzModify = decoder[*dst.Modify]{(*dst.Service).DecodeModify, (*dst.Service).ModifyElement,
		sampleOf(func(m samples, s *dst.Service) *etree.Element { return s.ModifyElement(m.modify) })}
	fuzzDelete = decoder[*dst.Delete]{(*dst.Service).DecodeDelete, (*dst.Service).DeleteElement,
		sampleOf(func(m samples, s *dst.Service) *etree.Element { return s.DeleteElement(m.delete) })}
	fuzzWriteResponse = decoder[*dst.WriteResponse]{(*dst.Service).DecodeWriteResponse, (*dst.Service).WriteResponseElement,
		sampleOf(func(m samples, s *dst.Service) *etree.Element { return s.WriteResponseElement(m.modified) })}
	fuzzDeleteResponse = decoder[*dst.DeleteResponse]{(*dst.Service).DecodeDeleteResponse, (*dst.Service).DeleteResponseElement,
		sampleOf(func(m samples, s *dst.Service) *etree.Element { return s.DeleteResponseElement(m.deleted) })}
)

func FuzzDecodeQuery(f *testing.F)          { f.Fuzz(fuzzQuery.fuzz) }
func FuzzDecodeQueryResponse(f *testing.F)  { f.Fuzz(fuzzQueryResponse.fuzz) }
func FuzzDecodeCreate(f *testing.F)         { f.Fuzz(fuzzCreate.fuzz) }
func FuzzDecodeModify(f *testing.F)         { f.Fuzz(fuzzModify.fuzz) }
func FuzzDecodeDelete(f *testing.F)         { f.Fuzz(fuzzDelete.fuzz) }
func FuzzDecodeWriteResponse(f *testing.F)  { f.Fuzz(fuzzWriteResponse.fuzz) }
func FuzzDecodeDeleteResponse(f *testing.F) { f.Fuzz(fuzzDeleteResponse.fuzz) }

// FuzzParseSelect reads arbitrary text as a Select in a scope binding
// cl and anc to the clinical namespace and ck to the check-up one, for
// both services. It accepts only what names an item type of the service,
// by a filter field or a non-empty id, and what it accepts renders back
// through String to the same Select; it refuses only with a *SelectError
// holding the text.
func FuzzParseSelect(f *testing.F) {
	el := selectScope(f)
	f.Fuzz(func(t *testing.T, text string) {
		for _, s := range []*dst.Service{dst.Lookup(dst.Clinical), dst.Lookup(dst.Checkup)} {
			sel, err := dst.ParseSelect(el, s, text)
			if err != nil {
				var se *dst.SelectError
				if !errors.As(err, &se) || se.Text != text || sel != nil {
					t.Fatalf("%s: ParseSelect(%q) = %+v, %v", s.Prefix, text, sel, err)
				}
				continue
			}
			it := s.Item(sel.Item)
			switch {
			case len(text) > dst.MaxSelectLen:
				t.Fatalf("%s: ParseSelect accepts %d bytes", s.Prefix, len(text))
			case it == nil:
				t.Fatalf("%s: ParseSelect(%q) names no item type: %+v", s.Prefix, text, sel)
			case sel.Field != "" && (it.Field(sel.Field) == nil || !it.Field(sel.Field).Filter):
				t.Fatalf("%s: ParseSelect(%q) selects by %s, not a filter", s.Prefix, text, sel.Field)
			case sel.Field == "" && sel.Value != "", sel.Field != "" && sel.ID != "":
				t.Fatalf("%s: ParseSelect(%q) = %+v", s.Prefix, text, sel)
			}
			out := sel.String(s.Prefix)
			if len(out) > dst.MaxSelectLen {
				continue // a longer prefix than the one sent
			}
			again, err := dst.ParseSelect(el, s, out)
			if err != nil || *again != *sel {
				t.Fatalf("%s: %q is %+v, rendered %q, read back as %+v, %v", s.Prefix, text, sel, out, again, err)
			}
		}
	})
}

// selectSeeds are the seeds of FuzzParseSelect.
var selectSeeds = map[string]string{
	"ok-all":           "/cl:LabResult",
	"ok-id":            "/cl:LabResult[@id='r-17']",
	"ok-id-double":     `/anc:Prescription[@id="O'Neil"]`,
	"ok-field":         "/cl:LabResult[cl:Code='3D010000001926101']",
	"ok-checkup-field": " /ck:Checkup[ ck:Kind = \"特定健診\" ] ",
	"fail-two-steps":   "/cl:LabResult/cl:Code",
	"fail-function":    "/cl:LabResult[count(cl:Code)='1']",
	"fail-literal":     "/cl:LabResult[@id='a'b']",
}

// fuzzSeeds lists the decoder targets with their samples.
func fuzzSeeds() map[string]func(testing.TB, *dst.Service) *etree.Element {
	return map[string]func(testing.TB, *dst.Service) *etree.Element{
		"FuzzDecodeQuery":          fuzzQuery.sample,
		"FuzzDecodeQueryResponse":  fuzzQueryResponse.sample,
		"FuzzDecodeCreate":         fuzzCreate.sample,
		"FuzzDecodeModify":         fuzzModify.sample,
		"FuzzDecodeDelete":         fuzzDelete.sample,
		"FuzzDecodeWriteResponse":  fuzzWriteResponse.sample,
		"FuzzDecodeDeleteResponse": fuzzDeleteResponse.sample,
	}
}

// TestFuzzSeeds checks that the committed seed corpus is meaningful: each
// ok-* seed of a decoder is read by its service's decoder, each ok-* seed
// of FuzzParseSelect by ParseSelect, each fail-* seed refused; other files
// (inputs the fuzzer once found) are run by the targets themselves. With
// -update it first rewrites the ok-* and fail-* seeds.
func TestFuzzSeeds(t *testing.T) {
	if *update {
		writeSeeds(t)
	}
	decoders := map[string]func(*dst.Service, *etree.Element) error{
		"FuzzDecodeQuery":          func(s *dst.Service, el *etree.Element) error { _, err := s.DecodeQuery(el); return err },
		"FuzzDecodeQueryResponse":  func(s *dst.Service, el *etree.Element) error { _, err := s.DecodeQueryResponse(el); return err },
		"FuzzDecodeCreate":         func(s *dst.Service, el *etree.Element) error { _, err := s.DecodeCreate(el); return err },
		"FuzzDecodeModify":         func(s *dst.Service, el *etree.Element) error { _, err := s.DecodeModify(el); return err },
		"FuzzDecodeDelete":         func(s *dst.Service, el *etree.Element) error { _, err := s.DecodeDelete(el); return err },
		"FuzzDecodeWriteResponse":  func(s *dst.Service, el *etree.Element) error { _, err := s.DecodeWriteResponse(el); return err },
		"FuzzDecodeDeleteResponse": func(s *dst.Service, el *etree.Element) error { _, err := s.DecodeDeleteResponse(el); return err },
	}
	for name, decode := range decoders {
		seeds := seedFiles(t, name, len(dst.Services()))
		for _, path := range seeds {
			if !strings.HasPrefix(filepath.Base(path), "ok-") {
				continue
			}
			el, err := xmlsec.ParseElement(readSeed(t, path, "[]byte"), fuzzLimits)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			s := dst.Lookup(el.NamespaceURI())
			if s == nil {
				t.Fatalf("%s: root %s is of no service", path, el.Tag)
			}
			if err := decode(s, el); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
	}
	el := selectScope(t)
	for _, path := range seedFiles(t, "FuzzParseSelect", len(selectSeeds)) {
		base := filepath.Base(path)
		if !strings.HasPrefix(base, "ok-") && !strings.HasPrefix(base, "fail-") {
			continue
		}
		text := string(readSeed(t, path, "string"))
		var err error
		for _, s := range []*dst.Service{dst.Lookup(dst.Clinical), dst.Lookup(dst.Checkup)} {
			if _, err = dst.ParseSelect(el, s, text); err == nil {
				break
			}
		}
		if ok := strings.HasPrefix(base, "ok-"); ok != (err == nil) {
			t.Errorf("%s: %q: %v", path, text, err)
		}
	}
}

// seedFiles lists the corpus of target, at least min files.
func seedFiles(t *testing.T, target string, min int) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil || len(paths) < min {
		t.Fatalf("seed corpus of %s: %d seeds, want at least %d (go test -run TestFuzzSeeds -update): %v", target, len(paths), min, err)
	}
	return paths
}

// readSeed reads a file of the native fuzzing corpus format holding one
// value of type typ ("[]byte" or "string").
func readSeed(t testing.TB, path, typ string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(b), "\n", 3)
	var s string
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s is not a fuzz corpus file", path)
	}
	if _, err := fmt.Sscanf(lines[1], typ+"(%q)", &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

// writeSeeds renders each decoder's sample message for every service,
// and the Select seeds.
func writeSeeds(t *testing.T) {
	for target, sample := range fuzzSeeds() {
		for _, s := range dst.Services() {
			name := "ok-" + s.Prefix + "-" + strings.ToLower(s.Items[0].Name)
			saveSeed(t, target, name, fmt.Sprintf("[]byte(%q)", serialize(t, sample(t, s))))
		}
	}
	for name, text := range selectSeeds {
		saveSeed(t, "FuzzParseSelect", name, fmt.Sprintf("string(%q)", text))
	}
}

func saveSeed(t *testing.T, target, name, value string) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n"+value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
