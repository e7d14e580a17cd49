// Package fedfiles writes the files an operator writes to run the whole
// federation on one machine, for `renkei demo`: the registration
// authority's keys and certificates for every role, the citizen's card
// (a virtual PIV card file) and soft certificate (PKCS#12), the sample
// institutions' back offices (wsp/sample), one metadata aggregate signed
// by the operator, the relay database with the citizen's principal, card
// and links, and each role's configuration file, every listener on a
// loopback port. With Options.Nodes it writes the several-node variant
// (`renkei demo -nodes`): the same files, but two nodes each of the IdP,
// the DS and hospital A's WSP publishing their balancers' URLs, over
// PostgreSQL. It also holds the pieces of those files the test kits
// build the same way (the entities of the portal, the institutions and
// the DS, the DS's policy, a WSP's configuration).
package fedfiles

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// Options say what to write.
type Options struct {
	// Dir is the directory of every file; it must not exist or be empty.
	Dir string
	// Reader is the PC/SC reader of hospital A's reception terminal; ""
	// writes no terminal.
	Reader string
	// Now is the time the files are made at; zero is the clock's.
	Now time.Time
	// Person is the sample person who is the citizen; "" is the first one
	// known at every institution.
	Person string
	// Nodes, when set, writes the several-node variant: two nodes each of
	// the IdP, the DS and hospital A's WSP behind the balancers it names,
	// over the PostgreSQL databases it names.
	Nodes *Nodes
}

// Nodes are the balancers and databases of the several-node variant.
type Nodes struct {
	// IdP, IdPCard, DS and WSP are the host:port (loopback) of the
	// round-robin balancers in front of the IdP's main and card-login
	// listeners, the DS and hospital A's WSP: every node of a role
	// publishes its balancer's URL (baseURL, endpoints, the metadata).
	IdP, IdPCard, DS, WSP string
	// Relay, BackOffice and WSPStore are the PostgreSQL DSNs of empty
	// databases: the relay database (the IdP's and the DS's store),
	// hospital A's back office, and hospital A's WSP store.
	Relay, BackOffice, WSPStore string
}

// NodeCount is how many nodes each several-node role runs.
const NodeCount = 2

// NodeInstitution is the institution whose WSP runs as several nodes.
const NodeInstitution = DeskInstitution

// Role is one process of the federation.
type Role struct {
	// Name is what the demo calls it ("idp", "wsp hospital-a").
	Name string
	// Command is the binary (renkei-idp ...) and Args its arguments.
	Command string
	Args    []string
	// Config is its configuration file ("" for none).
	Config string
	// Ready is the https (or, for the pension back office, http) URL
	// that answers once the role serves.
	Ready string
	// Admin is the role's admin listener (http://127.0.0.1:port: /metrics,
	// /healthz, /readyz); "" for the pension back office, which has none.
	Admin string
	// Services, for a WSP, are the service types it registers at the DS
	// under EntityID when it starts.
	EntityID string
	Services []string
	// Node, for one node of a several-node role, is its own URL (the
	// role's balancer publishes the role's); Balancer names its
	// balancer's backends in Federation.Backends ("idp", "ds", "wsp").
	Node, Balancer string
	// Job marks a command that runs to its end before the roles after it
	// start (renkei-wsp register, once for all the nodes of a WSP).
	Job bool
}

// Federation is what Write wrote.
type Federation struct {
	Dir string
	// Roles in the order they should start.
	Roles []Role
	// Manifest lists the sample people; Person is the citizen.
	Manifest *sample.Manifest
	Person   *sample.Person
	// Principal is the citizen's principal in the relay database; Card
	// their card's number, CardFile the virtual card, CardKey and
	// CardCert what it holds.
	Principal, Card, CardFile string
	CardKey                   crypto.Signer
	CardCert                  *x509.Certificate
	// SoftP12 is the citizen's soft certificate (PKCS#12) protected by
	// SoftPassword, for a browser without a card reader.
	SoftP12, SoftPassword string
	// RootsFile is the service CA (PEM) that issued every server
	// certificate; RootCAs holds it.
	RootsFile string
	RootCAs   *x509.CertPool
	// Aggregate is the operator's signed metadata aggregate, verified
	// with OperatorCert.
	Aggregate, OperatorCert string
	// Relay is the relay database's DSN (the IdP's and the DS's store).
	Relay string
	// URLs of the listeners.
	IdP, IdPCard, DS, Portal, Terminal, PensionOffice string
	WSPs                                              map[string]string
	// PortalEntityID is the portal's entityID.
	PortalEntityID string
	// Reader is the terminal's PC/SC reader ("" when there is none).
	Reader string
	// Backends, in the several-node variant, are the nodes' host:port
	// behind each balancer of Nodes, by "idp", "idp-card", "ds" and "wsp".
	Backends map[string][]string
}

// Write writes the federation's files into o.Dir.
func Write(ctx context.Context, o Options) (*Federation, error) {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := emptyDir(dir); err != nil {
		return nil, err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	w := &writer{f: &Federation{Dir: dir, WSPs: map[string]string{}, Reader: o.Reader}, now: now.UTC().Truncate(time.Second),
		nodes: o.Nodes}
	steps := []func(context.Context) error{
		w.ports, w.samples(o.Person), w.issue, w.citizen, w.metadata, w.configs, w.relay, w.link, w.backOffice,
	}
	for _, s := range steps {
		if err := s(ctx); err != nil {
			return nil, err
		}
	}
	return w.f, nil
}

// emptyDir makes dir, or checks that it is empty.
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s is not empty: the federation's files go into a new directory", dir)
	}
	return nil
}

// writer is one Write under way.
type writer struct {
	f    *Federation
	now  time.Time
	addr map[string]string // role -> 127.0.0.1:port
	keys map[string]pair
	// opCert and opKey are the operator's aggregate signing key.
	opKey  crypto.Signer
	opCert *x509.Certificate
	ra     *ra.Authority
	soft   *x509.Certificate
	nodes  *Nodes
}

// pair is a certificate and key as files and in memory.
type pair struct {
	Cert, Key string
	cert      *x509.Certificate
	key       crypto.Signer
}

// path is a file of the federation's directory.
func (w *writer) path(elem ...string) string {
	return filepath.Join(append([]string{w.f.Dir}, elem...)...)
}

// listeners are the loopback listeners of the federation.
var listeners = []string{"idp", "idp-card", "ds", "portal", "terminal", "pension-office",
	"wsp-" + sample.HospitalA, "wsp-" + sample.HospitalB, "wsp-" + sample.Insurer, "wsp-" + sample.Pension}

// nodeListeners are the listeners that run as several nodes in the
// several-node variant.
var nodeListeners = map[string]bool{"idp": true, "idp-card": true, "ds": true, "wsp-" + NodeInstitution: true}

// nodeSuffixes are the suffixes of a listener's names: "" for the one
// process of a role, "-1", "-2" ... for the nodes of a several-node one.
func (w *writer) nodeSuffixes(listener string) []string {
	if w.nodes == nil || !nodeListeners[listener] {
		return []string{""}
	}
	var s []string
	for i := 1; i <= NodeCount; i++ {
		s = append(s, fmt.Sprintf("-%d", i))
	}
	return s
}

// ports picks a free loopback port for every listener (of every node):
// the kernel's choice, released before the roles bind them (a port taken
// in between makes that role fail to start, and the demo says which).
func (w *writer) ports(context.Context) error {
	w.addr = map[string]string{}
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var names []string
	for _, name := range listeners {
		for _, n := range w.nodeSuffixes(name) {
			names = append(names, name+n)
			if name != "idp-card" && name != "pension-office" {
				names = append(names, "admin-"+name+n)
			}
		}
	}
	for _, name := range names {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		w.addr[name] = ln.Addr().String()
	}
	f := w.f
	f.IdP, f.IdPCard, f.DS = "https://"+w.addr["idp"], "https://"+w.addr["idp-card"], "https://"+w.addr["ds"]
	f.Portal, f.PensionOffice = "https://"+w.addr["portal"], "http://"+w.addr["pension-office"]
	if f.Reader != "" {
		f.Terminal = "https://" + w.addr["terminal"]
	}
	for _, k := range Institutions {
		f.WSPs[k] = "https://" + w.addr["wsp-"+k]
	}
	f.PortalEntityID = f.Portal + "/metadata"
	if n := w.nodes; n != nil {
		f.IdP, f.IdPCard, f.DS = "https://"+n.IdP, "https://"+n.IdPCard, "https://"+n.DS
		f.WSPs[NodeInstitution] = "https://" + n.WSP
		f.Backends = map[string][]string{}
		for b, l := range map[string]string{"idp": "idp", "idp-card": "idp-card", "ds": "ds", "wsp": "wsp-" + NodeInstitution} {
			for _, s := range w.nodeSuffixes(l) {
				f.Backends[b] = append(f.Backends[b], w.addr[l+s])
			}
		}
	}
	return nil
}

// samples generates the sample institutions with today as their
// reference date, and picks the citizen.
func (w *writer) samples(person string) func(context.Context) error {
	return func(context.Context) error {
		dir := w.path("samples")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		m, err := sample.Generate(dir, sample.Options{Reference: w.now.Truncate(24 * time.Hour)})
		if err != nil {
			return err
		}
		w.f.Manifest = m
		if person != "" {
			if w.f.Person = m.Person(person); w.f.Person == nil {
				return fmt.Errorf("no sample person %q", person)
			}
			return nil
		}
		for i := range m.People {
			if len(m.People[i].Local) == len(Institutions) {
				w.f.Person = &m.People[i]
				return nil
			}
		}
		return errors.New("no sample person is known at every institution")
	}
}

// joinPath is a file name in dir.
func joinPath(dir, name string) string { return filepath.Join(dir, name) }
