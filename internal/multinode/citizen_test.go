package multinode_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Bounds of the clients: one call, and the pause before the one retry a
// client behind a balancer makes (its new connection reaches a live
// node).
const (
	callTimeout = 30 * time.Second
	retryPause  = 300 * time.Millisecond
)

// slotFull is the status of a booking refused because the slot is full.
const slotFull = "Failed/InvalidData/urn:renkei:status:SlotFull"

// clients are the parties that drive the traffic, each reaching a role
// only through its balancer: hospital A's desk (an ECP SP: card logins,
// the enrolment of patient numbers), the portal (an ECP SP: card logins
// with the discovery bootstrap; then the WSC of the DS and the WSP).
type clients struct {
	c                *cluster
	hospital, portal *sp.SP
	wsc              *client.Client
	nim              *http.Client // the desk's SOAP client to the IdP
	// tokens reads a token the DS minted for hospital A, as its WSP does.
	tokens *secmech.TokenChecker
}

// citizen is one card holder driving traffic.
type citizen struct {
	key, principal, local string
	card                  *http.Client // the card's key is its TLS client key
}

// record is what the clients saw: every call they saw succeed, and the
// calls that failed even after their retry.
type record struct {
	mu       sync.Mutex
	logins   []seenLogin
	links    []citizenAt
	assocs   []string // principals
	tokens   []citizenAt
	bookings []seenBooking
	accesses []citizenAt // WSP calls answered: the request's MessageID
	retries  int
	failures []string
	progress atomic.Int64 // calls done, which times the kill
}

type seenLogin struct {
	principal, sp, nameID, sessionIndex string
}

// citizenAt is a citizen's principal and local identifier with what
// was seen: the link's local identifier, a token's ID, a MessageID.
type citizenAt struct {
	principal, local, what string
}

// seenBooking is a booking's outcome: booked (the client saw OK, or
// found the booking after a failed call), full (the client saw
// SlotFull), unknown (both calls failed).
type seenBooking struct {
	principal, local, slot, outcome string
}

func (r *record) add(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
	r.progress.Add(1)
}

func (r *record) fail(what string, err error) {
	r.add(func() { r.failures = append(r.failures, what+": "+err.Error()) })
}

// twice calls f and, when it fails, once more after retryPause.
func (r *record) twice(f func() error) error {
	if err := f(); err == nil {
		return nil
	}
	r.add(func() { r.retries++ })
	time.Sleep(retryPause)
	return f()
}

// newClients builds the desk's and the portal's SAML SPs (their stores
// are SQLite files of their own) and the portal's WSC, trusting the
// metadata every role loads.
func newClients(c *cluster) *clients {
	t := c.t
	ctx := context.Background()
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	var srcs []md.Source
	for _, s := range c.sources {
		srcs = append(srcs, md.Source{Location: s.Location, Unsigned: true})
	}
	set, err := md.New(md.Config{Sources: srcs, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Refresh(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	dir, err := metadir.New(metadir.Config{Metadata: set, Issuers: []string{c.idp.EntityID, idpkit.DSEntityID}})
	if err != nil {
		t.Fatal(err)
	}
	mkSP := func(name, entityID, acs string, id *pki.Identity) *sp.SP {
		st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(c.dir, name+".db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		s, err := sp.New(sp.Config{EntityID: entityID, ECPACSURL: acs, IdP: c.idp.EntityID, Metadata: set,
			Key: id.Key, Certificate: id.Cert, Decrypter: &xmlenc.Decrypter{Key: id.Key.(crypto.Decrypter)},
			EncryptionCertificate: id.Cert, Store: st, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cl := &clients{c: c, hospital: mkSP("desk", hospitalID, c.hospACS, c.hospital), portal: mkSP("portal", portalID, c.portalACS, c.portal),
		nim: c.httpClient(c.hospital), tokens: &secmech.TokenChecker{Self: hospitalID, Directory: dir, Skew: time.Minute,
			Decrypter: &xmlenc.Decrypter{Key: c.hospital.Key.(crypto.Decrypter), EntityID: hospitalID}}}
	if cl.wsc, err = client.New(client.Config{EntityID: portalID, Key: c.portal.Key, Certificate: c.portal.Cert, Directory: dir,
		HTTP: c.httpClient(c.portal), Schema: schema, Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2}}); err != nil {
		t.Fatal(err)
	}
	return cl
}

// httpClient presents id's certificate and opens a new connection for
// every call, so that each call goes to the next node of the balancer.
func (c *cluster) httpClient(id *pki.Identity) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: c.roots, MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}}}}
	return &http.Client{Transport: tr, Timeout: callTimeout}
}

// login is a card login over ECP at s (SAML Profiles §4.2): the card's
// key authenticates the TLS handshake at the IdP's card listener.
func (cl *clients) login(ctx context.Context, s *sp.SP, cz *citizen) (*sp.Login, error) {
	req, err := s.StartECP(ctx)
	if err != nil {
		return nil, err
	}
	ans, err := sp.PostSOAP(ctx, cz.card, req)
	if err != nil {
		return nil, err
	}
	return s.ConsumeECP(ctx, bytes.NewReader(ans), req.ID)
}

// enrol is the desk's ManageNameID NewID of the citizen's patient
// number, right after the card login at the desk.
func (cl *clients) enrol(ctx context.Context, l *sp.Login, local string) error {
	req, err := cl.hospital.StartNewID(ctx, l, local)
	if err != nil {
		return err
	}
	ans, err := sp.PostSOAP(ctx, cl.nim, req)
	if err != nil {
		return err
	}
	return cl.hospital.ConsumeNewID(ctx, bytes.NewReader(ans), req.ID)
}

// associate is the citizen's consent to hospital A's appointment
// service, recorded by the portal at the DS with the bootstrap's token.
func (cl *clients) associate(ctx context.Context, boot *wsf.EPR) error {
	res, err := cl.wsc.Call(ctx, &client.Call{EPR: boot, Action: disco.Action("SvcMDAssociationAdd"),
		Payload: (&disco.SvcMDAssociationAdd{SvcMDIDs: []string{cl.c.svcMDID}}).Element(),
		Header:  wsf.Header{Consent: &wsf.Consent{URI: wsf.ConsentObtained}}})
	if err != nil {
		return err
	}
	r, err := disco.DecodeSvcMDAssociationAddResponse(res.Payload)
	if err == nil && r.Status.Code != disco.OK {
		err = fmt.Errorf("SvcMDAssociationAdd: %+v", r.Status)
	}
	return err
}

// discover asks the DS for hospital A's appointment service and returns
// its EPR and the ID of the token the DS minted in it.
func (cl *clients) discover(ctx context.Context, boot *wsf.EPR) (*wsf.EPR, string, error) {
	q := &disco.Query{RequestedServices: []disco.RequestedService{{ServiceTypes: []string{dst.Appointment}}}}
	res, err := cl.wsc.Call(ctx, &client.Call{EPR: boot, Action: disco.Action("Query"), Payload: q.Element()})
	if err != nil {
		return nil, "", err
	}
	r, err := disco.DecodeQueryResponse(res.Payload)
	if err != nil {
		return nil, "", err
	}
	if r.Status.Code != disco.OK || len(r.EPRs) != 1 {
		return nil, "", fmt.Errorf("disco:Query: %+v with %d EPRs", r.Status, len(r.EPRs))
	}
	e := r.EPRs[0]
	if e.Metadata == nil || len(e.Metadata.SecurityContexts) != 1 || len(e.Metadata.SecurityContexts[0].Tokens) != 1 {
		return nil, "", fmt.Errorf("disco:Query: EPR %+v carries no token", e)
	}
	id := e.Metadata.SecurityContexts[0].Tokens[0].Element.SelectAttrValue("ID", "")
	if id == "" {
		return nil, "", errors.New("disco:Query: the token has no ID")
	}
	return e, id, nil
}

// create books slot; it returns the answer's status and the request's
// MessageID.
func (cl *clients) create(ctx context.Context, epr *wsf.EPR, slot string) (string, string, error) {
	svc := dst.Lookup(dst.Appointment)
	cr := &dst.Create{Items: []dst.CreateItem{{ItemID: "b", NewData: []dst.Item{{Type: "Appointment",
		Values: []dst.Value{{Name: "Slot", Text: slot}}}}}}}
	res, err := wspkit.Call(ctx, cl.wsc, epr, dst.Appointment, "Create", svc.CreateElement(cr), wsf.PurposeSelf)
	if err != nil {
		return "", "", err
	}
	r, err := svc.DecodeWriteResponse(res.Payload)
	if err != nil {
		return "", "", err
	}
	return chain(r.Status), res.Header.RelatesTo, nil
}

// appointments reads the citizen's appointments; it returns the slots
// booked and the request's MessageID.
func (cl *clients) appointments(ctx context.Context, epr *wsf.EPR) (map[string]bool, string, error) {
	svc := dst.Lookup(dst.Appointment)
	q := &dst.Query{Items: []dst.QueryItem{{ItemID: "a", Select: "/ap:Appointment", HasSelect: true, Count: -1}}}
	res, err := wspkit.Call(ctx, cl.wsc, epr, dst.Appointment, "Query", svc.QueryElement(q), wsf.PurposeSelf)
	if err != nil {
		return nil, "", err
	}
	r, err := svc.DecodeQueryResponse(res.Payload)
	if err != nil {
		return nil, "", err
	}
	if r.Status.Code != wsf.OK {
		return nil, "", fmt.Errorf("appointments: %s", chain(r.Status))
	}
	booked := map[string]bool{}
	for _, d := range r.Data {
		for _, it := range d.Items {
			if it.Get("Status") == "booked" {
				booked[it.Get("Slot")] = true
			}
		}
	}
	return booked, res.Header.RelatesTo, nil
}

// visit is one citizen's traffic: a card login at hospital A's desk and
// the enrolment of the patient number there; then for each slot a card
// login at the portal, the consent to the appointment service (the
// first time), a discovery, the booking and a read of the appointments.
// Every call is retried once; a booking is retried only after a read
// shows it did not go through, as a client that cannot tell whether a
// write happened must.
func (cl *clients) visit(ctx context.Context, cz *citizen, slots []string, rec *record) {
	if !cl.reception(ctx, cz, rec) {
		return
	}
	for i, slot := range slots {
		if !cl.round(ctx, cz, slot, i == 0, rec) {
			return
		}
	}
}

// reception is the card login at hospital A's desk and the enrolment of
// the patient number; it reports whether both went through.
func (cl *clients) reception(ctx context.Context, cz *citizen, rec *record) bool {
	var desk *sp.Login
	if err := rec.twice(func() (err error) { desk, err = cl.login(ctx, cl.hospital, cz); return }); err != nil {
		rec.fail(cz.key+" desk login", err)
		return false
	}
	rec.add(func() {
		rec.logins = append(rec.logins, seenLogin{cz.principal, hospitalID, desk.NameID.Value, desk.SessionIndex})
	})
	if err := rec.twice(func() error { return cl.enrol(ctx, desk, cz.local) }); err != nil {
		rec.fail(cz.key+" enrolment", err)
		return false
	}
	rec.add(func() { rec.links = append(rec.links, citizenAt{cz.principal, cz.local, cz.local}) })
	return true
}

// round is a visit to the portal: a card login, the consent when first,
// a discovery, the booking of slot and a read of the appointments; it
// reports whether the citizen can go on.
func (cl *clients) round(ctx context.Context, cz *citizen, slot string, first bool, rec *record) bool {
	var l *sp.Login
	if err := rec.twice(func() (err error) { l, err = cl.login(ctx, cl.portal, cz); return }); err != nil {
		rec.fail(cz.key+" portal login", err)
		return false
	}
	rec.add(func() {
		rec.logins = append(rec.logins, seenLogin{cz.principal, portalID, l.NameID.Value, l.SessionIndex})
	})
	if l.Bootstrap == nil {
		rec.fail(cz.key+" portal login", errors.New("no discovery bootstrap"))
		return false
	}
	if first {
		if err := rec.twice(func() error { return cl.associate(ctx, l.Bootstrap) }); err != nil {
			rec.fail(cz.key+" consent", err)
			return false
		}
		rec.add(func() { rec.assocs = append(rec.assocs, cz.principal) })
	}
	var epr *wsf.EPR
	var tokenID string
	if err := rec.twice(func() (err error) { epr, tokenID, err = cl.discover(ctx, l.Bootstrap); return }); err != nil {
		rec.fail(cz.key+" discovery", err)
		return false
	}
	rec.add(func() { rec.tokens = append(rec.tokens, citizenAt{cz.principal, cz.local, tokenID}) })
	cl.book(ctx, cz, epr, slot, rec)
	var mid string
	if err := rec.twice(func() (err error) { _, mid, err = cl.appointments(ctx, epr); return }); err != nil {
		rec.fail(cz.key+" appointments", err)
		return true
	}
	rec.add(func() { rec.accesses = append(rec.accesses, citizenAt{cz.principal, cz.local, mid}) })
	return true
}

// book books slot for the citizen and records the outcome.
func (cl *clients) book(ctx context.Context, cz *citizen, epr *wsf.EPR, slot string, rec *record) {
	outcome := func(status, mid string) {
		b := seenBooking{cz.principal, cz.local, slot, "booked"}
		switch status {
		case "OK":
		case slotFull:
			b.outcome = "full"
		default:
			rec.fail(cz.key+" booking", errors.New(status))
			return
		}
		rec.add(func() {
			rec.bookings = append(rec.bookings, b)
			rec.accesses = append(rec.accesses, citizenAt{cz.principal, cz.local, mid})
		})
	}
	unknown := func(err error) {
		rec.add(func() { rec.bookings = append(rec.bookings, seenBooking{cz.principal, cz.local, slot, "unknown"}) })
		rec.fail(cz.key+" booking", err)
	}
	st, mid, err := cl.create(ctx, epr, slot)
	if err == nil {
		outcome(st, mid)
		return
	}
	rec.add(func() { rec.retries++ })
	time.Sleep(retryPause)
	booked, qmid, qerr := cl.appointments(ctx, epr)
	if qerr != nil {
		unknown(errors.Join(err, qerr))
		return
	}
	rec.add(func() { rec.accesses = append(rec.accesses, citizenAt{cz.principal, cz.local, qmid}) })
	if booked[slot] {
		rec.add(func() { rec.bookings = append(rec.bookings, seenBooking{cz.principal, cz.local, slot, "booked"}) })
		return
	}
	if st, mid, err = cl.create(ctx, epr, slot); err != nil {
		unknown(err)
		return
	}
	outcome(st, mid)
}

// linked logs the citizen in at the portal and asks the DS for hospital
// A's appointment service; it returns the local identifier the token's
// subject names, read with hospital A's key: the link the DS found.
func (cl *clients) linked(ctx context.Context, cz *citizen) (string, error) {
	l, err := cl.login(ctx, cl.portal, cz)
	if err != nil {
		return "", err
	}
	if l.Bootstrap == nil {
		return "", errors.New("no discovery bootstrap")
	}
	epr, _, err := cl.discover(ctx, l.Bootstrap)
	if err != nil {
		return "", err
	}
	tok, err := cl.tokens.Check(ctx, epr.Metadata.SecurityContexts[0].Tokens[0].Element, time.Now(), false)
	if err != nil {
		return "", err
	}
	return tok.Subject.SPProvidedID, nil
}

// chain renders a status as the codes, outermost first.
func chain(st wsf.Status) string {
	s := string(st.Code)
	for len(st.Sub) > 0 {
		st = st.Sub[0]
		s += "/" + string(st.Code)
	}
	return s
}
