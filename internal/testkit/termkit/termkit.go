// Package termkit is hospital A's reception terminal for tests: the
// whole federation (fedkit) with hospital A's desk in the metadata, the
// terminal's keys and configuration file written as an operator would,
// its card reader a vpcd reader of the test kit's pcscd, and the sample
// patients' virtual cards to insert. Nothing here is for production use.
package termkit

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card"
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

// Desk is the federation with hospital A's terminal configured: File
// (written at Path) names reader 0 of Slot. Start builds and starts it.
type Desk struct {
	T     testing.TB
	Fed   *fedkit.Fed
	Srv   *terminalserver.Server
	Slot  *vpcd.Slot
	File  *terminalserver.File
	Path  string
	Ended chan Ended
	// Tap, set before Start, is given every answer the terminal
	// receives (terminalserver.Options.Tap).
	Tap func([]byte)
	ln  net.Listener
	dir string
}

// Ended is the outcome of one visit's logout.
type Ended struct {
	Res *sp.LogoutResult
	Err error
}

// New starts the federation and writes the terminal's files; the
// terminal itself is not built (Start does).
func New(t testing.TB) *Desk {
	t.Helper()
	d := &Desk{T: t, Slot: pcsc.AcquireT(t), Ended: make(chan Ended, 8)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	base := "https://" + ln.Addr().String()
	d.ln = ln
	d.Fed = fedkit.Start(t, fedkit.Options{Desks: map[string]string{sample.HospitalA: base + terminalserver.PathECP}})
	d.dir = filepath.Join(d.Fed.Dir, "terminal")
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	id := wspkit.WSPIdentity(t, sample.HospitalA)
	tlsID, err := pki.MustGet().CA.IssueHost("terminal-tls", pki.P256, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	ca := pki.MustGet().CA.CertPEM()
	d.File = &terminalserver.File{EntityID: wspkit.Entities[sample.HospitalA], BaseURL: base, Listen: ln.Addr().String(),
		TLS: d.pair("tls", tlsID), Signing: d.pair("signing", id), Encryption: d.pair("encryption", id),
		TrustedRoots: d.write("ca.pem", ca), Metadata: d.Fed.Sources, Store: "sqlite:" + filepath.Join(d.dir, "terminal.db"),
		IdP: d.Fed.IdP.EntityID, DS: idpkit.DSEntityID, Reader: d.Slot.Readers[0], Timeout: "10s", Admin: "127.0.0.1:0"}
	d.File.Defaults()
	if err := d.File.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(d.File, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	d.Path = d.write("terminal.json", b)
	return d
}

// KeepToken starts keeping what the terminal receives (set before
// Start); the returned function is the EPR of serviceType at provider
// the terminal last received from the DS, with a client holding hospital
// A's key to present it, and a check that the WSP still accepts it.
func (d *Desk) KeepToken() func(provider, serviceType, purpose string) func() error {
	var mu sync.Mutex
	var bodies [][]byte
	d.Tap = func(b []byte) {
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}
	return func(provider, serviceType, purpose string) func() error {
		d.T.Helper()
		mu.Lock()
		kept := wspkit.KeptEPR(bodies, provider, serviceType)
		mu.Unlock()
		if kept == nil {
			mu.Lock()
			n, rs := len(bodies), wspkit.QueryResponses(bodies)
			mu.Unlock()
			for _, r := range rs {
				for _, e := range r.EPRs {
					d.T.Logf("EPR %+v", e.Metadata)
				}
			}
			d.T.Fatalf("the terminal received no EPR of %s at %s (%d bodies, %d QueryResponses)", serviceType, provider, n, len(rs))
		}
		c := wspkit.AsideClient(d.T, d.File.EntityID, wspkit.WSPIdentity(d.T, sample.HospitalA), d.Fed.RootCAs, d.Srv.Directory)
		return func() error { return wspkit.QueryAll(c, kept, serviceType, purpose) }
	}
}

// Start builds the terminal from File on its listener and starts it; it
// stops when the test ends. Each visit's logout goes to Ended.
func (d *Desk) Start() *terminalserver.Server {
	d.T.Helper()
	var err error
	d.Srv, err = terminalserver.Build(context.Background(), d.File, terminalserver.Options{Listener: d.ln, RootCAs: d.Fed.RootCAs,
		Log: d.Fed.Logs.Logger("terminal"), Tap: d.Tap, Ended: func(r *sp.LogoutResult, err error) { d.Ended <- Ended{r, err} }})
	if err != nil {
		d.T.Fatal(err)
	}
	d.T.Cleanup(func() { _ = d.Srv.Shutdown() })
	if err := d.Srv.Start(context.Background()); err != nil {
		d.T.Fatal(err)
	}
	return d.Srv
}

// write writes b into the terminal's directory and returns its path.
func (d *Desk) write(name string, b []byte) string {
	p := filepath.Join(d.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		d.T.Fatal(err)
	}
	return p
}

func (d *Desk) pair(name string, id *pki.Identity) terminalserver.KeyPair {
	return terminalserver.KeyPair{Cert: d.write(name+".crt", id.CertPEM()), Key: d.write(name+".key", id.KeyPEM())}
}

// Patient is a sample person made a citizen with a card (the card's
// number is "HIC-" and the person's key).
type Patient struct {
	*sample.Person
	Principal string
	Card      *pki.Identity
}

// PatientOnlyAtB makes a patient known at hospital B and not at A.
func (d *Desk) PatientOnlyAtB() *Patient { return d.PatientsOnlyAtB(1)[0] }

// PatientsOnlyAtB makes n such patients.
func (d *Desk) PatientsOnlyAtB(n int) []*Patient {
	d.T.Helper()
	var out []*Patient
	for i := range d.Fed.Manifest.People {
		p := &d.Fed.Manifest.People[i]
		if _, a := p.Local[sample.HospitalA]; !a && p.Local[sample.HospitalB] != "" && len(out) < n {
			principal, card := d.Fed.Citizen(d.T, p.Key)
			out = append(out, &Patient{Person: p, Principal: principal, Card: card})
		}
	}
	if len(out) < n {
		d.T.Fatalf("%d sample people are known at hospital B only, want %d", len(out), n)
	}
	return out
}

// Inserted is a virtual card in a reader.
type Inserted struct {
	Card      *virtual.Card
	Insertion *virtual.Insertion
}

// Insert puts the patient's card into reader i (0 is the desk's) of the
// slot; the test's end takes it out.
func (d *Desk) Insert(p *Patient, i int, opts virtual.Options) *Inserted {
	d.T.Helper()
	path := filepath.Join(d.T.TempDir(), "card.json")
	if err := virtual.Create(path, "HIC-"+p.Key, p.Card.Key, p.Card.Cert, nil); err != nil {
		d.T.Fatal(err)
	}
	vc, err := virtual.Open(path, opts)
	if err != nil {
		d.T.Fatal(err)
	}
	ins, err := virtual.Insert(vc, func() (net.Conn, error) { return d.Slot.Dial(i) })
	if err != nil {
		d.T.Fatal(err)
	}
	c := &Inserted{Card: vc, Insertion: ins}
	d.T.Cleanup(func() { _ = c.Insertion.Remove() })
	return c
}

// Await waits until the started terminal's screen satisfies ok.
func (d *Desk) Await(what string, ok func(terminal.Screen) bool) terminal.Screen {
	d.T.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s := d.Srv.Desk.Screen()
		if ok(s) {
			return s
		}
		select {
		case <-d.Srv.Desk.Changed():
		case <-deadline:
			d.T.Fatalf("the desk never showed %s; it shows phase %d %q %q\nIdP:\n%s", what, s.Phase, s.Message, s.Detail, d.Fed.IdP.Stderr())
		}
	}
}

// PIN types pin at the started terminal's prompt now shown.
func (d *Desk) PIN(pin string) {
	d.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := d.Srv.Desk.Screen()
	if err := d.Srv.Desk.SubmitPIN(ctx, s.Visit, s.Version, pin); err != nil {
		d.T.Fatal(err)
	}
}

// InsurerFields are the patient's insurer number, symbol, number and
// branch, as the insurer's back office holds them.
func InsurerFields(p *Patient) []string { return strings.Split(p.Local[sample.Insurer], ":") }

// Remove takes the card out of the reader and waits until pcscd saw it
// go, so that the next card is not mistaken for this one.
func (d *Desk) Remove(c *Inserted, i int) {
	d.T.Helper()
	if err := c.Insertion.Remove(); err != nil {
		d.T.Fatal(err)
	}
	ctx, err := card.Establish()
	if err != nil {
		d.T.Fatal(err)
	}
	defer ctx.Release()
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ctx.WaitForRemoval(wctx, d.Slot.Readers[i]); err != nil {
		d.T.Fatalf("pcscd still sees a card in %s: %v", d.Slot.Readers[i], err)
	}
}
