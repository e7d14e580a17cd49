package store

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNoWirePackage holds the architecture's rule that storage keeps
// XML as bytes: nothing under store/ may depend on an XML toolkit or on any
// other Renkei package (wire, engine or otherwise).
func TestImportsNoWirePackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const module = "github.com/renkei-idwsf/renkei/"
	// encoding/xml itself is not listed: pgx's type package imports it.
	forbidden := []string{"github.com/beevik/etree", "github.com/lestrrat-go/libxml2",
		"github.com/russellhaering/goxmldsig", "github.com/mattermost/xml-roundtrip-validator"}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list found only %v", deps)
	}
	for _, dep := range deps {
		own := strings.HasPrefix(dep, module) && !strings.HasPrefix(dep, module+"store")
		bad := own
		for _, f := range forbidden {
			bad = bad || dep == f || strings.HasPrefix(dep, f+"/")
		}
		if bad {
			t.Errorf("store/ depends on %s", dep)
		}
	}
}
