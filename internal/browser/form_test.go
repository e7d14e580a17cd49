package browser

import (
	"errors"
	"net/url"
	"testing"
)

func TestParseForms(t *testing.T) {
	base, _ := url.Parse("https://127.0.0.1:8443/sp/login?x=1")
	for _, tc := range []struct {
		name, html string
		action     string
		values     url.Values
		err        error
	}{
		{name: "ok/post-binding", html: `<form method="post" action="https://127.0.0.1:9443/sso?x=&#34;&lt;&amp;&gt;"><input type="hidden" name="SAMLRequest" value="PD94"><input type="hidden" name="RelayState" value="a&amp;b"><noscript><input type="submit" value="Continue"></noscript></form>`,
			action: `https://127.0.0.1:9443/sso?x="<&>`, values: url.Values{"SAMLRequest": {"PD94"}, "RelayState": {"a&b"}}},
		{name: "ok/relative-bare-attrs", html: `<FORM METHOD=POST ACTION=acs><INPUT TYPE=hidden NAME=SAMLResponse VALUE=abc/></FORM>`,
			action: "https://127.0.0.1:8443/sp/acs", values: url.Values{"SAMLResponse": {"abc/"}}},
		{name: "ok/empty-action-is-page", html: `<form method='post'><input name='a' value='1'><input type=checkbox name=c value=on></form>`,
			action: base.String(), values: url.Values{"a": {"1"}}},
		{name: "ok/script-and-comment-skipped", html: `<script>"<form action=x>"</script><!-- <form> --><form method=post action=/y><input name=n value=v></form>`,
			action: "https://127.0.0.1:8443/y", values: url.Values{"n": {"v"}}},
		{name: "fail/unterminated-comment", html: `<!-- <form>`, err: ErrHTML},
		{name: "fail/unterminated-value", html: `<form action="x><input>`, err: ErrHTML},
		{name: "fail/unterminated-script", html: `<script> var a = 1;`, err: ErrHTML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forms, err := ParseForms([]byte(tc.html), base)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || len(forms) != 1 {
				t.Fatalf("%d forms, %v", len(forms), err)
			}
			if forms[0].Action.String() != tc.action || forms[0].Values.Encode() != tc.values.Encode() {
				t.Fatalf("got %s %v", forms[0].Action, forms[0].Values)
			}
		})
	}
}
