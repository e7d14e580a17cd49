package idpserver

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	kitproc "github.com/renkei-idwsf/renkei/internal/testkit/proc"
)

// TestQuirkAnnounced: an SP allowed an http ACS is named in the log when
// the IdP starts; an SP with no such quirk is not.
func TestQuirkAnnounced(t *testing.T) {
	f, _ := testFile(t)
	f.Quirks = map[string]SPQuirks{"https://lab.example.org/sp": {AllowHTTPACS: true}, "https://sha1.example.org/sp": {AllowSHA1: true}}
	must(t, f.Validate())
	var log kitproc.Output
	s, err := Build(context.Background(), f, Options{MainListener: loopback(t), CardListener: loopback(t),
		Log: slog.New(slog.NewTextHandler(&log, nil))})
	must(t, err)
	must(t, s.Start(context.Background()))
	must(t, s.Shutdown())
	out := log.String()
	if !strings.Contains(out, "allowHTTPACS") || !strings.Contains(out, "sp=https://lab.example.org/sp") {
		t.Errorf("ok/announced: the log does not name the SP allowed http:\n%s", out)
	}
	if strings.Contains(out, "sha1.example.org") {
		t.Errorf("fail/other-quirk-announced-as-http:\n%s", out)
	}
}
