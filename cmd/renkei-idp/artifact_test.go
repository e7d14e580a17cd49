package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestArtifactService: the printed metadata publishes the
// ArtifactResolutionService (SOAP, index 0) on the card listener, and a
// bad lifetimes.artifact is reported.
func TestArtifactService(t *testing.T) {
	path, _ := writeConfig(t, func(c *idpserver.File) { c.Lifetimes.Artifact = "30s" })
	var out bytes.Buffer
	must(t, run(context.Background(), []string{"-config", path, "-print-metadata"}, &out, slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))))
	doc, err := xmlsec.Parse(out.Bytes(), xmlsec.Limits{})
	must(t, err)
	d, err := md.DecodeUnsigned(doc.Root())
	must(t, err)
	idp, err := d.Entity.IDP()
	must(t, err)
	ep, err := idp.ArtifactResolutionService(0)
	if err != nil || ep.Binding != samlp.BindingSOAP || ep.Location != "https://login.idp.example.org:9443/artifact" {
		t.Fatalf("ArtifactResolutionService %+v: %v", ep, err)
	}
	c := &idpserver.File{Lifetimes: idpserver.Lifetimes{Artifact: "-1s"}}
	c.Defaults()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "lifetimes.artifact") {
		t.Fatalf("a negative artifact lifetime is not reported: %v", err)
	}
}
