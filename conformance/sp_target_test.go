package conformance

import (
	"strings"
	"testing"
)

// TestAcceptRule proves the rule that tells an accepted Response from a
// refused one by the ACS's answer.
func TestAcceptRule(t *testing.T) {
	portal := AcceptRule{Status: 303, LocationPrefix: "/", SetsCookie: "__Host-portal-session"}
	const acs = "https://sp.example/acs"
	tests := []struct {
		name string
		rule AcceptRule
		a    acsAnswer
		want bool
	}{
		{"ok/portal-session", portal, acsAnswer{Status: 303, Location: "/", Cookies: []string{"__Host-portal-session"}}, true},
		{"ok/absolute-location", portal, acsAnswer{Status: 303, Location: "https://sp.example/home", Cookies: []string{"__Host-portal-session"}}, true},
		{"fail/error-page", portal, acsAnswer{Status: 403}, false},
		{"fail/no-cookie", portal, acsAnswer{Status: 303, Location: "/"}, false},
		{"fail/other-origin", portal, acsAnswer{Status: 303, Location: "https://evil.example/", Cookies: []string{"__Host-portal-session"}}, false},
		{"ok/any-success", AcceptRule{SetsCookie: "s"}, acsAnswer{Status: 200, Cookies: []string{"s"}}, true},
		{"fail/server-error-with-cookie", AcceptRule{SetsCookie: "s"}, acsAnswer{Status: 500, Cookies: []string{"s"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.accepts(acs, &tt.a); got != tt.want {
				t.Fatalf("accepts(%s) = %v, want %v", tt.a.String(), got, tt.want)
			}
		})
	}
}

// TestSPTargetValidate proves that every problem of a description is
// reported at once, and that the suite IdP listens on loopback only.
func TestSPTargetValidate(t *testing.T) {
	err := (&SPTarget{Login: "ftp://x", IdP: SuiteIdP{Listen: "0.0.0.0:8449"}}).Validate()
	if err == nil {
		t.Fatal("an empty description is valid")
	}
	for _, want := range []string{"entityID", "login", "accepted", "idp needs", "loopback"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem about %s in: %v", want, err)
		}
	}
}

// TestSessionRuleValidate proves that a session rule is optional but,
// when given, names both the URL and the answer without a session.
func TestSessionRuleValidate(t *testing.T) {
	tests := []struct {
		name string
		rule SessionRule
		ok   bool
	}{
		{"ok/absent", SessionRule{}, true},
		{"ok/portal", SessionRule{URL: "/labs", Without: AcceptRule{Status: 303, LocationPrefix: "/"}}, true},
		{"fail/no-url", SessionRule{Without: AcceptRule{Status: 303}}, false},
		{"fail/no-answer", SessionRule{URL: "/labs"}, false},
		{"fail/cookie-only", SessionRule{URL: "/labs", Without: AcceptRule{SetsCookie: "s"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.rule.validate(); (err == nil) != tt.ok {
				t.Fatalf("validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
