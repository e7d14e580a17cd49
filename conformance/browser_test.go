package conformance

import (
	"net/url"
	"os"
	"testing"
)

func TestParseForms(t *testing.T) {
	golden, err := os.ReadFile("../saml/binding/testdata/TestPOSTGolden_inline.html")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://127.0.0.1/idp/sso")
	tests := []struct {
		name   string
		page   string
		action string
		field  string
		login  bool
	}{
		{"ok/binding-golden", string(golden), `https://127.0.0.1:9443/idp/sso?x="<&>`, "SAMLRequest", false},
		{"ok/login-form", `<html><body><form method="post" action="/login"><input type="hidden" name="q" value="a&amp;b"><input name="user"><input type="password" name="pw"></form></body></html>`,
			"https://127.0.0.1/login", "q", true},
		{"ok/unclosed-inputs", `<form action="javascript:alert(1)"><input type=hidden name=SAMLResponse value="UEs="><br></form>`,
			"javascript:alert(1)", "SAMLResponse", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := parseForms(base, []byte(tc.page))
			if len(fs) != 1 {
				t.Fatalf("%d forms", len(fs))
			}
			f := fs[0]
			if f.Action != tc.action || !f.Fields.Has(tc.field) {
				t.Fatalf("action %q fields %v", f.Action, f.Fields)
			}
			l := FormLogin{Username: "alice", Password: "secret"}
			if got := l.Fill(f); got != tc.login {
				t.Fatalf("Fill = %v, want %v", got, tc.login)
			}
			if tc.login && (f.Fields.Get("user") != "alice" || f.Fields.Get("pw") != "secret" || f.Fields.Get("q") != "a&b") {
				t.Fatalf("filled %v", f.Fields)
			}
		})
	}
}
