package idp

import (
	"net/http"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
)

// TestNIMEnrolAtReception is the enrolment of ARCHITECTURE "Enrolment of a
// link": the reception terminal gets a fresh ECP assertion with the
// patient's card, then the institution registers its patient number over
// SOAP; the terminal's next assertion, inside the encrypted assertion,
// carries it.
func TestNIMEnrolAtReception(t *testing.T) {
	e := newNIMEnv(t, "", nil)
	term := e.sps[terminalID]
	status, body := e.soap(e.browser(&e.Alice), e.ecpRequest(term, "_rc1"))
	if status != http.StatusOK {
		t.Fatalf("ECP: HTTP %d", status)
	}
	nid := e.ecpAnswer(term, body, "_rc1").Assertion.Subject.NameID
	r := e.nimReq(term, "_rc2", nid)
	r.NewID = "P-000123"
	_, resp := e.nimSOAP(t, term, r, true)
	wantNIM(t, resp, samlp.StatusSuccess, "")
	_, body = e.soap(e.browser(&e.Alice), e.ecpRequest(term, "_rc3"))
	if got := e.ecpAnswer(term, body, "_rc3").Assertion.Subject.NameID; got.SPProvidedID != "P-000123" || got.Value != nid.Value {
		t.Fatalf("next NameID %+v", got)
	}

	t.Run("fail/identifier-of-another-principal", func(t *testing.T) {
		must(t, e.db.CreateFederation(ctx, store.Federation{PrincipalID: "p-bob", ProviderID: terminalID, NameID: "bob-at-terminal",
			SPProvidedID: "P-000999", Created: e.now}))
		// The ECP login above allows one more enrolment.
		r := e.nimReq(term, "_rc4", nid)
		r.NewID = "P-000999"
		_, resp := e.nimSOAP(t, term, r, true)
		wantNIM(t, resp, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
	t.Run("fail/oversized-body", func(t *testing.T) {
		status, _ := e.postSOAP(t, []byte(strings.Repeat(" ", DefaultMaxBody+10)))
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("HTTP %d, want 413", status)
		}
	})
	t.Run("fail/not-a-nim-request", func(t *testing.T) {
		if status, _ := e.postSOAP(t, e.ecpRequest(term, "_rc5")); status != http.StatusInternalServerError {
			t.Fatalf("HTTP %d, want a SOAP fault", status)
		}
	})
}
