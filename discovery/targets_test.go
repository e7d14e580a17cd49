package discovery_test

import (
	"context"
	"testing"

	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// TestQueryTerminatedWSPLink: a Query reads the principal's federations
// once; the institution whose link was terminated gets no token (its
// refusal is audited, in the same append as the others' tokens), and the
// others get theirs.
func TestQueryTerminatedWSPLink(t *testing.T) {
	f := dskit.New(t, dskit.Options{})
	f.Link(t, f.Principal, false)
	gone := "https://hospital-b.renkei.test/metadata"
	_, err := f.Store.UpdateFederation(context.Background(), f.Principal, gone, func(fd store.Federation) (store.Federation, error) {
		fd.Terminated = f.Clock.Now()
		return fd, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
	r, _, err := query(t, f, c, epr, byType(dskit.Clinical, dskit.Checkup, dskit.Appointment, dskit.Eligibility, dskit.Pension), wsf.Header{})
	if err != nil || r.Status.Code != disco.OK || len(r.EPRs) != 4 {
		t.Fatalf("%v: %+v", err, r)
	}
	for _, e := range r.EPRs {
		if e.Metadata.ProviderID == gone {
			t.Fatalf("EPR for %s, whose link is terminated", gone)
		}
	}
	page, err := f.Store.AuditEvents(context.Background(), store.AuditQuery{PrincipalID: f.Principal})
	if err != nil {
		t.Fatal(err)
	}
	var tokens, refused int
	for _, e := range page.Events {
		switch {
		case e.Action == discovery.AuditToken:
			tokens++
		case e.Action == discovery.AuditRefused && e.ProviderID == gone:
			refused++
		}
	}
	if tokens != 4 || refused != 1 {
		t.Fatalf("audit: %d tokens, %d refusals for %s", tokens, refused, gone)
	}
}
