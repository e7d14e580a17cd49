package wsf

import (
	"context"
	"strings"
	"testing"
)

// TestMessageIDForRequest: a MessageID made under a request ID carries it
// recoverably and stays unique; an unusable request ID gives a plain
// urn:uuid MessageID, and foreign MessageIDs yield no request ID.
func TestMessageIDForRequest(t *testing.T) {
	ctx := WithRequestID(context.Background(), "0123abcd")
	a, err := NewMessageIDFor(nil, RequestID(ctx))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewMessageIDFor(nil, RequestID(ctx))
	if a == b || !strings.HasPrefix(a, "urn:renkei:msg:0123abcd:") {
		t.Fatalf("ok/carries-request-id: %q, %q", a, b)
	}
	if got := RequestIDOf(a); got != "0123abcd" {
		t.Fatalf("ok/recovered: %q", got)
	}
	for _, bad := range []string{"", "has space", "a:b", strings.Repeat("x", 65)} {
		m, err := NewMessageIDFor(nil, bad)
		if err != nil || !strings.HasPrefix(m, "urn:uuid:") {
			t.Errorf("fail/bad-request-id %q: %q %v", bad, m, err)
		}
	}
	for _, m := range []string{"urn:uuid:1234", "urn:renkei:msg:no-colon", "urn:renkei:msg:a b:c", "urn:renkei:msg::x"} {
		if got := RequestIDOf(m); got != "" {
			t.Errorf("fail/foreign %q: %q", m, got)
		}
	}
}
