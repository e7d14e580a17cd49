package idp

import (
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/saml/binding"
)

// TestEnvelopeChecked: an envelope the schema refuses never leaves; a
// fault the schema refuses is replaced by the plain Server fault.
func TestEnvelopeChecked(t *testing.T) {
	ok := &SSO{cfg: SSOConfig{Schema: testSchema(t)}}
	fault := &binding.Fault{Code: binding.FaultClient, String: "bad request"}
	b, err := ok.envelopeBytes(fault.Envelope())
	if err != nil || !strings.Contains(string(b), "bad request") {
		t.Fatalf("ok/valid-envelope: %v", err)
	}
	refuse := &SSO{cfg: SSOConfig{Schema: &seenValidator{refuse: true}}}
	if _, err := refuse.envelopeBytes(fault.Envelope()); CodeOf(err) != CodeInternal {
		t.Fatalf("fail/schema-refuses-envelope: %v", err)
	}
	b = refuse.faultBytes(fault)
	if strings.Contains(string(b), "bad request") || !strings.Contains(string(b), "Server") {
		t.Fatalf("fail/schema-refuses-fault: sent %s", b)
	}
}
