package wsf

import (
	"testing"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// FuzzDecode runs the unverified wire decoders (envelope shape,
// mustUnderstand, header blocks, wsse:Security, EPRs, faults) over
// arbitrary bytes, seeded with the examples and recorded captures: they
// must refuse with an error, never panic, and a header they accept must
// encode again.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"examples/idwsf2-01-disco-query-request.xml", "examples/idwsf2-02-disco-query-response.xml",
		"examples/idwsf2-03-wsp-request.xml", "examples/idwsf2-04-wsp-response.xml", "captures/lasso-02-Query-req.xml"} {
		f.Add(readFile(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := ParseEnvelope(b, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		decodeParts(t, env)
	})
}

func decodeParts(t *testing.T, env *Envelope) {
	if _, err := env.Fault(); err != nil {
		return
	}
	for _, el := range env.Payload().FindElements("//EndpointReference") {
		if wire.Is(el, NSWSA, "EndpointReference") {
			_, _ = DecodeEPR(el)
		}
	}
	blocks, err := CheckMustUnderstand(env.Header)
	if err != nil {
		return
	}
	h, err := DecodeHeader(blocks)
	if err != nil {
		return
	}
	if sec, err := env.Security(); err == nil && sec != nil {
		_, _ = ReadSecurity(sec)
	}
	if _, err := NewEnvelope(h, env.Payload()).Bytes(); err != nil {
		t.Fatalf("accepted header does not encode: %v", err)
	}
}
