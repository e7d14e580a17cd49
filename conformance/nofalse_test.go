package conformance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFakeIdPNoFalseRefusal: a negative case passes only when the target
// shows it can answer our SP at all. Against an IdP that does not know
// our SP, one whose SSO endpoint answers 502, or one that shows a login
// form the filler does not fill, no negative case passes or blames the
// target: each is an error of the run.
func TestFakeIdPNoFalseRefusal(t *testing.T) {
	tests := []struct {
		name string
		wrap func(idp *fakeIdP) http.Handler
	}{
		{"unknown-sp", func(idp *fakeIdP) http.Handler { return idp.mux() }},
		{"bad-gateway", func(idp *fakeIdP) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("GET /metadata", idp.mux())
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad gateway", http.StatusBadGateway) })
			return mux
		}},
		{"login-form-not-filled", func(idp *fakeIdP) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("GET /metadata", idp.mux())
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`<html><body><form method="post" action="/login"><input type="text" name="login"><input type="password" name="pin"></form></body></html>`))
			})
			return mux
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := NewSP("https://127.0.0.1/conformance-sp", "https://127.0.0.1/conformance-sp/acs", time.Now(), nil)
			if err != nil {
				t.Fatal(err)
			}
			known := sp
			if tc.name == "unknown-sp" {
				// The IdP knows another SP under our entity ID, with
				// another key: none of our requests verifies.
				if known, err = NewSP(sp.EntityID, sp.ACS, time.Now(), nil); err != nil {
					t.Fatal(err)
				}
			}
			idp := &fakeIdP{t: t, seen: map[string]bool{}, spID: known.EntityID, sp: known.Descriptor().SPSSO[0]}
			idp.srv = httptest.NewServer(tc.wrap(idp))
			idp.start(t)
			ctx := context.Background()
			target, err := LoadTarget(ctx, idp.srv.URL+"/metadata", nil)
			if err != nil {
				t.Fatal(err)
			}
			r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: SAMLIdPCases(), Rows: Matrix(), Only: []string{"web-sso"}, CaseTimeout: 30 * time.Second}
			login := Authenticator(FormLogin{Username: gateUser, Password: gatePass, UserField: "user", PassField: "pass"})
			rep := r.Run(ctx, &Env{Target: target, SP: sp, Login: login})
			var txt strings.Builder
			rep.WriteText(&txt)
			if !rep.Failed() {
				t.Fatalf("the run does not fail:\n%s", txt.String())
			}
			n := 0
			for _, res := range rep.Results {
				if res.Case.Positive || res.Outcome.Verdict == Skipped || res.Outcome.Verdict == OutOfScope {
					continue
				}
				n++
				if res.Outcome.Verdict != Error {
					t.Errorf("%s: %s %s (%s), want an error of the run", res.Case.ID, res.Outcome.Verdict, res.Outcome.Side, res.Outcome.Reason)
				}
			}
			if n == 0 {
				t.Fatalf("no negative case ran:\n%s", txt.String())
			}
		})
	}
}

// TestJudgeRefusalServerTrouble: a back-channel answer of HTTP 404 or a
// gateway's or unavailable server's 5xx is no refusal but an error of the
// run; HTTP 500, a SOAP 1.1 fault's status, and other errors refuse.
func TestJudgeRefusalServerTrouble(t *testing.T) {
	e := &Env{}
	for status, want := range map[int]Verdict{502: Error, 503: Error, 404: Error, 500: Pass, 400: Pass, 403: Pass} {
		if o := e.judgeRefusal(nil, status, "Response", ""); o.Verdict != want {
			t.Errorf("HTTP %d: %s (%s), want %s", status, o.Verdict, o.Reason, want)
		}
	}
}
