package server

import (
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wss"
)

// signedDoc returns a correctly signed ClientTLS:SAMLV2 request, parsed.
func signedDoc(t *testing.T, f *fixture) *etree.Document {
	t.Helper()
	d, err := xmlsec.Parse(f.request(hok(f, nil)), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func bytesOf(t *testing.T, d *etree.Document) []byte {
	t.Helper()
	b, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func headerBlock(d *etree.Document, tag string) *etree.Element {
	return d.Root().SelectElement("S:Header").SelectElement(tag)
}

// TestWrapping moves signed parts out of the signed set or adds unsigned
// ones; every variant is a signature failure with nothing stored.
func TestWrapping(t *testing.T) {
	k := wsftest.Keys(t)
	for _, tc := range []struct {
		name   string
		mutate func(d *etree.Document)
	}{
		{"fail/signed-to-moved-into-wrapper-new-to-unsigned", func(d *etree.Document) {
			to := headerBlock(d, "wsa:To")
			hdr := to.Parent()
			hdr.RemoveChild(to)
			w := hdr.CreateElement("x:Wrapper")
			w.CreateAttr("xmlns:x", "urn:renkei:test:wrap")
			w.AddChild(to)
			evil := hdr.CreateElement("wsa:To")
			evil.SetText("https://pp.example.org/idwsf/admin")
		}},
		{"fail/signed-to-moved-new-to-reuses-its-id", func(d *etree.Document) {
			to := headerBlock(d, "wsa:To")
			hdr := to.Parent()
			hdr.RemoveChild(to)
			w := hdr.CreateElement("x:Wrapper")
			w.CreateAttr("xmlns:x", "urn:renkei:test:wrap")
			w.AddChild(to)
			evil := hdr.CreateElement("wsa:To")
			evil.CreateAttr("wsu:Id", "TO")
			evil.SetText("https://pp.example.org/idwsf/admin")
		}},
		{"fail/unsigned-header-block-added", func(d *etree.Document) {
			c := headerBlock(d, "wsa:Action").Parent().CreateElement("sb:Consent")
			c.CreateAttr("uri", wsf.ConsentObtained)
		}},
		{"fail/body-replaced-signed-body-in-header", func(d *etree.Document) {
			body := d.Root().SelectElement("S:Body")
			d.Root().RemoveChild(body)
			w := d.Root().SelectElement("S:Header").CreateElement("x:Wrapper")
			w.CreateAttr("xmlns:x", "urn:renkei:test:wrap")
			w.AddChild(body)
			nb := d.Root().CreateElement("S:Body")
			nb.AddChild(queryPayload())
		}},
		{"fail/tampered-signed-action", func(d *etree.Document) {
			headerBlock(d, "wsa:Action").SetText("urn:liberty:dst:2006-08:ref:Delete")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, wsf.Strict, func(c *Config) { c.Schema = noSchema{} })
			d := signedDoc(t, f)
			tc.mutate(d)
			resp := f.receive(bytesOf(t, d), k.WSC.Cert)
			f.wantFault(resp, wsf.FaultFailedCheck, wsf.InappropriateCredentials)
		})
	}
}

// noSchema skips XSD validation so that the wrapping variants reach the
// signature check (several are schema-invalid too).
type noSchema struct{}

func (noSchema) Validate([]byte) error { return nil }

// TestPartlySigned signs only the Body and Timestamp.
func TestPartlySigned(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	env := f.build(hok(f, nil))
	sec, _ := env.Security()
	sec.AddChild(xmlsec.DetachCopy(f.hokToken(wsftest.TokenSpec{})))
	sec.AddChild(wsf.Timestamp{Created: f.now}.Element())
	s := &wss.Signer{Key: k.WSC.Key, KeyRef: wss.SAMLTokenRef("_tok1")}
	signed, err := s.Sign(env.Doc.Root(), env.Body, sec.SelectElement("wsu:Timestamp"))
	if err != nil {
		t.Fatal(err)
	}
	d := etree.NewDocument()
	d.SetRoot(signed)
	f.wantFault(f.receive(bytesOf(t, d), k.WSC.Cert), wsf.FaultFailedCheck, wsf.InappropriateCredentials)
}
