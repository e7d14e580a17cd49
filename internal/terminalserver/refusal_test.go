package terminalserver_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/testkit/termkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsc/terminal"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// TestDeskRefusals: a revoked card gets a clear refusal at the desk and
// nothing is fetched; a card pulled out in the middle of its login
// leaves an empty screen and no visit, no token issued.
func TestDeskRefusals(t *testing.T) {
	d := termkit.New(t)
	d.Start()
	people := d.PatientsOnlyAtB(2)

	t.Run("fail/revoked-card", func(t *testing.T) {
		p := people[0]
		d.Fed.IdP.RevokeInRegistry("HIC-" + p.Key)
		c := d.Insert(p, 0, virtual.Options{})
		d.Await("the PIN prompt", func(s terminal.Screen) bool { return s.Phase == terminal.NeedPIN })
		d.PIN(virtual.DefaultPIN)
		s := d.Await("the refusal", func(s terminal.Screen) bool { return s.Phase == terminal.Stopped })
		if s.Message != "card.refused" || s.Eligibility != nil || s.Records != nil {
			t.Fatalf("screen %+v, want the card refused and nothing else", s)
		}
		nothingIssued(d, p)
		if err := c.Insertion.Remove(); err != nil {
			t.Fatal(err)
		}
		d.Await("an empty screen", func(s terminal.Screen) bool { return s.Phase == terminal.Idle })
		noVisit(d)
	})

	t.Run("fail/card-pulled-mid-login", func(t *testing.T) {
		p := people[1]
		var c *termkit.Inserted
		pulled := make(chan struct{})
		c = d.Insert(p, 0, virtual.Options{BeforeCommand: func(cmd piv.Command) {
			if cmd.INS == piv.InsGeneralAuth && c != nil {
				c.Insertion.Pull()
				close(pulled)
			}
		}})
		d.Await("the PIN prompt", func(s terminal.Screen) bool { return s.Phase == terminal.NeedPIN })
		d.PIN(virtual.DefaultPIN)
		<-pulled
		s := d.Await("an empty screen", func(s terminal.Screen) bool { return s.Phase == terminal.Idle })
		if s.Eligibility != nil || s.Records != nil || s.Message != "" {
			t.Fatalf("the screen shows %+v after the card left", s)
		}
		nothingIssued(d, p)
		noVisit(d)
	})
}

// nothingIssued checks the DS's audit: nothing happened for p since the
// operator linked them (no token, no refusal: the DS was never asked).
func nothingIssued(d *termkit.Desk, p *termkit.Patient) {
	d.T.Helper()
	page, err := d.Fed.DS.Store.AuditEvents(context.Background(), store.AuditQuery{PrincipalID: p.Principal, Limit: 50})
	if err != nil {
		d.T.Fatal(err)
	}
	for _, e := range page.Events {
		if e.Action != discovery.AuditLink {
			d.T.Fatalf("the DS recorded %s for the patient: %+v", e.Action, e)
		}
	}
}

// noVisit checks that no visit was opened: none is ended within the
// time a logout would take.
func noVisit(d *termkit.Desk) {
	d.T.Helper()
	select {
	case e := <-d.Ended:
		d.T.Fatalf("a visit was opened and ended: %+v %v", e.Res, e.Err)
	case <-time.After(3 * time.Second):
	}
}

// TestCardPulledMidFetch: the card leaves after the login, while the DS's
// answer is on its way: the eligibility never shows, the screen empties,
// the visit's logout ends the IdP session, and the token the DS had just
// minted for the insurer is refused.
func TestCardPulledMidFetch(t *testing.T) {
	d := termkit.New(t)
	var c *termkit.Inserted
	var once sync.Once
	var bodies [][]byte
	var mu sync.Mutex
	d.Tap = func(b []byte) {
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		if len(wspkit.QueryResponses([][]byte{b})) > 0 {
			once.Do(func() {
				c.Insertion.Pull()
				time.Sleep(time.Second) // pcscd polls presence every 400 ms
			})
		}
	}
	d.Start()
	p := d.PatientOnlyAtB()
	c = d.Insert(p, 0, virtual.Options{})
	d.Await("the PIN prompt", func(s terminal.Screen) bool { return s.Phase == terminal.NeedPIN })
	var phases []terminal.Phase
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ch := d.Srv.Desk.Changed()
			s := d.Srv.Desk.Screen()
			phases = append(phases, s.Phase)
			if s.Phase == terminal.Idle {
				return
			}
			select {
			case <-ch:
			case <-time.After(30 * time.Second):
				return
			}
		}
	}()
	d.PIN(virtual.DefaultPIN)
	<-done
	for _, ph := range phases {
		if ph == terminal.Ready {
			t.Fatalf("the screen went through %v: the eligibility showed after the card left", phases)
		}
	}
	if s := d.Srv.Desk.Screen(); s.Phase != terminal.Idle || s.Eligibility != nil || s.Records != nil {
		t.Fatalf("the screen shows %+v", s)
	}
	loggedOut(t, d)
	mu.Lock()
	kept := wspkit.KeptEPR(bodies, wspkit.Entities[sample.Insurer], dst.Eligibility)
	mu.Unlock()
	if kept == nil {
		t.Fatal("the DS minted no insurer token before the card left: the test pulled too early")
	}
	aside := wspkit.AsideClient(t, d.File.EntityID, wspkit.WSPIdentity(t, sample.HospitalA), d.Fed.RootCAs, d.Srv.Directory)
	if err := wspkit.QueryAll(aside, kept, dst.Eligibility, wsf.PurposeEligibility); !wspkit.ExpiredToken(err) {
		t.Fatalf("the insurer's token minted before the card left: %v, want it refused as ended", err)
	}
}
