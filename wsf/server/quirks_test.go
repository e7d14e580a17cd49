package server

import (
	"crypto"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// zxidStyle says how craftSigned deviates from what Renkei signs, the way
// ZXID 1.43 does (IDWSF2 §11 item 18).
type zxidStyle struct {
	sha1            bool // rsa-sha1 and sha1 digests
	enveloped       bool // enveloped-signature then exc-c14n on every reference
	unqualifiedBody bool // S:Body id="BDY" instead of wsu:Id
}

// craftSigned signs a Bearer-free ClientTLS:SAMLV2 request with the
// shared XML-DSig core directly, so that it can deviate like ZXID.
func craftSigned(t *testing.T, f *fixture, r req, st zxidStyle) []byte {
	t.Helper()
	env := f.build(r)
	sec, _ := env.Security()
	sec.AddChild(xmlsec.DetachCopy(r.token))
	str := sec.CreateElement("wsse:SecurityTokenReference")
	str.CreateAttr("wsu:Id", wsf.IDTokenReference)
	ki := str.CreateElement("wsse:KeyIdentifier")
	ki.CreateAttr("ValueType", wsf.ValueTypeSAMLID)
	ki.SetText("_tok1")
	sec.AddChild(wsf.Timestamp{Created: f.now}.Element())
	if st.unqualifiedBody {
		env.Body.RemoveAttr("wsu:Id")
		env.Body.CreateAttr("id", wsf.IDBody)
	}
	si := &xmlsec.SignedInfo{Method: method(t, st.sha1)}
	for _, part := range append(signedBlocks(env), str, sec.SelectElement("wsu:Timestamp"), env.Body) {
		si.References = append(si.References, reference(t, part, st))
	}
	sig, err := xmlsec.NewSignature(nil, wsftest.Keys(t).WSC.Key, si, nil)
	if err != nil {
		t.Fatal(err)
	}
	sec.AddChild(sig)
	b, err := env.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func method(t *testing.T, sha1 bool) xmlsec.SignatureMethod {
	uri := xmlsec.RSASHA256
	if sha1 {
		uri = xmlsec.RSASHA1
	}
	m, err := xmlsec.Policy{AllowSHA1: true}.SignatureMethod(uri)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func signedBlocks(env *wsf.Envelope) []*etree.Element {
	var out []*etree.Element
	for _, b := range env.Header.ChildElements() {
		if !wire.Is(b, wsf.NSWSSE, "Security") {
			out = append(out, b)
		}
	}
	return out
}

func reference(t *testing.T, el *etree.Element, st zxidStyle) xmlsec.Reference {
	id, ok := wire.AttrNS(el, wsf.NSWSU, "Id")
	if !ok {
		id, _ = wire.Attr(el, "id")
	}
	r := xmlsec.Reference{URI: "#" + id, Transforms: []string{xmlsec.ExcC14N}, Digest: crypto.SHA256}
	if st.enveloped {
		r.Transforms = []string{xmlsec.EnvelopedSignature, xmlsec.ExcC14N}
	}
	if st.sha1 {
		r.Digest = crypto.SHA1
	}
	if err := r.Compute(el, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestQuirkProfiles checks each item of wsf.Profile (IDWSF2 §11): the
// strict profile refuses the deviation with the fault given, the profile
// with only that item set accepts it.
func TestQuirkProfiles(t *testing.T) {
	k := wsftest.Keys(t)
	for _, tc := range []struct {
		name    string
		relaxed wsf.Profile
		body    func(f *fixture) []byte
		client  bool
		fault   wsf.FaultCode
		code    wsf.Code
	}{
		{"item18-sha1", wsf.Profile{AllowSHA1: true}, func(f *fixture) []byte {
			return craftSigned(t, f, hok(f, nil), zxidStyle{sha1: true})
		}, true, wsf.FaultUnsupportedAlgorithm, wsf.InappropriateCredentials},
		{"item18-enveloped-transform-on-detached-references", wsf.Profile{DetachedEnveloped: true}, func(f *fixture) []byte {
			return craftSigned(t, f, hok(f, nil), zxidStyle{enveloped: true})
		}, true, wsf.FaultFailedCheck, wsf.InappropriateCredentials},
		{"item18-unqualified-body-id", wsf.Profile{UnqualifiedID: true}, func(f *fixture) []byte {
			return craftSigned(t, f, hok(f, nil), zxidStyle{unqualifiedBody: true})
		}, true, wsf.FaultFailedCheck, wsf.InappropriateCredentials},
		{"item18-unrelated-duplicate-ids", wsf.Profile{LenientSchema: true, UnrelatedDuplicateIDs: true}, func(f *fixture) []byte {
			r := hok(f, nil)
			r.payload = duplicateIDPayload()
			return craftSigned(t, f, r, zxidStyle{})
		}, true, wsf.FaultFailedCheck, wsf.InappropriateCredentials},
		{"item18-bearer", wsf.Profile{AllowBearer: true}, func(f *fixture) []byte {
			return f.request(req{mech: wsf.TLSBearer, token: f.hokToken(wsftest.TokenSpec{Method: saml.CMBearer})})
		}, false, wsf.FaultClient, wsf.InappropriateCredentials},
		{"item9-bearer-token-without-confirmation", wsf.Profile{AllowBearer: true, BearerWithoutConfirmation: true}, func(f *fixture) []byte {
			return f.request(req{mech: wsf.TLSBearer, token: f.hokToken(wsftest.TokenSpec{NoConfirm: true})})
		}, false, wsf.FaultInvalidSecurityToken, wsf.InappropriateCredentials},
		{"item19-unsigned-bearer-without-timestamp", wsf.Profile{AllowBearer: true, UnsignedBearer: true}, func(f *fixture) []byte {
			return unsignedBearer(t, f)
		}, false, wsf.FaultInvalidSecurity, wsf.InappropriateCredentials},
		{"item16-lenient-schema", wsf.Profile{LenientSchema: true}, func(f *fixture) []byte {
			return f.request(hok(f, func(e *wsf.Envelope) {
				e.Header.SelectElement("wsa:ReplyTo").CreateAttr("notOnOrAfter", "2037-01-05T23:03:59Z")
			}))
		}, true, wsf.FaultClient, wsf.IDStarMsgNotUnderstood},
		{"item15-usage-directive-without-ref", wsf.Profile{LenientSchema: true, UsageDirectiveWithoutRef: true}, func(f *fixture) []byte {
			r := hok(f, nil)
			r.header = func(h *wsf.Header) { h.UsageDirectives = []wsf.UsageDirective{{Policies: []*etree.Element{purpose()}}} }
			return f.request(r)
		}, true, wsf.FaultClient, wsf.IDStarMsgNotUnderstood},
	} {
		t.Run("fail/strict/"+tc.name, func(t *testing.T) {
			strict := wsf.Profile{}
			if tc.name == "item9-bearer-token-without-confirmation" || tc.name == "item19-unsigned-bearer-without-timestamp" {
				strict = wsf.Profile{AllowBearer: true} // the item itself is what is missing
			}
			if tc.name == "item15-usage-directive-without-ref" || tc.name == "item18-unrelated-duplicate-ids" {
				strict = wsf.Profile{LenientSchema: true} // past the schema (xs:ID, xs:IDREF), the rule itself
			}
			f := newFixture(t, strict)
			f.wantFault(f.receive(tc.body(f), clientCert(k.WSC.Cert, tc.client)), tc.fault, tc.code)
		})
		t.Run("ok/relaxed/"+tc.name, func(t *testing.T) {
			f := newFixture(t, tc.relaxed)
			f.wantOK(f.receive(tc.body(f), clientCert(k.WSC.Cert, tc.client)))
		})
	}
}

func clientCert[T any](c *T, use bool) *T {
	if use {
		return c
	}
	return nil
}

// duplicateIDPayload carries two unsigned-alike elements with one ID
// inside the Body, as ZXID's EPRs do; no Reference names that ID.
func duplicateIDPayload() *etree.Element {
	q := queryPayload()
	for i := 0; i < 2; i++ {
		x := q.CreateElement("x:Note")
		x.CreateAttr("xmlns:x", "urn:renkei:test:note")
		x.CreateAttr("xmlns:wsu", wsf.NSWSU)
		x.CreateAttr("wsu:Id", "EPRID92lFPo3ZNEt")
	}
	return q
}

func purpose() *etree.Element {
	p := etree.NewElement("p:Purpose")
	p.CreateAttr("xmlns:p", "urn:renkei:test:purpose")
	p.SetText("treatment")
	return p
}

// unsignedBearer is a Bearer request as Lasso sends it: the token and no
// signature, no Timestamp.
func unsignedBearer(t *testing.T, f *fixture) []byte {
	env := f.build(req{})
	sec, _ := env.Security()
	sec.AddChild(xmlsec.DetachCopy(f.hokToken(wsftest.TokenSpec{Method: saml.CMBearer})))
	b, err := env.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNamedProfiles: the ZXID preset takes a message signed the way ZXID
// signs (rsa-sha1, enveloped transforms, Body id="BDY"), the Lasso preset
// an unsigned Bearer request without Timestamp; strict takes neither.
func TestNamedProfiles(t *testing.T) {
	k := wsftest.Keys(t)
	zxid := func(f *fixture) []byte {
		return craftSigned(t, f, hok(f, nil), zxidStyle{sha1: true, enveloped: true, unqualifiedBody: true})
	}
	for _, tc := range []struct {
		name    string
		profile wsf.Profile
		body    func(*fixture) []byte
		client  bool
		ok      bool
	}{
		{"ok/zxid-preset-zxid-signature", wsf.ZXID, zxid, true, true},
		{"fail/strict-zxid-signature", wsf.Strict, zxid, true, false},
		{"ok/lasso-preset-unsigned-bearer", wsf.Lasso, func(f *fixture) []byte { return unsignedBearer(t, f) }, false, true},
		{"fail/zxid-preset-unsigned-bearer", wsf.ZXID, func(f *fixture) []byte { return unsignedBearer(t, f) }, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.profile)
			resp := f.receive(tc.body(f), clientCert(k.WSC.Cert, tc.client))
			if tc.ok {
				f.wantOK(resp)
			} else if resp.Fault == nil || f.calls.Load() != 0 {
				t.Fatalf("accepted under %s", tc.profile.Name)
			}
		})
	}
}
