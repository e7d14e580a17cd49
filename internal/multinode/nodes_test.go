package multinode_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/renkei-idwsf/renkei/internal/dsserver"
	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/internal/rr"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	kitproc "github.com/renkei-idwsf/renkei/internal/testkit/proc"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Bounds of starting and stopping a node.
const (
	readyWait = 30 * time.Second
	stopWait  = 5 * time.Second
)

// The federation's names: hospital A (its WSP, and its reception desk
// as an ECP SP that enrols patient numbers), and a portal that logs
// citizens in over ECP too (an SP that is its own enhanced client) and
// is the WSC of the DS and the WSP.
var (
	hospitalID = wspkit.Entities[sample.HospitalA]
	portalID   = dskit.PortalID
)

// cluster is the federation of the test: one PostgreSQL server with the
// relay database (the IdP's and the DS's store), hospital A's back
// office and its WSP store; two processes of each role, each role behind
// its balancer, whose URL every node of the role publishes.
type cluster struct {
	t   *testing.T
	dir string
	// DSNs of the three databases.
	relay, backoffice, wspStore string
	// The balancers: the IdP's main and card-login listeners, the DS,
	// the WSP.
	idpMain, idpCard, ds, wsp *rr.Balancer
	idp                       *idpkit.IdP
	idp2                      *idpkit.Node
	dsNodes, wspNodes         []*node
	manifest                  *sample.Manifest
	// people are the sample people known at hospital A; cards their
	// cards by Person.Key.
	people []sample.Person
	cards  map[string]*pki.Identity
	// hospital is hospital A's key (WSP, desk SP: signing, encryption,
	// TLS); portal the portal's.
	hospital, portal *pki.Identity
	// sources are the metadata files every role but the IdP loads.
	sources   []dsserver.MetadataSource
	roots     *x509.CertPool
	caFile    string
	svcMDID   string // hospital A's appointment service at the DS
	hospACS   string // the desk's PAOS consumer
	portalACS string // the portal's PAOS consumer
}

// node is one renkei-ds or renkei-wsp process.
type node struct {
	name, addr string
	cmd        *exec.Cmd
	out        kitproc.Output
	done       chan struct{}
}

// kill ends the node at once with SIGKILL, as a crashed machine ends.
func (n *node) kill() {
	_ = n.cmd.Process.Kill()
	<-n.done
}

// stop asks the node to end (SIGTERM), then kills it.
func (n *node) stop() {
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(stopWait):
		n.kill()
	}
}

// newCluster starts the whole federation with a card issued to each
// sample person known at hospital A.
func newCluster(t *testing.T) *cluster {
	c := &cluster{t: t, dir: t.TempDir(), relay: pg.NewDatabase(t), backoffice: pg.NewDatabase(t), wspStore: pg.NewDatabase(t)}
	for _, b := range []**rr.Balancer{&c.idpMain, &c.idpCard, &c.ds, &c.wsp} {
		var err error
		if *b, err = rr.Listen(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { (*b).Close() })
	}
	ca := pki.MustGet().CA
	c.roots = x509.NewCertPool()
	c.roots.AddCert(ca.Cert)
	c.caFile = c.write("ca.pem", ca.CertPEM())
	c.hospital = wspkit.WSPIdentity(t, sample.HospitalA)
	c.portal = dskit.KeysOf(t, pki.RSA2048).Portal
	c.backOffice()

	hospXML, portalXML := c.entities()
	c.cards = map[string]*pki.Identity{}
	c.idp = idpkit.New(t, idpkit.Options{SPMetadata: [][]byte{hospXML, portalXML}, Discovery: true,
		DSAddress: c.ds.URL() + dsserver.PathSOAP, Store: c.relay, Tweak: func(f *idpkit.Config) {
			f.BaseURL, f.CardBaseURL = c.idpMain.URL(), c.idpCard.URL()
		}})
	for _, p := range c.manifest.People {
		if p.Local[sample.HospitalA] != "" {
			c.people = append(c.people, p)
			c.cards[p.Key] = c.idp.IssueCard(principalOf(p), "HIC-"+p.Key, pki.P256)
		}
	}
	c.idp.Start()
	c.idp2 = c.idp.StartNode()
	c.idpMain.SetBackends(c.idp.Config.Listen, c.idp2.Listen)
	c.idpCard.SetBackends(c.idp.Config.CardListen, c.idp2.CardListen)
	c.sources = []dsserver.MetadataSource{
		{Location: c.write("idp.xml", c.idp.Metadata), Unsigned: true},
		{Location: filepath.Join(c.idp.Dir, "ds.xml"), Unsigned: true},
		{Location: c.write("hospital-a.xml", hospXML), Unsigned: true},
		{Location: c.write("portal.xml", portalXML), Unsigned: true},
	}
	c.startDS()
	c.startWSP()
	return c
}

// principalOf is the principal of a sample person in the relay database.
func principalOf(p sample.Person) string { return "principal-" + p.Key }

func (c *cluster) write(name string, b []byte) string {
	c.t.Helper()
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// backOffice generates the sample institutions (hospital A's mapping
// file, the manifest) and loads hospital A's back office into
// PostgreSQL, the reference date today so that the slots lie ahead.
func (c *cluster) backOffice() {
	t := c.t
	ref := time.Now().UTC().Truncate(24 * time.Hour)
	var err error
	if c.manifest, err = sample.Generate(c.dir, sample.Options{Reference: ref}); err != nil {
		t.Fatal(err)
	}
	script, err := sample.GenerateSQL(sample.HospitalA, sample.PostgreSQL, sample.Options{Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	db := c.db(c.backoffice)
	if _, err := db.Exec(script); err != nil {
		t.Fatal(err)
	}
}

// db opens a database/sql handle on dsn, closed at cleanup.
func (c *cluster) db(dsn string) *sql.DB {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

// entities are hospital A's metadata entity (its WSP at the WSP
// balancer, its desk's SP role) and the portal's (an SP role with a PAOS
// consumer and the request for the discovery bootstrap).
func (c *cluster) entities() (hospXML, portalXML []byte) {
	c.hospACS = wspserver.DefaultDeskACS(c.wsp.URL())
	hosp := fedfiles.InstitutionEntity(c.manifest.Institution(sample.HospitalA), hospitalID, c.wsp.URL(), c.hospACS, c.hospital.Cert)
	// The portal's consumer and logout endpoints are never called: an
	// ECP SP receives the assertion in the SOAP answer, and nothing here
	// logs out.
	c.portalACS = "https://127.0.0.1:9/ecp"
	portal := &md.EntityDescriptor{EntityID: portalID,
		SPSSO: []*md.SPSSODescriptor{wspserver.DeskRole(c.portal.Cert, c.portal.Cert, c.portalACS, "https://127.0.0.1:9/slo")}}
	var out [2][]byte
	for i, e := range []*md.EntityDescriptor{hosp, portal} {
		b, err := xmlsec.Serialize(e.Element())
		if err != nil {
			c.t.Fatal(err)
		}
		out[i] = b
	}
	return out[0], out[1]
}

// pair writes id's certificate and key as name.crt and name.key.
func (c *cluster) pair(name string, id *pki.Identity) dsserver.KeyPair {
	return dsserver.KeyPair{Cert: c.write(name+".crt", id.CertPEM()), Key: c.write(name+".key", id.KeyPEM())}
}

// startDS runs two renkei-ds processes over the relay database, each
// publishing the DS balancer's URL, and points the balancer at them.
func (c *cluster) startDS() {
	bin, err := kitproc.Binary("./cmd/renkei-ds", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	kp := c.pair("ds", c.idp.DSEncryption)
	var addrs []string
	for i := range 2 {
		n := c.run(fmt.Sprintf("renkei-ds #%d", i), bin, func(addr string) []string {
			f := &dsserver.File{EntityID: idpkit.DSEntityID, BaseURL: c.ds.URL(), Listen: addr, TLS: kp, Signing: kp, Encryption: kp,
				IdP: c.idp.EntityID, Store: c.relay, Metadata: c.sources, CheckOutgoing: true,
				Policy: dsserver.Policy{Portals: []string{portalID}}}
			f.Defaults()
			return []string{"-config", c.writeJSON(fmt.Sprintf("ds-%d.json", i), f)}
		})
		c.dsNodes = append(c.dsNodes, n)
		addrs = append(addrs, n.addr)
	}
	c.ds.SetBackends(addrs...)
}

// startWSP registers hospital A's SvcMDs at the DS once (renkei-wsp
// register: two nodes registering at once at their start could both
// register), then runs two renkei-wsp processes over one back office and
// one WSP store, each publishing the WSP balancer's endpoint.
func (c *cluster) startWSP() {
	t := c.t
	bin, err := kitproc.Binary("./cmd/renkei-wsp", nil)
	if err != nil {
		t.Fatal(err)
	}
	in := c.manifest.Institution(sample.HospitalA)
	kp := c.pair("hospital-a", c.hospital)
	file := func(addr string) *wspserver.File {
		f := &wspserver.File{EntityID: hospitalID, BaseURL: c.wsp.URL(), Listen: addr,
			Endpoints: []string{c.wsp.URL() + wspserver.PathSOAP}, TLS: kp, Signing: kp, Encryption: kp, TrustedRoots: c.caFile,
			Metadata: c.sources, Store: c.wspStore,
			Backend:      wspserver.Backend{Kind: "sql", Mapping: filepath.Join(c.dir, in.Mapping), DSN: c.backoffice, Timeout: "30s"},
			AuditReaders: []string{portalID}, DS: idpkit.DSEntityID, CheckOutgoing: true, Abstract: in.NameEn}
		f.Defaults()
		return f
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyWait)
	defer cancel()
	reg := exec.CommandContext(ctx, bin, "-config", c.writeJSON("wsp-register.json", file(freeAddr(t))), "register")
	if out, err := reg.CombinedOutput(); err != nil {
		t.Fatalf("renkei-wsp register: %v\n%s\nDS nodes:\n%s", err, out, c.logs(c.dsNodes))
	}
	var addrs []string
	for i := range 2 {
		n := c.run(fmt.Sprintf("renkei-wsp #%d", i), bin, func(addr string) []string {
			return []string{"-config", c.writeJSON(fmt.Sprintf("wsp-%d.json", i), file(addr))}
		})
		c.wspNodes = append(c.wspNodes, n)
		addrs = append(addrs, n.addr)
	}
	c.wsp.SetBackends(addrs...)
	st, err := sqlstore.Open(context.Background(), c.relay)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mds, err := st.SvcMDs(context.Background(), hospitalID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mds {
		if slices.Contains(m.ServiceTypes, dst.Appointment) {
			if c.svcMDID != "" {
				t.Fatalf("hospital A's appointment service is registered twice at the DS: %+v", mds)
			}
			c.svcMDID = m.ID
		}
	}
	if c.svcMDID == "" {
		t.Fatalf("hospital A's appointment service is not registered at the DS: %+v", mds)
	}
}

func (c *cluster) writeJSON(name string, v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		c.t.Fatal(err)
	}
	return c.write(name, b)
}

// startAttempts bounds the starts of a node whose free port was taken
// between choosing and binding.
const startAttempts = 4

// run starts a node's binary with the arguments args gives for a free
// loopback address, and waits until the node completes a TLS handshake
// there; the node is stopped at cleanup.
func (c *cluster) run(name, bin string, args func(addr string) []string) *node {
	t := c.t
	for attempt := 1; ; attempt++ {
		addr := freeAddr(t)
		n, err := c.spawn(name, addr, bin, args(addr))
		if err == nil {
			return n
		}
		if !strings.Contains(n.out.String(), "address already in use") || attempt == startAttempts {
			t.Fatalf("%v\n%s", err, n.out.String())
		}
	}
}

// spawn starts the node and waits until it answers at addr.
func (c *cluster) spawn(name, addr, bin string, args []string) (*node, error) {
	n := &node{name: name, addr: addr, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	n.cmd.Dir = c.dir
	n.cmd.Stdout, n.cmd.Stderr = &n.out, &n.out
	kitproc.DieWithParent(n.cmd, kitproc.Kill)
	if err := n.cmd.Start(); err != nil {
		return n, err
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	c.t.Cleanup(n.stop)
	deadline := time.Now().Add(readyWait)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{RootCAs: c.roots, MinVersion: tls.VersionTLS12})
		if err == nil {
			conn.Close()
			return n, nil
		}
		select {
		case <-n.done:
			return n, fmt.Errorf("%s exited: %v", name, n.cmd.ProcessState)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("%s does not answer at %s within %s: %v", name, addr, readyWait, err)
		}
	}
}

// logs is what the nodes wrote, for a failure's message.
func (c *cluster) logs(nodes []*node) string {
	s := ""
	for _, n := range nodes {
		s += "--- " + n.name + "\n" + n.out.String()
	}
	return s
}

// freeAddr is a free loopback address; it is released before the node
// binds it.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
