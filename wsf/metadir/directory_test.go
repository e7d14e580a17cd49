package metadir_test

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

var (
	ctx = context.Background()
	now = time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC)
)

const (
	dsAddr  = "https://idp.example.org/disco/soap"
	wspAddr = "https://pp.example.org/wsp/soap"
	svcLab  = "urn:renkei:svc:clinical:1.0"
	// shortID is a WSP whose entity is valid for an hour only.
	shortID = "https://short.example.org/wsp"
)

func signing(c *x509.Certificate) md.KeyDescriptor {
	return md.KeyDescriptor{Use: md.UseSigning, Certificates: []*x509.Certificate{c}}
}

func encryption(c *x509.Certificate) md.KeyDescriptor {
	return md.KeyDescriptor{Use: md.UseEncryption, Certificates: []*x509.Certificate{c},
		EncryptionMethods: []string{xmlenc.RSAOAEP}}
}

// aggregate is the test federation's metadata: the IdP (SSO role), the
// DS and the WSP (web service roles), the WSC (SP role, no encryption
// key) and a WSP valid for an hour.
func aggregate(t testing.TB) *md.EntitiesDescriptor {
	k := wsftest.Keys(t)
	idp := &md.IDPSSODescriptor{SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
		Keys: []md.KeyDescriptor{signing(k.IdP.Cert)}}},
		SingleSignOn: []md.Endpoint{{Binding: md.BindingHTTPRedirect, Location: "https://idp.example.org/sso"}}}
	ds := (&metadir.WebService{ServiceTypes: []string{wsf.ServiceTypeDisco}, Endpoints: []string{dsAddr},
		Keys: []md.KeyDescriptor{signing(k.IdP.Cert), encryption(k.Other.Cert)}}).Role()
	wsp := (&metadir.WebService{ServiceTypes: []string{svcLab, "urn:renkei:svc:audit:1.0"}, Endpoints: []string{wspAddr},
		Keys: []md.KeyDescriptor{signing(k.WSP.Cert), encryption(k.WSP.Cert)}}).Role()
	sp := &md.SPSSODescriptor{SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
		Keys: []md.KeyDescriptor{signing(k.WSC.Cert)}}},
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: md.BindingHTTPPOST, Location: "https://portal.example.org/acs"}}}}
	short := (&metadir.WebService{ServiceTypes: []string{svcLab}, Endpoints: []string{"https://short.example.org/soap"},
		Keys: []md.KeyDescriptor{signing(k.Other.Cert), encryption(k.Other.Cert)}}).Role()
	return &md.EntitiesDescriptor{Name: "test-federation", Entities: []*md.EntityDescriptor{
		{EntityID: wsftest.IdPID, IDPSSO: []*md.IDPSSODescriptor{idp}},
		{EntityID: wsftest.DSID, Roles: []*md.RoleDescriptor{ds}},
		{EntityID: wsftest.WSPID, Roles: []*md.RoleDescriptor{wsp}},
		{EntityID: wsftest.WSCID, SPSSO: []*md.SPSSODescriptor{sp}},
		{EntityID: shortID, ValidUntil: now.Add(time.Hour), Roles: []*md.RoleDescriptor{short}},
	}}
}

// loadSet writes g to a file the operator placed and loads it into a
// real md.Set that schema-checks it.
func loadSet(t *testing.T, g *md.EntitiesDescriptor) *md.Set {
	t.Helper()
	b, err := xmlsec.Serialize(g.Element())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "aggregate.xml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	set, err := md.New(md.Config{Sources: []md.Source{{Location: p, Unsigned: true}}, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Refresh(ctx, now); err != nil {
		t.Fatal(err)
	}
	return set
}

// directory is the DS's directory at clock: the IdP and the DS issue
// tokens; the WSC has a profile.
func directory(t *testing.T, clock time.Time) *metadir.Directory {
	t.Helper()
	d, err := metadir.New(metadir.Config{Metadata: loadSet(t, aggregate(t)),
		Issuers:  []string{wsftest.IdPID, wsftest.DSID},
		Profiles: map[string]wsf.Profile{wsftest.WSCID: {Name: "zxid", AllowSHA1: true}},
		Now:      func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPeer(t *testing.T) {
	k := wsftest.Keys(t)
	d := directory(t, now)
	for _, tc := range []struct {
		name, id string
		key      *x509.Certificate
		issuer   bool
		profile  string
	}{
		{"ok/idp-sso-role-key-issuer", wsftest.IdPID, k.IdP.Cert, true, ""},
		{"ok/ds-web-service-role-key-issuer", wsftest.DSID, k.IdP.Cert, true, ""},
		{"ok/wsp-web-service-role-key-not-issuer", wsftest.WSPID, k.WSP.Cert, false, ""},
		{"ok/wsc-sp-role-key-profile", wsftest.WSCID, k.WSC.Cert, false, "zxid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := d.Peer(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if p.EntityID != tc.id || !p.HasKey(tc.key.PublicKey) || p.TokenIssuer != tc.issuer || p.Profile.Name != tc.profile {
				t.Fatalf("peer %+v", p)
			}
			if p.HasKey(k.Rogue.Cert.PublicKey) {
				t.Fatal("a key in no metadata is trusted")
			}
		})
	}
}

func TestPeerEncryptionKeyIsNotASigningKey(t *testing.T) {
	k := wsftest.Keys(t)
	p, err := directory(t, now).Peer(ctx, wsftest.DSID)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasKey(k.Other.Cert.PublicKey) || len(p.Keys.Keys()) != 1 {
		t.Fatalf("DS keys %v: only its signing key", p.Keys.Keys())
	}
}

func TestPeerStrictWithoutProfile(t *testing.T) {
	p, err := directory(t, now).Peer(ctx, wsftest.WSPID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Profile != (wsf.Profile{}) {
		t.Fatalf("profile %+v, want strict", p.Profile)
	}
}

func TestPeerRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		id    string
		clock time.Time
		cause error
	}{
		{"fail/unknown-entity", "https://unknown.example.org", now, md.ErrNotFound},
		{"fail/expired-entity", shortID, now.Add(2 * time.Hour), md.ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := directory(t, tc.clock)
			_, err := d.Peer(ctx, tc.id)
			if !errors.Is(err, wsf.ErrProviderIDNotValid) || !errors.Is(err, tc.cause) {
				t.Fatalf("err %v, want ProviderIDNotValid over %v", err, tc.cause)
			}
			if _, err := d.Recipient(ctx, tc.id); !errors.Is(err, wsf.ErrProviderIDNotValid) {
				t.Fatalf("Recipient: %v", err)
			}
			if _, err := d.Service(ctx, tc.id, svcLab); !errors.Is(err, wsf.ErrProviderIDNotValid) {
				t.Fatalf("Service: %v", err)
			}
		})
	}
}

func TestPeerLiveBeforeValidUntil(t *testing.T) {
	if _, err := directory(t, now.Add(30*time.Minute)).Peer(ctx, shortID); err != nil {
		t.Fatal(err)
	}
}

func TestRecipient(t *testing.T) {
	k := wsftest.Keys(t)
	to, err := directory(t, now).Recipient(ctx, wsftest.DSID)
	if err != nil {
		t.Fatal(err)
	}
	if to.EntityID != wsftest.DSID || !to.Cert.Equal(k.Other.Cert) || !slices.Equal(to.Methods, []string{xmlenc.RSAOAEP}) {
		t.Fatalf("recipient %+v", to)
	}
}

func TestRecipientNone(t *testing.T) {
	// The WSC's SP role lists a signing key only.
	_, err := directory(t, now).Recipient(ctx, wsftest.WSCID)
	if !errors.Is(err, md.ErrNoKey) || errors.Is(err, wsf.ErrProviderIDNotValid) {
		t.Fatalf("err %v, want ErrNoKey", err)
	}
}

func TestService(t *testing.T) {
	d := directory(t, now)
	for _, tc := range []struct {
		name, id, svc string
		want          []string
		err           error
	}{
		{"ok/ds-disco", wsftest.DSID, wsf.ServiceTypeDisco, []string{dsAddr}, nil},
		{"ok/wsp-second-service-type", wsftest.WSPID, "urn:renkei:svc:audit:1.0", []string{wspAddr}, nil},
		{"fail/service-not-offered", wsftest.WSPID, wsf.ServiceTypeDisco, nil, md.ErrNotFound},
		{"fail/sp-has-no-web-service-role", wsftest.WSCID, svcLab, nil, md.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Service(ctx, tc.id, tc.svc)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) || !slices.Equal(got, tc.want) {
				t.Fatalf("Service = %v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestNewNeedsMetadata(t *testing.T) {
	if _, err := metadir.New(metadir.Config{}); err == nil {
		t.Fatal("a directory without metadata")
	}
}
