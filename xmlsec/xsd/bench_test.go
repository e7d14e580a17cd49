//go:build cgo

package xsd

import (
	"testing"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// BenchmarkValidate measures validations per second of a signed SAML
// Response (xmlsec1-signed, about 4 KB) and of an ID-WSF 2.0 SOAP request
// (the DST Query example with its token and nine-reference signature),
// next to the floor: xmlsec.Parse of the same bytes, which Validate runs
// first. "libxml2" is the part after it (libxml2 parse and validation);
// "ValidateElement-parsed" is what a caller pays who already holds the tree
// from xmlsec.Parse (tree check, one serialization, libxml2).
func BenchmarkValidate(b *testing.B) {
	s := mustDefault(b)
	msgs := []struct {
		name string
		doc  []byte
	}{
		{"saml-response", signedResponse(b)},
		{"idwsf-soap", readTestdata(b, "examples/idwsf2-03-wsp-request.xml")},
	}
	for _, m := range msgs {
		if err := s.Validate(m.doc); err != nil {
			b.Fatalf("%s: %v", m.name, err)
		}
		var floor float64
		b.Run(m.name+"/xmlsec.Parse", func(b *testing.B) {
			floor = run(b, m.doc, func(d []byte) error { _, err := xmlsec.Parse(d, xmlsec.Limits{}); return err })
		})
		b.Run(m.name+"/libxml2", func(b *testing.B) {
			ratio(b, floor, run(b, m.doc, s.validateChecked))
		})
		b.Run(m.name+"/ValidateParsed", func(b *testing.B) {
			ratio(b, floor, run(b, m.doc, s.ValidateParsed))
		})
		b.Run(m.name+"/Validate", func(b *testing.B) {
			ratio(b, floor, run(b, m.doc, s.Validate))
		})
		root, err := xmlsec.ParseElement(m.doc, xmlsec.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(m.name+"/ValidateElement-parsed", func(b *testing.B) {
			ratio(b, floor, run(b, m.doc, func([]byte) error { return s.ValidateElement(root) }))
		})
	}
}

// run times f over doc and returns nanoseconds per call.
func run(b *testing.B, doc []byte, f func([]byte) error) float64 {
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if err := f(doc); err != nil {
			b.Fatal(err)
		}
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(1e9/ns, "docs/s")
	return ns
}

// ratio reports ns per call as a multiple of the floor measured just before.
func ratio(b *testing.B, floor, ns float64) {
	if floor > 0 {
		b.ReportMetric(ns/floor, "x-parse")
	}
}
