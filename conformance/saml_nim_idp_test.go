package conformance_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
)

// terminateTrigger is the IdP-initiated ManageNameID trigger of Renkei's
// IdP: its engine driven in process (the binary offers no operator
// command for it), assembled from the running binary's configuration
// over the same store, keys and metadata.
func (o *ownIdP) terminateTrigger(t *testing.T) conformance.NIMTrigger {
	t.Helper()
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	s, err := idpserver.Build(context.Background(), &o.Kit.Config, idpserver.Options{MainListener: listen(), CardListener: listen(), Log: logkit.New(t, "idp-engine")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	if err := s.Metadata.Refresh(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, sp, nameID string) error {
		f, err := s.Store.FederationByNameID(ctx, sp, nameID)
		if err != nil {
			return err
		}
		return s.SSO.TerminateFederation(ctx, f.PrincipalID, sp, time.Now())
	}
}

// nimInitiatedRun runs the NIM cases, the IdP-initiated one with the
// in-process trigger included, against o.
func (o *ownIdP) nimInitiatedRun(t *testing.T) *conformance.Report {
	t.Helper()
	cases := append(conformance.SAMLIdPCases(), conformance.SAMLIdPInitiatedNIMCases(o.terminateTrigger(t), o.Back)...)
	r := &conformance.Runner{Role: conformance.RoleIdP, Mode: conformance.ModeIdP, Cases: cases,
		Rows: conformance.Matrix(), Only: []string{"nim"}, CaseTimeout: 30 * time.Second}
	return r.Run(context.Background(), o.env(t))
}

// TestOwnIdPNIMInitiated: with its trigger, Renkei's IdP passes the
// IdP-initiated ManageNameID case over SOAP, so the nim-soap-idp row
// passes; nim-redirect-idp stays uncovered (the IdP sends its own
// ManageNameIDRequests over SOAP only).
func TestOwnIdPNIMInitiated(t *testing.T) {
	o := startOwnIdP(t)
	rep := o.nimInitiatedRun(t)
	res, ok := rep.Result("SAML2-Prof-4.5/nim-idp-initiated-soap-terminate")
	if !ok || res.Outcome.Verdict != conformance.Pass || len(res.Messages) == 0 {
		t.Errorf("IdP-initiated Terminate: %+v", res.Outcome)
	}
	want := map[string]conformance.Verdict{"SAML2-Conf/nim-soap-idp": conformance.Pass, "SAML2-Conf/nim-redirect-idp": conformance.Uncovered}
	for _, row := range rep.Rows {
		if v, ok := want[row.Row.ID]; ok && row.Verdict != v {
			t.Errorf("row %s: %s, want %s", row.Row.ID, row.Verdict, v)
		}
	}
	if t.Failed() || testing.Verbose() {
		logReport(t, rep)
	}
}
