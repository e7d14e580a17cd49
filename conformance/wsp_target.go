package conformance

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// WSPTarget is a WSP under test, serving one service type of the
// federation's catalog (wsf/dst), described so that the suite can play
// every party around it: the Discovery Service whose tokens the WSP
// trusts (IDWSF2 §3.4 items 3-4: the WSP's metadata names it as its DS,
// a token issuer), the WSC that presents them, and another WSC whose key
// a token can be bound to. The suite mints every token itself, as a DS
// mints them (secmech.Minter): signed with the DS's key, the subject a
// saml:EncryptedID for the WSP whose SPProvidedID is the principal's
// local identifier at the institution (ARCHITECTURE "Tokens from the
// DS"), holder-of-key bound to the WSC's key.
type WSPTarget struct {
	EntityID string
	Keys     []*x509.Certificate // the WSP's metadata signing keys
	Address  string              // its SOAP endpoint for ServiceType
	// Encryption is the WSP's encryption key from its metadata, which
	// every token's subject is encrypted for.
	Encryption xmlenc.Recipient
	// ServiceType is the service type under test; Items the item types
	// the WSP serves of it, nil for every one the catalog lists.
	ServiceType string
	Items       []string
	// DS is the token issuer; NameQualifier qualifies the subjects'
	// NameIDs, "" meaning DS.EntityID.
	DS            Party
	NameQualifier string
	// WSC is the suite's consumer, in the WSP's metadata; OtherWSC another
	// consumer the WSP knows, whose certificate a token can be bound to
	// (its key is not needed).
	WSC      Party
	OtherWSC Party
	// Subject is a principal the back office knows; UnknownSubject a local
	// identifier it does not.
	Subject        WSPSubject
	UnknownSubject string
	// Write, when set, is what the write cases create; nil skips them.
	Write *WSPWrite
}

// WSPSubject is a principal as the WSP's tokens name it: the local
// identifier (SPProvidedID) and the pairwise NameID value.
type WSPSubject struct {
	LocalID string `json:"localID"`
	NameID  string `json:"nameID,omitempty"`
}

// WSPWrite describes the write cases' fixtures for the subject: Item, an
// item type the service creates, with the input fields Values, which the
// back office accepts, and Refused, which it refuses for its own data.
// For an appointment WSP: {"Appointment", {"Slot": an open slot's id},
// {"Slot": a full slot's id}}.
type WSPWrite struct {
	Item    string            `json:"item"`
	Values  map[string]string `json:"values"`
	Refused map[string]string `json:"refused"`
}

// defaultNameID is the subject's NameID value when the description gives
// none: the WSP addresses its back office by the SPProvidedID.
const defaultNameID = "conformance-subject"

// service is the catalog's entry of the service type under test.
func (t *WSPTarget) service() *dst.Service { return dst.Lookup(t.ServiceType) }

// items are the item types under test.
func (t *WSPTarget) items() []string {
	if len(t.Items) > 0 {
		return t.Items
	}
	var out []string
	for _, it := range t.service().Items {
		out = append(out, it.Name)
	}
	return out
}

// Validate reports every problem of the description at once.
func (t *WSPTarget) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if t.EntityID == "" || t.Address == "" || len(t.Keys) == 0 {
		add("the WSP needs an entityID, an address and signing keys")
	}
	if _, ok := encryptionKey(t.Encryption); !ok {
		add("the WSP needs an RSA encryption key (its metadata's) for the tokens' subjects")
	}
	svc := t.service()
	if svc == nil {
		add("service type %q is not one of the federation's catalog", t.ServiceType)
	}
	for name, p := range map[string]Party{"ds": t.DS, "wsc": t.WSC} {
		if p.EntityID == "" || p.Key == nil || p.Cert == nil {
			add("%s needs an entityID, a key and a certificate", name)
		}
	}
	if t.OtherWSC.EntityID == "" || t.OtherWSC.Cert == nil || t.OtherWSC.EntityID == t.WSC.EntityID {
		add("otherWSC needs an entityID other than the WSC's and a certificate")
	}
	if t.Subject.LocalID == "" || t.UnknownSubject == "" || t.Subject.LocalID == t.UnknownSubject {
		add("a subject's local identifier and another, unknown one are required")
	}
	if svc == nil {
		return errors.Join(errs...)
	}
	for _, it := range t.Items {
		if svc.Item(it) == nil {
			add("items: %s has no item type %q", t.ServiceType, it)
		}
	}
	if w := t.Write; w != nil {
		it := svc.Item(w.Item)
		switch {
		case it == nil || !it.Create:
			add("write: %s offers no Create of %q", t.ServiceType, w.Item)
		case len(w.Values) == 0 || len(w.Refused) == 0:
			add("write: values and refused values are required")
		}
		for _, name := range slices.Concat(slices.Collect(maps.Keys(w.Values)), slices.Collect(maps.Keys(w.Refused))) {
			if it != nil && (it.Field(name) == nil || !it.Field(name).Input) {
				add("write: %q is not an input field of %s", name, w.Item)
			}
		}
	}
	return errors.Join(errs...)
}

func encryptionKey(r xmlenc.Recipient) (*rsa.PublicKey, bool) {
	if r.Cert != nil {
		k, ok := r.Cert.PublicKey.(*rsa.PublicKey)
		return k, ok
	}
	return r.Key, r.Key != nil
}

// nameID is the subject as the WSP's tokens name it, with local as its
// SPProvidedID ("" for none).
func (t *WSPTarget) nameID(value, local string) *saml.NameID {
	if value == "" {
		value = defaultNameID
	}
	nq := t.NameQualifier
	if nq == "" {
		nq = t.DS.EntityID
	}
	return &saml.NameID{Value: value, Format: saml.NameIDPersistent, NameQualifier: nq, SPNameQualifier: t.EntityID, SPProvidedID: local}
}

// WSFTarget returns the WSP as the generic ID-WSF cases see it: the
// operation they send is a DST Query of every item of the first item type
// under test, for the subject; variants differ in the itemID, so that the
// replay case's two bodies differ.
func (t *WSPTarget) WSFTarget() *WSFTarget {
	svc := t.service()
	return &WSFTarget{EntityID: t.EntityID, Keys: t.Keys, Address: t.Address, Action: svc.Action("Query"),
		Payload: func(variant int) *etree.Element {
			return svc.QueryElement(&dst.Query{Items: []dst.QueryItem{queryItem(fmt.Sprintf("q%d", variant), t.sel(dst.Select{Item: t.items()[0]}))}})
		}}
}

// WSCForWSF returns the suite's WSC for the generic ID-WSF cases: tokens
// minted as the DS mints them, naming the subject.
func (t *WSPTarget) WSCForWSF() *WSC {
	to := t.Encryption
	return &WSC{EntityID: t.WSC.EntityID, Key: t.WSC.Key, Cert: t.WSC.Cert, IssuerID: t.DS.EntityID,
		IssuerKey: t.DS.Key, IssuerCert: t.DS.Cert, Subject: t.nameID(t.Subject.NameID, t.Subject.LocalID), Encryption: &to}
}

// peer is the WSP as the suite's clients trust it.
func (t *WSPTarget) peer() *wsf.Peer { return wsf.NewPeer(t.EntityID, t.Keys...) }

// wspFile is the JSON "wsp target" file of the command line: key files
// are PEM bundles (a private key and its certificate) named relative to
// the file; metadata is the WSP's metadata (URL or file) its signing and
// encryption keys come from, and its address when none is given.
type wspFile struct {
	EntityID       string     `json:"entityID"`
	Address        string     `json:"address,omitempty"`
	Metadata       string     `json:"metadata"`
	ServiceType    string     `json:"serviceType"`
	Items          []string   `json:"items,omitempty"`
	NameQualifier  string     `json:"nameQualifier,omitempty"`
	DS             partyFile  `json:"ds"`
	WSC            partyFile  `json:"wsc"`
	OtherWSC       partyFile  `json:"otherWSC"`
	Subject        WSPSubject `json:"subject"`
	UnknownSubject string     `json:"unknownSubject"`
	Write          *WSPWrite  `json:"write,omitempty"`
}

// LoadWSPTarget reads a wsp target file and the files it names; the
// WSP's metadata is fetched with client when it is a URL.
func LoadWSPTarget(ctx context.Context, name string, client *http.Client) (*WSPTarget, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var f wspFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("conformance: wsp target %s: %w", name, err)
	}
	dir := filepath.Dir(name)
	md, err := LoadTarget(ctx, relTo(dir, f.Metadata), client)
	if err != nil {
		return nil, err
	}
	t := &WSPTarget{EntityID: f.EntityID, Keys: signingKeys(md), Address: f.Address, ServiceType: f.ServiceType, Items: f.Items,
		NameQualifier: f.NameQualifier, Subject: f.Subject, UnknownSubject: f.UnknownSubject, Write: f.Write}
	if t.EntityID == "" {
		t.EntityID = md.Entity.EntityID
	}
	var errs []error
	load := func(p partyFile, certOnly bool) Party {
		out, err := p.load(dir, certOnly)
		errs = append(errs, err)
		return out
	}
	t.DS, t.WSC, t.OtherWSC = load(f.DS, false), load(f.WSC, false), load(f.OtherWSC, true)
	errs = append(errs, t.fromMetadata(md))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("conformance: wsp target %s: %w", name, err)
	}
	return t, t.Validate()
}

// fromMetadata takes the WSP's encryption key from its metadata and,
// unless the file gave one, the SOAP endpoint its ID-WSF web service role
// lists for the service type.
func (t *WSPTarget) fromMetadata(md *Target) error {
	var found bool
	for _, r := range md.Entity.Roles {
		if to, err := r.EncryptionRecipient(t.EntityID); err == nil && !found {
			t.Encryption, found = to, true
		}
		w, err := metadir.DecodeWebService(r)
		if err == nil && t.Address == "" && w.Offers(t.ServiceType) && len(w.Endpoints) > 0 {
			t.Address = w.Endpoints[0]
		}
	}
	if !found {
		return fmt.Errorf("metadata %s lists no encryption key for %s", md.Source, t.EntityID)
	}
	return nil
}
