package idp

import (
	"net/http"
	"testing"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

func (e *ssoEnv) mapRequest(sp *testSP, id string, nid *saml.NameID, target string, allowCreate bool) *samlp.NameIDMappingRequest {
	return &samlp.NameIDMappingRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: e.now,
		Destination: e.mainURL + PathNameIDMapping, Issuer: &saml.Issuer{Value: sp.ID}}, NameID: nid,
		Policy: samlp.NameIDPolicy{Format: saml.NameIDPersistent, SPNameQualifier: target, AllowCreate: allowCreate}}
}

// askMapping sends r signed and returns the IdP's verified answer.
func (e *ssoEnv) askMapping(t testing.TB, sp *testSP, r *samlp.NameIDMappingRequest) *samlp.NameIDMappingResponse {
	t.Helper()
	status, body := e.query(t, PathNameIDMapping, sp, r, true)
	if status != http.StatusOK {
		t.Fatalf("HTTP %d", status)
	}
	resp, _, err := samlp.VerifyNameIDMappingResponse(body, e.verifier)
	must(t, err)
	if resp.InResponseTo != r.ID || resp.Issuer.Value != idpID {
		t.Fatalf("response header %+v", resp.StatusResponseHeader)
	}
	return resp
}

// TestNameIDMapping: an allowed requester gets the principal's NameID at
// the target provider as an EncryptedID only that provider can read, the
// same NameID the target then receives at login (SAML Core §3.8); every
// other request is refused with the status of §3.8.2.
func TestNameIDMapping(t *testing.T) {
	e := newAttrEnv(t)
	sp := e.sps[otherSP]
	nid := e.loginAt(t, otherSP, "_ml1")
	t.Run("ok/encrypted-for-target", func(t *testing.T) {
		resp := e.askMapping(t, sp, e.mapRequest(sp, "_m1", nid, portalID, true))
		wantSAMLStatus(t, resp.Status, samlp.StatusSuccess, "")
		if resp.NameID != nil || resp.EncryptedID == nil {
			t.Fatalf("mapped identifier in clear: %+v", resp)
		}
		if _, err := resp.EncryptedID.Decrypt(decrypter(sp.Key, sp.ID)); err == nil {
			t.Fatal("the requester can read the target's NameID")
		}
		portal := e.sps[portalID]
		got, err := resp.EncryptedID.Decrypt(decrypter(portal.Key, portal.ID))
		must(t, err)
		if got.Format != saml.NameIDPersistent || got.SPNameQualifier != portalID || got.NameQualifier != idpID {
			t.Fatalf("mapped NameID %+v", got)
		}
		if at := e.loginAt(t, portalID, "_ml2"); at.Value != got.Value {
			t.Fatalf("mapped %q, the portal's NameID is %q", got.Value, at.Value)
		}
	})
	t.Run("fail/pair-not-allowed", func(t *testing.T) {
		resp := e.askMapping(t, sp, e.mapRequest(sp, "_m2", nid, legacyID, true))
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
	t.Run("fail/requester-not-listed", func(t *testing.T) {
		resp := e.askMapping(t, e.sps[portalID], e.mapRequest(e.sps[portalID], "_m3", e.loginAt(t, portalID, "_ml3"), otherSP, true))
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
	t.Run("fail/unknown-nameid", func(t *testing.T) {
		bob := e.mapRequest(sp, "_m4", nid, portalID, false)
		bob.NameID = &saml.NameID{Value: "never-issued", Format: saml.NameIDPersistent}
		resp := e.askMapping(t, sp, bob)
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusUnknownPrincipal)
	})
	t.Run("fail/no-spnamequalifier", func(t *testing.T) {
		resp := e.askMapping(t, sp, e.mapRequest(sp, "_m5", nid, "", true))
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy)
	})
	t.Run("fail/target-without-key", func(t *testing.T) {
		resp := e.askMapping(t, sp, e.mapRequest(sp, "_m6", nid, noEncID, true))
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
	t.Run("fail/unsigned", func(t *testing.T) {
		status, body := e.query(t, PathNameIDMapping, sp, e.mapRequest(sp, "_m7", nid, portalID, true), false)
		resp, _, err := samlp.VerifyNameIDMappingResponse(body, e.verifier)
		if status != http.StatusOK || err != nil {
			t.Fatalf("HTTP %d: %v", status, err)
		}
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
}

// TestNameIDMappingNoFederation: without AllowCreate, a target the
// principal has no federation with is InvalidNameIDPolicy (SAML Core
// §3.8.2), and nothing is created.
func TestNameIDMappingNoFederation(t *testing.T) {
	e := newAttrEnv(t)
	sp := e.sps[otherSP]
	nid := e.loginAt(t, otherSP, "_nf1")
	resp := e.askMapping(t, sp, e.mapRequest(sp, "_nf2", nid, portalID, false))
	wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy)
	if fs, err := e.db.Federations(ctx, "p-alice"); err != nil || len(fs) != 1 {
		t.Fatalf("federations %+v, %v", fs, err)
	}
}

// TestQueryMetadata: the IdP's metadata publishes the AttributeService in
// an AttributeAuthorityDescriptor and the NameIDMappingService, both
// SOAP, schema-valid.
func TestQueryMetadata(t *testing.T) {
	e := newAttrEnv(t)
	el, err := e.sso.SignedMetadata(e.now)
	must(t, err)
	doc, err := md.DecodeUnsigned(el)
	must(t, err)
	ed := doc.Entity
	var aa string
	for _, r := range ed.Roles {
		for _, ep := range r.Endpoints {
			if r.Local == "AttributeAuthorityDescriptor" && ep.Local == "AttributeService" && ep.Binding == samlp.BindingSOAP {
				aa = ep.Location
			}
		}
	}
	if aa != e.mainURL+PathAttributeQuery {
		t.Fatalf("AttributeService %q", aa)
	}
	if m := ed.IDPSSO[0].NameIDMapping; len(m) != 1 || m[0].Location != e.mainURL+PathNameIDMapping || m[0].Binding != samlp.BindingSOAP {
		t.Fatalf("NameIDMappingService %+v", m)
	}
	off := newSSOEnv(t, nil).sso.Metadata(e.now)
	if len(off.Roles) != 0 || len(off.IDPSSO[0].NameIDMapping) != 0 {
		t.Fatal("services published while off")
	}
}
