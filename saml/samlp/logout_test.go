package samlp

import (
	"crypto/x509"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/golden"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

var pairwise = &saml.NameID{Value: "Zm9vYmFyUGFpcndpc2U", Format: saml.NameIDPersistent,
	NameQualifier: "https://idp.example.org/saml", SPNameQualifier: "https://portal.example.org/saml"}

func sampleLogout() *LogoutRequest {
	return &LogoutRequest{RequestHeader: RequestHeader{ID: "_l1", IssueInstant: t0, Destination: "https://idp.example.org/saml/slo",
		Issuer: &saml.Issuer{Value: "https://portal.example.org/saml"}},
		NotOnOrAfter: t0.Add(5 * time.Minute), Reason: LogoutUser, NameID: pairwise, SessionIndexes: []string{"s1", "s2"}}
}

func sampleManageNameID() *ManageNameIDRequest {
	return &ManageNameIDRequest{RequestHeader: RequestHeader{ID: "_m1", IssueInstant: t0, Destination: "https://idp.example.org/saml/mni-soap",
		Issuer: &saml.Issuer{Value: "https://portal.example.org/saml"}}, NameID: pairwise, NewID: "patient:4711"}
}

func TestLogoutAndManageNameIDGolden(t *testing.T) {
	status := StatusResponseHeader{ID: "_lr1", InResponseTo: "_l1", IssueInstant: t0, Issuer: &saml.Issuer{Value: "https://idp.example.org/saml"},
		Status: NewStatus(StatusResponder, StatusPartialLogout)}
	cases := []struct {
		name   string
		msg    Message
		decode func(*etree.Element) (Message, error)
	}{
		{"logoutrequest", sampleLogout(), func(el *etree.Element) (Message, error) { return DecodeLogoutRequest(el) }},
		{"logoutresponse", &LogoutResponse{StatusResponseHeader: status}, func(el *etree.Element) (Message, error) { return DecodeLogoutResponse(el) }},
		{"managenameid-newid", sampleManageNameID(), func(el *etree.Element) (Message, error) { return DecodeManageNameIDRequest(el) }},
		{"managenameid-terminate", &ManageNameIDRequest{RequestHeader: sampleManageNameID().RequestHeader, NameID: pairwise, Terminate: true},
			func(el *etree.Element) (Message, error) { return DecodeManageNameIDRequest(el) }},
		{"managenameidresponse", &ManageNameIDResponse{StatusResponseHeader: status}, func(el *etree.Element) (Message, error) { return DecodeManageNameIDResponse(el) }},
	}
	for _, tc := range cases {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			b := validate(t, tc.msg.Element())
			golden.Check(t, "TestLogoutAndManageNameIDGolden_"+tc.name+".xml", b)
			got, err := tc.decode(reparse(t, tc.msg.Element()))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tc.msg)
			}
		})
	}
}

func TestDigestExamples(t *testing.T) {
	b, err := os.ReadFile("testdata/TestDigestExamples_logoutrequest.xml")
	if err != nil {
		t.Fatal(err)
	}
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	lr, err := DecodeLogoutRequest(el)
	if err != nil || lr.NameID.Value != "Zm9vYmFyUGFpcndpc2U" || lr.SessionIndexes[0] != "_sess-7c1e" || lr.Reason != LogoutUser {
		t.Fatalf("logout: %v %+v", err, lr)
	}
	b, err = os.ReadFile("testdata/TestDigestExamples_managenameid-soap.xml")
	if err != nil {
		t.Fatal(err)
	}
	env, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeManageNameIDRequest(env.FindElement("Body").ChildElements()[0])
	if err != nil || m.NewID != "portal-user-4711" || m.NameID.SPNameQualifier != "https://portal.example.org/saml" {
		t.Fatalf("manage name id: %v %+v", err, m)
	}
}

func TestLogoutSignVerify(t *testing.T) {
	p := pki.MustGet()
	s := &dsig.Signer{Key: p.P256.Key, Certificates: []*x509.Certificate{p.P256.Cert}}
	v := &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{p.P256.Cert})}
	el, err := Sign(sampleLogout(), s)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, el)
	checkSignatureAfterIssuer(t, el)
	if r, _, err := VerifyLogoutRequest(el, v); err != nil || !r.Signed {
		t.Fatalf("logout: %v", err)
	}
	mel, err := Sign(sampleManageNameID(), s)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := VerifyLogoutRequest(mel, v); !errors.Is(err, xmlsec.ErrMalformed) {
		t.Fatalf("fail/wrong-message: %v", err)
	}
	mel.FindElement("NewID").SetText("patient:4712")
	if _, _, err := VerifyManageNameIDRequest(mel, v); !errors.Is(err, xmlsec.ErrDigest) {
		t.Fatalf("fail/tampered-newid: %v", err)
	}
}

func TestLogoutAndManageNameIDFailures(t *testing.T) {
	cases := []struct {
		name   string
		build  func() *etree.Element
		decode func(*etree.Element) error
	}{
		{"fail/logout-no-identifier", func() *etree.Element { r := sampleLogout(); r.NameID = nil; return r.Element() }, decodeLogout},
		{"fail/logout-baseid", func() *etree.Element {
			el := sampleLogout().Element()
			el.InsertChildAt(firstChild(el, saml.NS, "NameID").Index(), etree.NewElement("saml:BaseID"))
			return el
		}, decodeLogout},
		{"fail/logout-two-identifiers", func() *etree.Element {
			el := sampleLogout().Element()
			n := firstChild(el, saml.NS, "NameID")
			el.InsertChildAt(n.Index(), n.Copy())
			return el
		}, decodeLogout},
		{"fail/logout-sessionindex-before-nameid", func() *etree.Element {
			el := sampleLogout().Element()
			n := firstChild(el, saml.NS, "NameID")
			el.RemoveChild(n)
			el.AddChild(n)
			return el
		}, decodeLogout},
		{"fail/managenameid-no-change", func() *etree.Element {
			el := sampleManageNameID().Element()
			el.RemoveChild(firstChild(el, NS, "NewID"))
			return el
		}, decodeManage},
		{"fail/managenameid-newid-and-terminate", func() *etree.Element {
			el := sampleManageNameID().Element()
			el.CreateElement("samlp:Terminate")
			return el
		}, decodeManage},
		{"fail/managenameid-empty-newid", func() *etree.Element { r := sampleManageNameID(); r.NewID = ""; return r.Element() }, decodeManage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.decode(reparse(t, tc.build())); !errors.Is(err, xmlsec.ErrMalformed) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func decodeLogout(el *etree.Element) error {
	_, err := DecodeLogoutRequest(el)
	return err
}

func decodeManage(el *etree.Element) error {
	_, err := DecodeManageNameIDRequest(el)
	return err
}

// TestLogoutCheckWindow: a participant accepts a LogoutRequest issued
// within the skew and its lifetime, until NotOnOrAfter, and remembers its
// ID as long as it could be accepted.
func TestLogoutCheckWindow(t *testing.T) {
	const skew, life = time.Minute, 5 * time.Minute
	r := sampleLogout() // IssueInstant t0, NotOnOrAfter t0+5m
	for _, c := range []struct {
		name string
		now  time.Time
		want error
	}{
		{"ok/at-issue", t0, nil},
		{"ok/issued-ahead-within-skew", t0.Add(-skew), nil},
		{"fail/issued-ahead-past-skew", t0.Add(-skew - time.Second), ErrNotYetValid},
		{"fail/not-on-or-after-passed", t0.Add(5*time.Minute + skew), ErrExpired},
	} {
		t.Run(c.name, func(t *testing.T) {
			until, err := r.CheckWindow(c.now, skew, life)
			if !errors.Is(err, c.want) || c.want != nil && err == nil {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if err == nil && !until.Equal(t0.Add(life+skew)) {
				t.Fatalf("remember until %v, want %v", until, t0.Add(life+skew))
			}
		})
	}
	t.Run("fail/stale-without-not-on-or-after", func(t *testing.T) {
		old := sampleLogout()
		old.NotOnOrAfter = time.Time{}
		if _, err := old.CheckWindow(t0.Add(life+skew+time.Second), skew, life); !errors.Is(err, ErrExpired) {
			t.Fatalf("err %v, want ErrExpired", err)
		}
	})
}
