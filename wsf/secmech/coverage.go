package secmech

import (
	"errors"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
	"github.com/renkei-idwsf/renkei/xmlsec/wss"
)

// verifySignature checks the WS-Security signature with the sender's
// metadata keys and the algorithm policy of its profile (xmlsec/wss), then
// that it covers every part IDWSF2 §2.4 requires (wss.CheckCoverage: S:Body,
// the Timestamp, every sb, sbf and wsa block, reference parameters, token
// references) and the token.
//
// Under the sender's UnreferencedToken profile item an unreferenced
// token is let through with unreferenced set; VerifyToken then accepts it
// only when the signature is by the key it confirms.
func verifySignature(in *Inbound, sh *wsf.SecurityHeader, token *etree.Element) (ver *wss.Verified, unreferenced bool, err error) {
	prof := in.Sender.Profile
	v := &wss.Verifier{Trust: in.Sender.Keys, Policy: prof.Policy(), AllowUnqualifiedID: prof.UnqualifiedID}
	root := in.Envelope.Doc.Root()
	if ver, err = v.Verify(root); err != nil {
		return nil, false, err
	}
	if err := wss.CheckCoverage(root, ver); err != nil {
		return nil, false, err
	}
	err = coversToken(ver, sh, token)
	if err != nil && prof.UnreferencedToken && errors.Is(err, xmlsec.ErrReference) {
		return ver, true, nil
	}
	return ver, false, err
}

// coveredBlocks returns the blocks with each understood one replaced by
// its verified copy: what is decoded afterwards is only what was signed.
func coveredBlocks(in *Inbound, ver *wss.Verified) ([]wsf.Block, error) {
	out := make([]wsf.Block, 0, len(in.Blocks))
	for _, b := range in.Blocks {
		if !b.Known || wire.Is(b.Element, wsf.NSWSSE, "Security") {
			out = append(out, b)
			continue
		}
		c := verifiedCopy(ver, b.Element)
		if c == nil {
			return nil, xmlsec.Errorf(xmlsec.KindReference, "%s is not covered by the signature", wire.Name(b.Element))
		}
		out = append(out, wsf.Block{Element: c, Known: true})
	}
	return out, nil
}

// verifiedCopy returns the verified copy of el, an element of the
// verified envelope, or nil.
func verifiedCopy(ver *wss.Verified, el *etree.Element) *etree.Element {
	if !ver.Covers(el) {
		return nil
	}
	for i := range ver.Parts {
		p := &ver.Parts[i]
		if p.Place == wss.PlaceHeader && p.Local == el.Tag && p.Space == el.NamespaceURI() && matchesID(el, p.ID) {
			return p.Element
		}
	}
	return nil
}

func matchesID(el *etree.Element, id string) bool {
	for _, a := range el.Attr {
		if a.Value == id && (a.Key == "Id" || a.Key == "ID" || a.Key == "id") {
			return true
		}
	}
	return false
}

// coversToken requires a saml:Assertion token to be signed itself or
// through a signed SecurityTokenReference whose KeyIdentifier names it
// ("the token reference", IDWSF2 §2.4). An EncryptedAssertion (Bearer
// only) has no ID to name and is not required.
func coversToken(ver *wss.Verified, sh *wsf.SecurityHeader, token *etree.Element) error {
	if token == nil || !wire.Is(token, wsf.NSSAML, "Assertion") {
		return nil
	}
	if ver.Covers(token) {
		return nil
	}
	id, _ := wire.Attr(token, "ID")
	for _, str := range sh.TokenReferences {
		if ver.Covers(str) && id != "" && strKeyIdentifier(str) == id {
			return nil
		}
	}
	return xmlsec.Errorf(xmlsec.KindReference, "token %q is not covered by the signature", id)
}

// strKeyIdentifier returns the SAMLID KeyIdentifier of a
// SecurityTokenReference, or "".
func strKeyIdentifier(str *etree.Element) string {
	for _, k := range wire.Children(str, wsf.NSWSSE, "KeyIdentifier") {
		if vt, _ := wire.Attr(k, "ValueType"); vt != wsf.ValueTypeSAMLID {
			continue
		}
		if v, err := wire.Text(k); err == nil {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
