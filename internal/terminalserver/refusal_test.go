package terminalserver_test

import (
	"context"
	"testing"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsc/terminal"
)

// TestDeskRefusals: a revoked card gets a clear refusal at the desk and
// nothing is fetched; a card pulled out in the middle of its login
// leaves an empty screen and no visit, no token issued.
func TestDeskRefusals(t *testing.T) {
	d := newDesk(t)
	people := d.patientsOnlyAtB(2)

	t.Run("fail/revoked-card", func(t *testing.T) {
		p := people[0]
		d.fed.IdP.RevokeInRegistry("HIC-" + p.Key)
		c := d.insert(p, virtual.Options{})
		d.await("the PIN prompt", func(s terminal.Screen) bool { return s.Phase == terminal.NeedPIN })
		d.pin(virtual.DefaultPIN)
		s := d.await("the refusal", func(s terminal.Screen) bool { return s.Phase == terminal.Stopped })
		if s.Message != "card.refused" || s.Eligibility != nil || s.Records != nil {
			t.Fatalf("screen %+v, want the card refused and nothing else", s)
		}
		d.nothingIssued(p)
		if err := c.ins.Remove(); err != nil {
			t.Fatal(err)
		}
		d.await("an empty screen", func(s terminal.Screen) bool { return s.Phase == terminal.Idle })
		d.noVisit()
	})

	t.Run("fail/card-pulled-mid-login", func(t *testing.T) {
		p := people[1]
		var c *inserted
		pulled := make(chan struct{})
		c = d.insert(p, virtual.Options{BeforeCommand: func(cmd piv.Command) {
			if cmd.INS == piv.InsGeneralAuth && c != nil {
				c.ins.Pull()
				close(pulled)
			}
		}})
		d.await("the PIN prompt", func(s terminal.Screen) bool { return s.Phase == terminal.NeedPIN })
		d.pin(virtual.DefaultPIN)
		<-pulled
		s := d.await("an empty screen", func(s terminal.Screen) bool { return s.Phase == terminal.Idle })
		if s.Eligibility != nil || s.Records != nil || s.Message != "" {
			t.Fatalf("the screen shows %+v after the card left", s)
		}
		d.nothingIssued(p)
		d.noVisit()
	})
}

// nothingIssued checks the DS's audit: nothing happened for p since the
// operator linked them (no token, no refusal: the DS was never asked).
func (d *desk) nothingIssued(p *patient) {
	d.t.Helper()
	page, err := d.fed.DS.Store.AuditEvents(context.Background(), store.AuditQuery{PrincipalID: p.principal, Limit: 50})
	if err != nil {
		d.t.Fatal(err)
	}
	for _, e := range page.Events {
		if e.Action != discovery.AuditLink {
			d.t.Fatalf("the DS recorded %s for the patient: %+v", e.Action, e)
		}
	}
}

// noVisit checks that no visit was opened: none was ended.
func (d *desk) noVisit() {
	d.t.Helper()
	select {
	case e := <-d.ended:
		d.t.Fatalf("a visit was opened and ended: %+v %v", e.res, e.err)
	default:
	}
}
