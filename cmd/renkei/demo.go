package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/internal/vpcd"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
)

// demo is one run of `renkei demo`: the federation's files, its
// processes, the card's readers, and what to undo at the end.
type demo struct {
	out      io.Writer
	dir      string
	fed      *fedfiles.Federation
	fleet    *fleet
	slot     *vpcd.Slot
	desk     *reader // the reception terminal's reader
	home     *reader // the citizen's reader at home
	bin      string
	started  time.Time
	temp     bool   // dir is the run's own, removed at the end
	nodes    *nodes // the several-node variant's PostgreSQL and balancers
	cleanups []func()
}

// cmdDemo runs `renkei demo`: the federation until Ctrl-C, or with
// -headless until the story has been walked.
func cmdDemo(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fs.String("dir", "", "a new or empty directory for the federation's files and logs, kept at the end (default: a temporary one, removed)")
	headless := fs.Bool("headless", false, "walk the story (steps 1 to 6) against the running federation, then stop; exit status 0 only if every step held")
	several := fs.Bool("nodes", false, "run two nodes each of the IdP, the DS and hospital A's WSP behind round-robin balancers over a throwaway PostgreSQL; "+
		"with -headless, kill one node of each (SIGKILL) between steps 2 and 3")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d := &demo{out: out, dir: *dir, started: time.Now()}
	defer d.close()
	if d.dir != "" {
		if ents, err := os.ReadDir(d.dir); err == nil && len(ents) > 0 {
			return fmt.Errorf("-dir %s is not empty: the demo's files go into a new or empty directory", d.dir)
		}
	} else {
		tmp, err := os.MkdirTemp("", "renkei-demo-")
		if err != nil {
			return err
		}
		d.dir, d.temp = tmp, true
		d.cleanups = append(d.cleanups, func() { os.RemoveAll(tmp) })
	}
	if err := d.up(ctx, *several); err != nil {
		return err
	}
	if *headless {
		return d.walk(ctx)
	}
	d.guide()
	<-ctx.Done()
	fmt.Fprintln(out, "\nstopping the federation")
	return nil
}

// up writes the files, starts every role (with several, over PostgreSQL
// and behind the balancers, which it starts first) and waits until each
// is ready.
func (d *demo) up(ctx context.Context, several bool) error {
	fmt.Fprintf(d.out, "Renkei demo: the whole federation, every role its own process (files in %s)\n\n", d.dir)
	reader := d.acquireReaders()
	bin, err := binaries(ctx, d.out)
	if err != nil {
		return err
	}
	d.bin = bin
	o := fedfiles.Options{Dir: filepath.Join(d.dir, "federation"), Reader: reader}
	if several {
		if o.Nodes, err = d.startNodes(ctx); err != nil {
			return err
		}
	}
	start := time.Now()
	d.fed, err = fedfiles.Write(ctx, o)
	if err != nil {
		return fmt.Errorf("writing the federation's files: %w", err)
	}
	if d.nodes != nil {
		d.nodes.route(d.fed)
	}
	fmt.Fprintf(d.out, "files: RA keys for every role, card %s, soft certificate, signed aggregate, relay database, %d configuration files (%s)\n",
		d.fed.Card, configs(d.fed.Roles), since(start))
	if d.desk != nil {
		d.desk.file, d.home.file = d.fed.CardFile, d.fed.CardFile
	}
	relay, err := sqlstore.Open(ctx, d.fed.Relay)
	if err != nil {
		return err
	}
	d.cleanups = append(d.cleanups, func() { relay.Close() })
	d.fleet = newFleet(bin, filepath.Join(d.dir, "logs"), d.fed.RootCAs, relay)
	d.cleanups = append(d.cleanups, d.fleet.stop)
	if err := d.startRoles(ctx); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\nevery role ready %s after the start (building included)\n\n", since(d.started))
	return nil
}

// configs counts the roles' configuration files.
func configs(roles []fedfiles.Role) int {
	n := 0
	for _, r := range roles {
		if r.Config != "" {
			n++
		}
	}
	return n
}

// acquireReaders leases a reader entry of the real PC/SC stack (pcscd
// with vpcd) for the terminal and the citizen; without it the demo runs
// without the terminal, and says why.
func (d *demo) acquireReaders() string {
	slot, err := vpcd.Acquire()
	if err != nil {
		fmt.Fprintf(d.out, "reception terminal: NOT STARTED, no PC/SC reader: %v\n", err)
		return ""
	}
	d.slot = slot
	d.cleanups = append(d.cleanups, func() { _ = slot.Release() })
	d.desk, d.home = &reader{slot: slot, i: deskReader}, &reader{slot: slot, i: homeReader}
	d.cleanups = append(d.cleanups, func() { d.desk.remove(); d.home.remove() })
	return slot.Readers[deskReader]
}

// startRoles starts the roles in two waves: every role that calls no
// other at its start, then (once the DS answers, and the jobs have run)
// the WSPs, which register their services there at once.
func (d *demo) startRoles(ctx context.Context) error {
	first, jobs, wsps := splitRoles(d.fed.Roles)
	if err := d.wave(ctx, first); err != nil {
		return err
	}
	for _, j := range jobs {
		took, err := d.fleet.job(ctx, j)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.out, "  %-20s done in %s\n", j.Name, took)
	}
	return d.wave(ctx, wsps)
}

// wave starts roles at once and waits until each is ready.
func (d *demo) wave(ctx context.Context, roles []fedfiles.Role) error {
	start := time.Now()
	var kids []*child
	for _, r := range roles {
		c, err := d.fleet.start(r)
		if err != nil {
			return err
		}
		kids = append(kids, c)
	}
	errs := make(chan error, len(kids))
	for _, c := range kids {
		go func() { errs <- d.fleet.await(ctx, c, start) }()
	}
	var all []error
	for range kids {
		all = append(all, <-errs)
	}
	for _, c := range kids {
		if c.ready > 0 {
			fmt.Fprintf(d.out, "  %-20s ready in %-8s %s (pid %d)\n", c.role.Name, c.ready, c.role.Ready, c.cmd.Process.Pid)
		}
	}
	return errors.Join(all...)
}

// close undoes what the run did, last first.
func (d *demo) close() {
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		d.cleanups[i]()
	}
}

// guide prints what to try in the running federation.
func (d *demo) guide() {
	f, w := d.fed, d.out
	fmt.Fprintf(w, "My Portal:             %s/\n", f.Portal)
	fmt.Fprintf(w, "IdP metadata:          %s/metadata\n", f.IdP)
	fmt.Fprintf(w, "operator's aggregate:  %s (signed; verify: renkei metadata verify -cert %s %s)\n", f.Aggregate, f.OperatorCert, f.Aggregate)
	fmt.Fprintf(w, "Discovery Service:     %s/disco\n", f.DS)
	for _, k := range fedfiles.Institutions {
		fmt.Fprintf(w, "WSP %-18s %s/wsp\n", k+":", f.WSPs[k])
	}
	fmt.Fprintf(w, "\nThe citizen is %s (sample person %s), card %s, linked at %d institutions.\n", f.Person.Name, f.Person.Key, f.Card, len(f.Person.Local))
	fmt.Fprintf(w, "Log in to My Portal from a browser with the citizen's soft certificate (AuthnContext X509; the card gives SmartcardPKI):\n")
	fmt.Fprintf(w, "  1. trust the federation's CA %s as a certificate authority for web sites\n", f.RootsFile)
	fmt.Fprintf(w, "  2. import %s (PKCS#12, password %s) as your certificate\n", f.SoftP12, f.SoftPassword)
	fmt.Fprintf(w, "     Firefox: Settings > Privacy & Security > Certificates > View Certificates > Authorities / Your Certificates > Import\n")
	fmt.Fprintf(w, "     Chromium: Settings > Privacy and security > Security > Manage certificates > Authorities / Your certificates > Import\n")
	fmt.Fprintf(w, "  3. open %s/ and log in; link the institutions on the linked-institutions page (the DS's consent page),\n", f.Portal)
	fmt.Fprintf(w, "     then see lab results, check-ups, bookings, eligibility, the pension record and the access log\n")
	d.guideCard()
	if d.desk != nil {
		ctl, err := net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			d.cleanups = append(d.cleanups, func() { ctl.Close() })
			go d.desk.serveControl(ctl)
			card := filepath.Join(d.bin, "renkei-card")
			fmt.Fprintf(w, "\nReception terminal of hospital A (staff page): %s/\n", f.Terminal)
			fmt.Fprintf(w, "  insert the citizen's card into its reader (%s):  %s control -addr %s insert\n", d.desk.name(), card, ctl.Addr())
			fmt.Fprintf(w, "  type the PIN %s on the staff page; the eligibility shows at once\n", virtual.DefaultPIN)
			fmt.Fprintf(w, "  take the card out (the visit ends, the IdP is told):  %s control -addr %s remove\n", card, ctl.Addr())
		}
	}
	fmt.Fprintf(w, "\nOperating: each role's admin listener serves /metrics (Prometheus), /healthz and /readyz\n")
	for _, r := range f.Roles {
		if r.Admin != "" {
			fmt.Fprintf(w, "  %-20s %s/metrics\n", r.Name, r.Admin)
		}
	}
	if d.nodes != nil {
		d.guideNodes()
	}
	fmt.Fprintf(w, "\nEach role's output (JSON lines, one per request, with its request ID): %s\nCtrl-C stops every role", d.fleet.logs)
	if d.nodes != nil {
		fmt.Fprintf(w, ", the balancers and PostgreSQL (its files removed)")
	}
	if d.temp {
		fmt.Fprintf(w, " (a temporary directory is removed; -dir keeps it)")
	}
	fmt.Fprintln(w)
}

// guideCard tells how a browser that can use a PKCS#11 module logs in
// with the virtual card itself, through OpenSC and the demo's pcscd, and
// serves the control socket of the citizen's reader at home.
func (d *demo) guideCard() {
	if d.home == nil {
		return
	}
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return
	}
	d.cleanups = append(d.cleanups, func() { ctl.Close() })
	go d.home.serveControl(ctl)
	w, card := d.out, filepath.Join(d.bin, "renkei-card")
	module := "opensc-pkcs11.so (install opensc)"
	if m, _ := filepath.Glob("/usr/lib/*/opensc-pkcs11.so"); len(m) > 0 {
		module = m[0]
	}
	conf := filepath.Join(d.dir, "opensc.conf")
	if err := os.WriteFile(conf, []byte(openscConf), 0o600); err != nil {
		return
	}
	fmt.Fprintf(w, "Or log in with the card itself (AuthnContext SmartcardPKI), where the browser can use a PKCS#11 module:\n")
	fmt.Fprintf(w, "  1. load OpenSC's module %s into the browser\n", module)
	fmt.Fprintf(w, "     Chromium: modutil -dbdir sql:$HOME/.pki/nssdb -add OpenSC -libfile %s\n", module)
	fmt.Fprintf(w, "     Firefox: Settings > Privacy & Security > Security Devices > Load, the same file\n")
	fmt.Fprintf(w, "     and start the browser with OPENSC_CONF=%s (OpenSC shows only a few readers otherwise)\n", conf)
	fmt.Fprintf(w, "  2. put the card into the citizen's reader at home (%s):  %s control -addr %s insert\n", d.home.name(), card, ctl.Addr())
	fmt.Fprintf(w, "  3. log in at %s/: the browser asks for the card's PIN (%s) and presents its certificate\n", d.fed.Portal, virtual.DefaultPIN)
	fmt.Fprintf(w, "     (check without a browser: OPENSC_CONF=%s pkcs11-tool --module %s -O)\n", conf, module)
}

// openscConf lets OpenSC's PKCS#11 module show every reader of the demo's
// pcscd (by default it stops at a few slots), one slot per card.
const openscConf = `app default {
	framework pkcs15 { use_file_caching = no; }
}
app opensc-pkcs11 {
	pkcs11 { max_virtual_slots = 64; slots_per_card = 1; }
}
`
