package sp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// session is the login the portal would keep.
func session() *sp.Login {
	return &sp.Login{NameID: &saml.NameID{Value: pseudo, Format: saml.NameIDPersistent, NameQualifier: idpID, SPNameQualifier: spID},
		SessionIndex: spSessIx}
}

// logoutResponse is the IdP's answer to requestID.
func (e *env) logoutResponse(requestID string, status samlp.Status) *samlp.LogoutResponse {
	return &samlp.LogoutResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_lr-" + requestID, InResponseTo: requestID,
		IssueInstant: e.now, Destination: sloURL, Issuer: &saml.Issuer{Value: idpID}, Status: status}}
}

// idpLogoutRequest is the IdP's LogoutRequest for the portal's session, as
// its logout chain makes it (idp.SLO.logoutRequest).
func (e *env) idpLogoutRequest(id, dest string) *samlp.LogoutRequest {
	return &samlp.LogoutRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: e.now, Destination: dest,
		Issuer: &saml.Issuer{Value: idpID}}, NotOnOrAfter: e.now.Add(5 * time.Minute), Reason: samlp.LogoutUser,
		NameID: session().NameID, SessionIndexes: []string{spSessIx}}
}

// TestStartLogout: the browser goes to the IdP's Redirect SLO endpoint
// with a LogoutRequest the IdP accepts: query-signed by the SP, the NameID
// as the assertion gave it, the SessionIndex, NotOnOrAfter, Reason user.
func TestStartLogout(t *testing.T) {
	e := newEnv(t)
	lr, err := e.sp.StartLogout(ctx, session(), "bye")
	e.must(err)
	m, el := e.readRedirect(lr.URL, idpSLO)
	req, err := samlp.DecodeLogoutRequest(el)
	e.must(err)
	switch {
	case req.ID != lr.ID || req.Destination != idpSLO || req.Issuer.Value != spID || m.RelayState != "bye":
		t.Fatalf("LogoutRequest %s to %s from %s, RelayState %q", req.ID, req.Destination, req.Issuer.Value, m.RelayState)
	case *req.NameID != *session().NameID || len(req.SessionIndexes) != 1 || req.SessionIndexes[0] != spSessIx:
		t.Fatalf("NameID %+v, SessionIndexes %v", req.NameID, req.SessionIndexes)
	case !req.NotOnOrAfter.Equal(lr.Expires) || req.Reason != samlp.LogoutUser:
		t.Fatalf("NotOnOrAfter %s, Reason %s", req.NotOnOrAfter, req.Reason)
	}
	if _, err := e.sp.StartLogout(ctx, &sp.Login{}, ""); !errors.Is(err, sp.ErrSubject) {
		t.Fatalf("a login without NameID: %v, want ErrSubject", err)
	}
}

// TestConsumeLogoutResponse: the IdP's answer is a result, Success or
// partial, for the request it answers, once; unsigned, SHA-1, foreign,
// misdirected and unasked-for answers are refused.
func TestConsumeLogoutResponse(t *testing.T) {
	partial := samlp.NewStatus(samlp.StatusResponder, samlp.StatusPartialLogout)
	t.Run("ok/success-then-replay", func(t *testing.T) {
		e := newEnv(t)
		lr, err := e.sp.StartLogout(ctx, session(), "bye")
		e.must(err)
		q := redirectQuery(t, e.logoutResponse(lr.ID, success).Element(), "bye", e.k.idp.Key, "")
		if !sp.IsLogoutResponse(q) {
			t.Fatal("IsLogoutResponse does not see the SAMLResponse")
		}
		res, err := e.sp.ConsumeLogoutResponse(ctx, q)
		if err != nil || !res.Success() || res.Partial() || res.RequestID != lr.ID || res.RelayState != "bye" {
			t.Fatalf("result %+v, %v", res, err)
		}
		if _, err := e.sp.ConsumeLogoutResponse(ctx, q); !errors.Is(err, sp.ErrUnknownRequest) {
			t.Fatalf("the same answer again: %v, want ErrUnknownRequest", err)
		}
	})
	t.Run("ok/partial-is-a-result", func(t *testing.T) {
		e := newEnv(t)
		lr, err := e.sp.StartLogout(ctx, session(), "")
		e.must(err)
		res, err := e.sp.ConsumeLogoutResponse(ctx, redirectQuery(t, e.logoutResponse(lr.ID, partial).Element(), "", e.k.idp.Key, ""))
		if err != nil || res.Success() || !res.Partial() {
			t.Fatalf("result %+v, %v; want a partial logout", res, err)
		}
	})
	for _, tc := range []struct {
		name  string
		query func(e *env, id string) string
		want  error
		cause error
	}{
		{"fail/unsigned", func(e *env, id string) string {
			return redirectQuery(t, e.logoutResponse(id, success).Element(), "", nil, "")
		}, sp.ErrSignature, xmlsec.ErrNoSignature},
		{"fail/sha1", func(e *env, id string) string {
			return redirectQuery(t, e.logoutResponse(id, success).Element(), "", e.k.idp.Key, xmlsec.RSASHA1)
		}, sp.ErrSignature, xmlsec.ErrAlgorithm},
		{"fail/untrusted-key", func(e *env, id string) string {
			return redirectQuery(t, e.logoutResponse(id, success).Element(), "", e.k.evil.Key, "")
		}, sp.ErrSignature, xmlsec.ErrSignature},
		{"fail/wrong-destination", func(e *env, id string) string {
			r := e.logoutResponse(id, success)
			r.Destination = "https://other-sp.test/slo"
			return redirectQuery(t, r.Element(), "", e.k.idp.Key, "")
		}, sp.ErrDestination, nil},
		{"fail/other-issuer", func(e *env, id string) string {
			r := e.logoutResponse(id, success)
			r.Issuer.Value = "https://other-idp.test"
			return redirectQuery(t, r.Element(), "", e.k.idp.Key, "")
		}, sp.ErrIssuer, nil},
		{"fail/answers-nothing-pending", func(e *env, _ string) string {
			return redirectQuery(t, e.logoutResponse("_never-sent", success).Element(), "", e.k.idp.Key, "")
		}, sp.ErrUnknownRequest, nil},
		{"fail/relaystate-changed", func(e *env, id string) string {
			return redirectQuery(t, e.logoutResponse(id, success).Element(), "other", e.k.idp.Key, "")
		}, sp.ErrRelayState, nil},
		{"fail/a-request-not-a-response", func(e *env, id string) string {
			return redirectQuery(t, e.idpLogoutRequest(id, sloURL).Element(), "", e.k.idp.Key, "")
		}, sp.ErrMalformed, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			lr, err := e.sp.StartLogout(ctx, session(), "")
			e.must(err)
			res, err := e.sp.ConsumeLogoutResponse(ctx, tc.query(e, lr.ID))
			if !errors.Is(err, tc.want) || tc.cause != nil && !errors.Is(err, tc.cause) || res != nil {
				t.Fatalf("ConsumeLogoutResponse = %+v, %v; want %v (%v)", res, err, tc.want, tc.cause)
			}
		})
	}
}
