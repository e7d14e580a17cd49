package wsf

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// TestFaultTableRoundTrip renders every row of the table as a fault
// envelope, checks it against the schemas, reads it back and matches it
// with errors.Is against the sentinel it came from.
func TestFaultTableRoundTrip(t *testing.T) {
	for _, r := range faultTable {
		t.Run(r.fault.Local+"/"+string(r.code), func(t *testing.T) {
			f := FaultFor(wrapped(r.match))
			if f.Code != r.fault || (r.code != "" && f.Status.Code != r.code) {
				t.Fatalf("FaultFor gave %+v", f)
			}
			b := mustBytes(t, NewEnvelope(&Header{MessageID: "urn:uuid:1"}, f.Element()))
			if err := xsd.Validate(b); err != nil {
				t.Fatalf("schema: %v", err)
			}
			got, err := mustParse(t, b).Fault()
			if err != nil || got == nil {
				t.Fatalf("decode: %v", err)
			}
			if got.Code != r.fault || got.String != r.text {
				t.Fatalf("decoded %+v", got)
			}
			if e, ok := r.match.(*Error); ok && !errors.Is(got, e) {
				t.Fatalf("errors.Is(fault, %v) false", e)
			}
		})
	}
}

// wrapped hides a sentinel under a private cause, as pipeline steps do.
func wrapped(sentinel error) error {
	switch s := sentinel.(type) {
	case *Error:
		return &Error{Code: s.Code, Detail: "private detail"}
	case *xmlsec.Error:
		return xmlsec.Errorf(s.Kind, "private detail")
	case *saml.Error:
		return saml.Errorf(s.Kind, "private detail")
	}
	return sentinel
}

func TestFaultKeepsPrivateDetailOffTheWire(t *testing.T) {
	f := FaultFor(Errorf(StaleMsg, "created %s, secret-internal-state", "x"))
	if s := canon(t, f.Element()); strings.Contains(s, "secret-internal-state") {
		t.Fatalf("private detail on the wire: %s", s)
	}
	if f := FaultFor(errors.New("boom")); f.Code != FaultServer || f.Status != nil || f.String != "internal error" {
		t.Fatalf("unknown error: %+v", f)
	}
}

func TestRedirectRequestFault(t *testing.T) {
	err := &Error{Code: InteractionRequired, RedirectURL: "https://wsp.example.org/consent?transactionID=urn:x"}
	f := FaultFor(err)
	got, derr := DecodeFault(reparse(t, f.Element()))
	if derr != nil {
		t.Fatal(derr)
	}
	if got.RedirectURL != err.RedirectURL || !errors.Is(got, ErrInteractionRequired) || got.Code != FaultServer {
		t.Fatalf("got %+v", got)
	}
}

// TestQuirkLassoRedirectRequestNeeded: IDWSF2 §11 item 14.
func TestQuirkLassoRedirectRequestNeeded(t *testing.T) {
	f := &Fault{Code: FaultServer, Status: &Status{Code: RedirectRequestNeeded}}
	if !errors.Is(f, ErrInteractionRequired) {
		t.Fatal("RedirectRequestNeeded not read as InteractionRequired")
	}
}

func TestNestedStatus(t *testing.T) {
	s := Status{Code: Failed, Ref: "r1", Comment: "c", Sub: []Status{{Code: "NoResults"}}}
	got, err := DecodeStatus(reparse(t, s.Element()))
	if err != nil || got.Sub[0].Code != "NoResults" || got.Ref != "r1" || got.Comment != "c" {
		t.Fatalf("got %+v %v", got, err)
	}
	deep := s.Element()
	cur := deep
	for i := 0; i < maxStatusDepth+2; i++ {
		c := cur.CreateElement("lu:Status")
		c.CreateAttr("code", "x")
		cur = c
	}
	if _, err := DecodeStatus(reparse(t, deep)); !errors.Is(err, xmlsec.ErrMalformed) {
		t.Fatalf("fail/too-deep-status: %v", err)
	}
}

func reparse(t *testing.T, e *etree.Element) *etree.Element {
	t.Helper()
	d := etree.NewDocument()
	d.SetRoot(e)
	b, _ := d.WriteToBytes()
	return el(t, string(b))
}

// TestInvalidOutgoingIsServerFault: a message this side built that the
// schemas refuse is its own bug, answered S:Server without detail, even
// though the schema error alone reads as the peer's IDStarMsgNotUnderstood.
func TestInvalidOutgoingIsServerFault(t *testing.T) {
	schemaErr := xmlsec.Errorf(xmlsec.KindSchema, "element Foo not expected")
	if f := FaultFor(schemaErr); f.Code != FaultClient {
		t.Fatalf("a peer's invalid message: %+v", f)
	}
	f := FaultFor(fmt.Errorf("%w: %w", ErrInvalidOutgoing, schemaErr))
	if f.Code != FaultServer || f.Status != nil || f.String != "internal error" {
		t.Fatalf("fail/own-invalid-message-blamed-on-peer: %+v", f)
	}
}
