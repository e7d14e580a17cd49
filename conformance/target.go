package conformance

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// MaxMetadata bounds the metadata document a target is read from.
const MaxMetadata = 4 << 20

// Target is the implementation under test, known by its metadata. The
// operator names the metadata (a URL or a file): that choice is the trust
// decision, so it is decoded without a signature check; the metadata cases
// judge its signature separately.
type Target struct {
	Source  string // the URL or file name given
	Raw     []byte
	Element *etree.Element
	Entity  *md.EntityDescriptor
	IDP     *md.IDPSSODescriptor // nil when the entity has no SAML 2.0 IdP role
	Anchors []*x509.Certificate  // operator keys the metadata signature may also be checked with
}

// LoadTarget reads the metadata at src, an http(s) URL fetched with client
// (nil means http.DefaultClient) or a file name, and decodes its single
// EntityDescriptor.
func LoadTarget(ctx context.Context, src string, client *http.Client) (*Target, error) {
	raw, err := readSource(ctx, src, client)
	if err != nil {
		return nil, err
	}
	return ParseTarget(src, raw)
}

// ParseTarget decodes metadata bytes already read from src.
func ParseTarget(src string, raw []byte) (*Target, error) {
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{MaxBytes: MaxMetadata})
	if err != nil {
		return nil, fmt.Errorf("conformance: metadata %s: %w", src, err)
	}
	d, err := md.DecodeUnsigned(doc.Root())
	if err != nil {
		return nil, fmt.Errorf("conformance: metadata %s: %w", src, err)
	}
	if d.Entity == nil {
		return nil, fmt.Errorf("conformance: metadata %s: an EntitiesDescriptor; give the target's own EntityDescriptor", src)
	}
	t := &Target{Source: src, Raw: raw, Element: doc.Root(), Entity: d.Entity}
	if idp, err := d.Entity.IDP(); err == nil {
		t.IDP = idp
	}
	return t, nil
}

func readSource(ctx context.Context, src string, client *http.Client) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("conformance: metadata: %w", err)
		}
		defer f.Close()
		return readBounded(f, src)
	}
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("conformance: metadata: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("conformance: metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("conformance: metadata %s: HTTP %d", src, resp.StatusCode)
	}
	return readBounded(resp.Body, src)
}

func readBounded(r io.Reader, src string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxMetadata+1))
	if err != nil {
		return nil, fmt.Errorf("conformance: metadata %s: %w", src, err)
	}
	if len(b) > MaxMetadata {
		return nil, fmt.Errorf("conformance: metadata %s: larger than %d bytes", src, MaxMetadata)
	}
	return b, nil
}
