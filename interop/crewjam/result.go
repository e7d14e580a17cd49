package crewjam

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/crewjam/saml"

	"github.com/renkei-idwsf/renkei/internal/browser"
)

// Result is what crewjam accepted from a Response.
type Result struct {
	Issuer       string      `json:"issuer"`
	NameID       string      `json:"nameID"`
	Format       string      `json:"format"`
	InResponseTo string      `json:"inResponseTo"`
	RelayState   string      `json:"relayState"`
	Encrypted    bool        `json:"encrypted"`
	Attributes   []Attribute `json:"attributes"`
	AuthnContext string      `json:"authnContext"`
	SessionIndex string      `json:"sessionIndex"`
}

// Attribute is one saml:Attribute with the text of each value.
type Attribute struct {
	Name       string   `json:"name"`
	NameFormat string   `json:"nameFormat"`
	Values     []string `json:"values"`
}

// Attr returns the attribute named name, or nil.
func (r *Result) Attr(name string) *Attribute {
	for i := range r.Attributes {
		if r.Attributes[i].Name == name {
			return &r.Attributes[i]
		}
	}
	return nil
}

// RefusedError is crewjam refusing a Response; Err is crewjam's private
// cause (InvalidResponseError.PrivateErr), which names the failed check.
type RefusedError struct {
	HTTPStatus int    `json:"-"`
	Err        string `json:"error"`
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("crewjam SP refused the response (HTTP %d): %s", e.HTTPStatus, e.Err)
}

// acs parses the Response with crewjam against the requests this SP
// issued, and answers 200 with the JSON Result or 403 with the error.
func (sp *SP) acs(w http.ResponseWriter, r *http.Request) {
	p, err := sp.provider()
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a, err := p.ParseResponse(r, sp.requestIDs())
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) && ire.PrivateErr != nil {
			err = ire.PrivateErr
		}
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(&RefusedError{Err: err.Error()})
		return
	}
	res := resultOf(a)
	res.RelayState = r.PostFormValue("RelayState")
	res.Encrypted = encrypted(r.PostFormValue("SAMLResponse"))
	json.NewEncoder(w).Encode(res)
}

func resultOf(a *saml.Assertion) *Result {
	res := &Result{Issuer: a.Issuer.Value}
	if s := a.Subject; s != nil {
		if s.NameID != nil {
			res.NameID, res.Format = s.NameID.Value, s.NameID.Format
		}
		for _, c := range s.SubjectConfirmations {
			if c.SubjectConfirmationData != nil {
				res.InResponseTo = c.SubjectConfirmationData.InResponseTo
			}
		}
	}
	for _, st := range a.AuthnStatements {
		res.SessionIndex = st.SessionIndex
		if ref := st.AuthnContext.AuthnContextClassRef; ref != nil {
			res.AuthnContext = ref.Value
		}
	}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			out := Attribute{Name: at.Name, NameFormat: at.NameFormat}
			for _, v := range at.Values {
				out.Values = append(out.Values, v.Value)
			}
			res.Attributes = append(res.Attributes, out)
		}
	}
	return res
}

// encrypted reports whether the raw Response carried an EncryptedAssertion.
func encrypted(samlResponse string) bool {
	raw, err := base64.StdEncoding.DecodeString(samlResponse)
	return err == nil && bytes.Contains(raw, []byte("EncryptedAssertion"))
}

// ParseResult reads the ACS's answer: a *Result on 200, a *RefusedError on
// 403, another error otherwise.
func ParseResult(status int, body []byte) (*Result, error) {
	switch status {
	case http.StatusOK:
		var r Result
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, fmt.Errorf("crewjam SP: result %q: %w", body, err)
		}
		return &r, nil
	case http.StatusForbidden:
		e := &RefusedError{HTTPStatus: status}
		if err := json.Unmarshal(body, e); err == nil && e.Err != "" {
			return nil, e
		}
	}
	return nil, fmt.Errorf("crewjam SP: HTTP %d: %q", status, body)
}

// Login walks one SSO with b from LoginURL to the ACS and returns what
// crewjam accepted; the browser's hops stay in b for assertions.
func (sp *SP) Login(ctx context.Context, b *browser.Browser, binding string, format saml.NameIDFormat, force bool) (*Result, error) {
	page, err := b.Get(ctx, sp.LoginURL(binding, format, force))
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, b)
	}
	return ParseResult(page.Status, page.Body)
}
