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

// TestRecipientRequestID: the ID a recipient sees is stable for one key,
// request and recipient, differs between recipients of one request and
// between callers' keys, is itself a valid request ID, and an unusable
// request ID gives none.
func TestRecipientRequestID(t *testing.T) {
	k1, k2 := []byte("caller key one"), []byte("caller key two")
	a := RecipientRequestID(k1, "0123abcd", "https://hospital-a.example/wsp")
	if a != RecipientRequestID(k1, "0123abcd", "https://hospital-a.example/wsp") || len(a) != recipientIDLen || !validRequestID(a) {
		t.Fatalf("ok/stable-and-valid: %q", a)
	}
	for name, other := range map[string]string{
		"other-recipient": RecipientRequestID(k1, "0123abcd", "https://hospital-b.example/wsp"),
		"other-key":       RecipientRequestID(k2, "0123abcd", "https://hospital-a.example/wsp"),
		"other-request":   RecipientRequestID(k1, "0123abce", "https://hospital-a.example/wsp"),
	} {
		if other == a || other == "" {
			t.Errorf("ok/unlinkable %s: %q and %q", name, a, other)
		}
	}
	if strings.Contains(a, "0123abcd") {
		t.Errorf("fail/leaks-request-id: %q", a)
	}
	for _, bad := range []string{"", "has space", strings.Repeat("x", 65)} {
		if got := RecipientRequestID(k1, bad, "https://hospital-a.example/wsp"); got != "" {
			t.Errorf("fail/bad-request-id %q: %q", bad, got)
		}
	}
}
