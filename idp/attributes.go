package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"unicode"
	"unicode/utf8"

	"github.com/renkei-idwsf/renkei/saml"
)

// catalogue lists the attributes this IdP can release: the
// friendly name an operator writes in the attribute file and the release
// policy, and the urn:oid: name SPs expect with NameFormat uri (SAML Core
// §8.2.2; the OIDs of inetOrgPerson, RFC 2798 and RFC 4519, eduPerson and
// SCHAC). The set is what the services of this federation ask about a
// citizen: a name to greet them, how to reach them, their language and
// date of birth; nothing of their health, insurance or pension, which
// stays with the institutions.
var catalogue = map[string]string{
	"displayName":       "urn:oid:2.16.840.1.113730.3.1.241",
	"cn":                "urn:oid:2.5.4.3",
	"givenName":         "urn:oid:2.5.4.42",
	"sn":                "urn:oid:2.5.4.4",
	"mail":              "urn:oid:0.9.2342.19200300.100.1.3",
	"telephoneNumber":   "urn:oid:2.5.4.20",
	"postalCode":        "urn:oid:2.5.4.17",
	"preferredLanguage": "urn:oid:2.16.840.1.113730.3.1.39",
	"schacDateOfBirth":  "urn:oid:1.3.6.1.4.1.25178.1.2.3",
}

// AttributeOID returns the urn:oid: name an attribute of the catalogue is
// released under, and whether name is in the catalogue at all.
func AttributeOID(name string) (string, bool) {
	oid, ok := catalogue[name]
	return oid, ok
}

// MaxAttributeValue bounds one attribute value, in bytes of UTF-8.
const MaxAttributeValue = 1024

// AttributeSource finds a principal's attributes, by friendly name of the
// catalogue (AttributeOID). It is kept apart from the relay database, which
// holds no personal data (ARCHITECTURE "The relay DB is the federation
// table"). A principal it does not know has no attributes: nil, no error.
type AttributeSource interface {
	Attributes(ctx context.Context, principalID string) (map[string][]string, error)
}

// FileAttributes is an AttributeSource read from a JSON file the operator
// writes: an object keyed by principal ID, each an object from friendly
// name to its values, e.g. {"p-1": {"displayName": ["山田 太郎"]}}.
type FileAttributes struct {
	byPrincipal map[string]map[string][]string
}

var _ AttributeSource = (*FileAttributes)(nil)

// ReadAttributeFile reads and checks the file: every name in the
// catalogue, every value non-empty UTF-8 without control characters and
// at most MaxAttributeValue bytes. Every problem is reported at once.
func ReadAttributeFile(path string) (*FileAttributes, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]map[string][]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("attribute file %s: %w", path, err)
	}
	var errs []error
	for p, attrs := range m {
		for name, vs := range attrs {
			errs = append(errs, checkAttribute(p, name, vs)...)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("attribute file %s: %w", path, err)
	}
	return &FileAttributes{byPrincipal: m}, nil
}

func checkAttribute(principal, name string, vs []string) []error {
	if _, ok := catalogue[name]; !ok {
		return []error{fmt.Errorf("principal %q: attribute %q is not in the catalogue", principal, name)}
	}
	var errs []error
	for _, v := range vs {
		if err := checkAttributeValue(v); err != nil {
			errs = append(errs, fmt.Errorf("principal %q, %s: %w", principal, name, err))
		}
	}
	return errs
}

func checkAttributeValue(v string) error {
	switch {
	case v == "" || len(v) > MaxAttributeValue:
		return fmt.Errorf("a value of %d bytes, want 1 to %d", len(v), MaxAttributeValue)
	case !utf8.ValidString(v):
		return errors.New("a value is not UTF-8")
	}
	for _, c := range v {
		if unicode.IsControl(c) {
			return fmt.Errorf("a value holds control character %U", c)
		}
	}
	return nil
}

// Attributes returns the principal's attributes from the file.
func (f *FileAttributes) Attributes(_ context.Context, principalID string) (map[string][]string, error) {
	return f.byPrincipal[principalID], nil
}

// AttributeRelease is what the IdP releases to whom: the source of the
// values and, per SP entityID, the friendly names it may receive. An SP
// the policy does not list receives nothing, in its assertions and to its
// AttributeQuery.
type AttributeRelease struct {
	Source AttributeSource
	Policy map[string][]string
}

func (r *AttributeRelease) validate() []error {
	var errs []error
	if r.Source == nil {
		errs = append(errs, errors.New("idp config: Attributes needs a Source"))
	}
	for sp, names := range r.Policy {
		for _, n := range names {
			if _, ok := catalogue[n]; !ok {
				errs = append(errs, fmt.Errorf("idp config: release policy of %q names %q, not in the catalogue", sp, n))
			}
		}
	}
	return errs
}

// releases reports whether the policy lets sp receive any attribute.
func (p *IdP) releases(sp string) bool {
	r := p.cfg.Attributes
	return r != nil && len(r.Policy[sp]) > 0
}

// Release returns the principal's attributes the policy lets sp receive,
// named by their urn:oid: name with NameFormat uri and the friendly name,
// in the order of the policy. With requested non-empty (an AttributeQuery)
// only those are returned, following SAML Core §3.3.2.3: an attribute
// requested without values is returned with all its released values, one
// requested with values only with those of them the principal has.
func (p *IdP) Release(ctx context.Context, principalID, sp string, requested []saml.Attribute) ([]saml.Attribute, error) {
	r := p.cfg.Attributes
	if r == nil {
		return nil, nil
	}
	names := r.Policy[sp]
	if faultOn(FaultReleaseUnlisted) && len(names) == 0 {
		names = catalogueNames()
	}
	if len(names) == 0 {
		return nil, nil
	}
	vals, err := r.Source.Attributes(ctx, principalID)
	if err != nil {
		return nil, Wrap(CodeInternal, err, "attribute source")
	}
	var out []saml.Attribute
	for _, n := range names {
		at, ok := released(n, vals[n], requested)
		if ok {
			out = append(out, at)
		}
	}
	return out, nil
}

// released is the attribute n with values vs, filtered by requested.
func released(n string, vs []string, requested []saml.Attribute) (saml.Attribute, bool) {
	at := saml.Attribute{Name: catalogue[n], NameFormat: saml.AttrNameFormatURI, FriendlyName: n}
	if len(vs) == 0 {
		return at, false
	}
	want, asked := requestedValues(at.Name, requested)
	if len(requested) > 0 && !asked {
		return at, false
	}
	for _, v := range vs {
		if want == nil || slices.Contains(want, v) {
			at.Values = append(at.Values, saml.AttributeValue{Text: v})
		}
	}
	return at, len(at.Values) > 0
}

// requestedValues finds the attribute named oid in a query: a Name with
// NameFormat uri or unspecified (absent) matches. The values are nil when
// it asks for all of them.
func requestedValues(oid string, requested []saml.Attribute) ([]string, bool) {
	for _, q := range requested {
		if q.Name != oid || q.NameFormat != "" && q.NameFormat != saml.AttrNameFormatURI && q.NameFormat != saml.AttrNameFormatUnspecified {
			continue
		}
		var vs []string
		for _, v := range q.Values {
			vs = append(vs, v.Text)
		}
		return vs, true
	}
	return nil, false
}

func catalogueNames() []string {
	out := make([]string, 0, len(catalogue))
	for n := range catalogue {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
