package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// invalidPayload is a QueryResponse the DST schema refuses: lu:Status is
// required and dstref:Bogus is no element of the schema.
func invalidPayload() *etree.Element {
	e := etree.NewElement("dstref:QueryResponse")
	e.CreateAttr("xmlns:dstref", nsDST)
	e.CreateElement("dstref:Bogus").SetText("must-not-leave")
	return e
}

// wantServerFault fails unless resp is a signed, schema-valid S:Server
// fault without detail whose private cause is a schema refusal of our own
// message, and the refused content did not go out.
func wantServerFault(t *testing.T, resp *Response) {
	t.Helper()
	if resp.Status != 500 || resp.Fault == nil || resp.Fault.Code != wsf.FaultServer || resp.Fault.Status != nil {
		t.Fatalf("want S:Server fault, got %d %+v (cause %v)", resp.Status, resp.Fault, resp.Err)
	}
	if !errors.Is(resp.Err, wsf.ErrInvalidOutgoing) || !errors.Is(resp.Err, xmlsec.ErrSchema) {
		t.Fatalf("cause %v: want the schema refusal for the log", resp.Err)
	}
	if err := schema(t).Validate(resp.Body); err != nil {
		t.Fatalf("fault not schema-valid: %v", err)
	}
	if strings.Contains(string(resp.Body), "must-not-leave") || !strings.Contains(string(resp.Body), "SignatureValue") {
		t.Fatalf("fault carries the refused content or is unsigned: %s", resp.Body)
	}
}

func TestInvalidReplyBecomesServerFault(t *testing.T) {
	f := newFixture(t, wsf.Strict)
	f.serve = func(context.Context, *Message) (*Reply, error) { return &Reply{Payload: invalidPayload()}, nil }
	wantServerFault(t, f.receive(f.request(hok(f, nil)), wsftest.Keys(t).WSC.Cert))
}

// TestInvalidFaultBecomesServerFault: a service error whose fault the
// schemas refuse (an empty samlp:RequestedAuthnContext in the
// sb:CredentialsContext it asks for) is answered by a plain S:Server fault.
func TestInvalidFaultBecomesServerFault(t *testing.T) {
	f := newFixture(t, wsf.Strict)
	rac := etree.NewElement("samlp:RequestedAuthnContext")
	rac.CreateAttr("xmlns:samlp", "urn:oasis:names:tc:SAML:2.0:protocol")
	rac.CreateAttr("Comparison", "must-not-leave")
	f.serve = func(context.Context, *Message) (*Reply, error) {
		return nil, &wsf.Error{Code: wsf.InappropriateCredentials, Credentials: &wsf.CredentialsContext{RequestedAuthnContext: rac}}
	}
	resp := f.receive(f.request(hok(f, nil)), wsftest.Keys(t).WSC.Cert)
	wantServerFault(t, resp)
	if !errors.Is(resp.Err, wsf.ErrInappropriateCreds) {
		t.Fatalf("cause %v: the service's own error is lost for the log", resp.Err)
	}
}

// TestSkipOutgoingValidation shows the knob is what stands between an
// invalid reply and the wire.
func TestSkipOutgoingValidation(t *testing.T) {
	f := newFixture(t, wsf.Strict, func(c *Config) { c.SkipOutgoingValidation = true })
	f.serve = func(context.Context, *Message) (*Reply, error) { return &Reply{Payload: invalidPayload()}, nil }
	resp := f.receive(f.request(hok(f, nil)), wsftest.Keys(t).WSC.Cert)
	if resp.Status != 200 || schema(t).Validate(resp.Body) == nil {
		t.Fatalf("skip/invalid-reply-sent-unchecked: %d, cause %v", resp.Status, resp.Err)
	}
}

// refusingSchema accepts requests and refuses every message the receiver
// sends, so that even the S:Server fault is refused.
type refusingSchema struct{ inbound Validator }

func (s refusingSchema) Validate(doc []byte) error {
	root, err := xmlsec.ParseElement(doc, xmlsec.Limits{})
	if err != nil {
		return err
	}
	if sender := root.FindElement("./Header/Sender"); sender != nil {
		if id, _ := wire.Attr(sender, "providerID"); id == wsftest.WSPID {
			return xmlsec.Errorf(xmlsec.KindSchema, "refusing everything the WSP sends")
		}
	}
	return s.inbound.Validate(doc)
}

func TestRefusedServerFaultFallsBackToLastResort(t *testing.T) {
	f := newFixture(t, wsf.Strict, func(c *Config) { c.Schema = refusingSchema{c.Schema} })
	resp := f.receive(f.request(hok(f, nil)), wsftest.Keys(t).WSC.Cert)
	if resp.Status != 500 || resp.Fault == nil || resp.Fault.Code != wsf.FaultServer || !errors.Is(resp.Err, wsf.ErrInvalidOutgoing) {
		t.Fatalf("want the unsigned S:Server fault, got %d %+v (cause %v)", resp.Status, resp.Fault, resp.Err)
	}
	root, err := xmlsec.ParseElement(resp.Body, xmlsec.Limits{})
	if err != nil || strings.Contains(string(resp.Body), "SignatureValue") || root.FindElement("./Body/Fault/faultcode").Text() != "S:Server" {
		t.Fatalf("not the last-resort fault (%v): %s", err, resp.Body)
	}
}
