//go:build cgo

package xsd

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzValidate feeds network bytes to Validate, seeded with the spec
// examples, the recorded Lasso and ZXID messages and the negative cases.
// Every answer must be deterministic and well-formed (see checkAnswer),
// ValidateParsed must agree with Validate on what xmlsec.Parse accepts, and for a document both parsers
// accept, validating its tree with
// ValidateElement must give the same verdict as validating its bytes.
// (Where they disagree, libxml2 is the stricter: encoding/xml takes
// attributes with no space between them, see testdata/fuzz.)
func FuzzValidate(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	s := mustDefault(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		err := s.Validate(b)
		checkAnswer(t, err)
		if again := s.Validate(b); errString(again) != errString(err) {
			t.Fatalf("two answers for one document:\n%v\n%v", err, again)
		}
		if _, perr := xmlsec.Parse(b, xmlsec.Limits{}); perr == nil {
			// The receivers' path: the same verdict without the second parse.
			if perr := s.ValidateParsed(b); (perr == nil) != (err == nil) {
				t.Fatalf("Validate: %v\nValidateParsed: %v", err, perr)
			}
		}
		if err != nil && !errors.Is(err, xmlsec.ErrSchema) {
			return // refused by xmlsec.Parse, or libxml2 found the bytes not well-formed
		}
		root, perr := xmlsec.ParseElement(b, xmlsec.Limits{})
		if perr != nil {
			t.Fatalf("xmlsec.Parse refused what Validate took: %v", perr)
		}
		if rawWhitespaceInAttr(root) {
			return
		}
		eerr := s.ValidateElement(root)
		checkAnswer(t, eerr)
		if (err == nil) != (eerr == nil) {
			t.Fatalf("Validate: %v\nValidateElement: %v", err, eerr)
		}
	})
}

// checkAnswer checks the shape of a Validate result: nil, or an
// *xmlsec.Error; a schema failure lists 1 to MaxErrors messages in valid
// UTF-8, none longer than the cut.
func checkAnswer(t *testing.T, err error) {
	var xe *xmlsec.Error
	if err == nil {
		return
	}
	if !errors.As(err, &xe) {
		t.Fatalf("error %T %v is not an *xmlsec.Error", err, err)
	}
	if xe.Kind != xmlsec.KindSchema {
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Messages) == 0 || len(ve.Messages) > MaxErrors {
		t.Fatalf("schema error without 1..%d messages: %v", MaxErrors, err)
	}
	for _, m := range ve.Messages {
		if !utf8.ValidString(m.Text) || len(m.Text) > 1024+len("… [message cut]") {
			t.Fatalf("bad message (%d bytes): %.200q", len(m.Text), m.Text)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// rawWhitespaceInAttr reports a tab, line feed or carriage return in an
// attribute value. encoding/xml does not normalize attribute values, so the
// tree cannot tell a raw line end (a space to libxml2) from &#10; (a line
// end): such documents are left out of the comparison.
func rawWhitespaceInAttr(root *etree.Element) bool {
	stack := []*etree.Element{root}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, a := range e.Attr {
			if strings.ContainsAny(a.Value, "\t\n\r") {
				return true
			}
		}
		stack = append(stack, e.ChildElements()...)
	}
	return false
}

func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	files, err := filepath.Glob("testdata/examples/*.xml")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		seeds = append(seeds, readTestdata(f, strings.TrimPrefix(filepath.ToSlash(p), "testdata/")))
	}
	for _, rel := range []string{"lasso/lasso-02-QueryResponse-resp.xml", "lasso/lasso2zxid-2-Query-req.xml",
		"zxid/zxid-14-POST-zxidwspcgi-resp.http", "zxid/zxid-15-GET-zxidwspcgi_o_B-resp.http"} {
		seeds = append(seeds, captureBytes(f, rel))
	}
	for _, d := range []string{
		authnRequestOpen + ` ID="_a" Version="2.0" IssueInstant="yesterday"/>`,
		`<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`,
		soapOpen + `<S:Body><x:Foo/></S:Body></S:Envelope>`,
		`<x:Foo xmlns:x="urn:renkei:test" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:renkei:test http://127.0.0.1:9/x.xsd"/>`,
	} {
		seeds = append(seeds, []byte(d))
	}
	return seeds
}
