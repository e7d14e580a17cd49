package terminalserver_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/terminalserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/fedkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pcsc"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/internal/vpcd"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsc/terminal"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// desk is the whole federation (fedkit) with hospital A's reception
// terminal built by its assembly, its card reader a vpcd reader of the
// test kit's pcscd.
type desk struct {
	t     testing.TB
	fed   *fedkit.Fed
	srv   *terminalserver.Server
	slot  *vpcd.Slot
	ended chan ended
	// taps are the bodies the terminal received from the DS and WSPs.
	dir string
}

type ended struct {
	res *sp.LogoutResult
	err error
}

func newDesk(t testing.TB) *desk {
	t.Helper()
	d := &desk{t: t, slot: pcsc.AcquireT(t), ended: make(chan ended, 8)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	base := "https://" + ln.Addr().String()
	d.fed = fedkit.Start(t, fedkit.Options{Desks: map[string]string{sample.HospitalA: base + terminalserver.PathECP}})
	d.dir = filepath.Join(d.fed.Dir, "terminal")
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	id := wspkit.WSPIdentity(t, sample.HospitalA)
	tlsID, err := pki.MustGet().CA.IssueHost("terminal-tls", pki.P256, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	f := &terminalserver.File{EntityID: wspkit.Entities[sample.HospitalA], BaseURL: base, Listen: ln.Addr().String(),
		TLS: d.pair("tls", tlsID), Signing: d.pair("signing", id), Encryption: d.pair("encryption", id),
		Metadata: d.fed.Sources, Store: "sqlite:" + filepath.Join(d.dir, "terminal.db"), IdP: d.fed.IdP.EntityID,
		DS: idpkit.DSEntityID, Reader: d.slot.Readers[0], Timeout: "10s"}
	f.Defaults()
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	d.srv, err = terminalserver.Build(context.Background(), f, terminalserver.Options{Listener: ln, RootCAs: d.fed.RootCAs,
		Logf: t.Logf, Ended: func(r *sp.LogoutResult, err error) { d.ended <- ended{r, err} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.srv.Shutdown() })
	if err := d.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *desk) pair(name string, id *pki.Identity) terminalserver.KeyPair {
	c, k := filepath.Join(d.dir, name+".crt"), filepath.Join(d.dir, name+".key")
	for p, b := range map[string][]byte{c: id.CertPEM(), k: id.KeyPEM()} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			d.t.Fatal(err)
		}
	}
	return terminalserver.KeyPair{Cert: c, Key: k}
}

// patient is a sample person known at hospital B and not at hospital A,
// made a citizen with a card.
type patient struct {
	*sample.Person
	principal string
	card      *pki.Identity
}

func (d *desk) patientOnlyAtB() *patient { return d.patientsOnlyAtB(1)[0] }

// patientsOnlyAtB makes n such patients.
func (d *desk) patientsOnlyAtB(n int) []*patient {
	d.t.Helper()
	var out []*patient
	for i := range d.fed.Manifest.People {
		p := &d.fed.Manifest.People[i]
		if _, a := p.Local[sample.HospitalA]; !a && p.Local[sample.HospitalB] != "" && len(out) < n {
			principal, card := d.fed.Citizen(d.t, p.Key)
			out = append(out, &patient{Person: p, principal: principal, card: card})
		}
	}
	if len(out) < n {
		d.t.Fatalf("%d sample people are known at hospital B only, want %d", len(out), n)
	}
	return out
}

// inserted is a virtual card in the desk's reader.
type inserted struct {
	vc  *virtual.Card
	ins *virtual.Insertion
}

// insert puts the patient's card into the desk's reader.
func (d *desk) insert(p *patient, opts virtual.Options) *inserted {
	d.t.Helper()
	path := filepath.Join(d.t.TempDir(), "card.json")
	if err := virtual.Create(path, "HIC-"+p.Key, p.card.Key, p.card.Cert, nil); err != nil {
		d.t.Fatal(err)
	}
	vc, err := virtual.Open(path, opts)
	if err != nil {
		d.t.Fatal(err)
	}
	ins, err := virtual.Insert(vc, func() (net.Conn, error) { return d.slot.Dial(0) })
	if err != nil {
		d.t.Fatal(err)
	}
	c := &inserted{vc: vc, ins: ins}
	d.t.Cleanup(func() { _ = c.ins.Remove() })
	return c
}

// await waits until the desk's screen satisfies ok.
func (d *desk) await(what string, ok func(terminal.Screen) bool) terminal.Screen {
	d.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s := d.srv.Desk.Screen()
		if ok(s) {
			return s
		}
		select {
		case <-d.srv.Desk.Changed():
		case <-deadline:
			d.t.Fatalf("the desk never showed %s; it shows phase %d %q %q\nIdP:\n%s", what, s.Phase, s.Message, s.Detail, d.fed.IdP.Stderr())
		}
	}
}

func (d *desk) pin(pin string) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.srv.Desk.SubmitPIN(ctx, pin); err != nil {
		d.t.Fatal(err)
	}
}

func insurerFields(p *patient) []string { return strings.Split(p.Local[sample.Insurer], ":") }
