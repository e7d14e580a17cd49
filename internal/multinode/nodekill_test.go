package multinode_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// Bounds of the test: the slots raced for, and the whole traffic.
const (
	raceSlots   = 3
	trafficTime = 3 * time.Minute
	// killAt is the share of the expected calls done when one node of
	// each role is killed.
	killAt = 0.35
)

// TestNodeKill: two nodes each of the IdP, the DS and hospital A's WSP,
// separate processes over one PostgreSQL server, each role behind a
// round-robin balancer. The sample people known at hospital A log in
// with their cards at the desk and enrol their patient numbers there,
// then log in at the portal, consent, discover, race for the last two
// or three places of the same few slots, and read their appointments.
// When about a third of the calls are done, one node of each role is
// killed with SIGKILL; the clients retry a failed call once through the
// balancer. Then everything a client saw succeed is in the databases:
// each login's session and federation, each link (found by a Query at
// the surviving DS node too), each consent, each token's and each WSP
// access's audit event; each booking seen is in the back office exactly
// once, no citizen holds a slot twice, and each raced slot is full, not
// over its capacity.
func TestNodeKill(t *testing.T) {
	start := time.Now()
	c := newCluster(t)
	t.Logf("cluster of %d citizens up in %v", len(c.people), time.Since(start).Round(time.Millisecond))
	cl := newClients(c)
	slots := c.raceSlots()
	before, err := c.snapshot(slots)
	if err != nil {
		t.Fatal(err)
	}
	citizens := c.citizens()
	rec, atKill := c.drive(cl, citizens, slots)
	t.Logf("traffic done in %v: %d logins, %d links, %d tokens, %d bookings, %d WSP accesses seen; %d retries; %d failures",
		time.Since(start).Round(time.Millisecond), len(rec.logins), len(rec.links), len(rec.tokens), len(rec.bookings),
		len(rec.accesses), rec.retries, len(rec.failures))
	outcomes := map[string]int{}
	for _, b := range rec.bookings {
		outcomes[b.outcome]++
	}
	t.Logf("bookings of %d slots by %d citizens: %v", len(slots), len(citizens), outcomes)
	for _, f := range rec.failures {
		t.Log("failed after its retry:", f)
	}
	if len(rec.failures) > 0 {
		t.Errorf("%d calls failed even after their retry through the balancer", len(rec.failures))
	}
	c.checkSpread(atKill)
	v := c.verifier(cl)
	t.Run("the-checks-catch-a-loss", func(t *testing.T) { v.catches(t, rec, slots, before) })
	for _, err := range v.check(rec, slots, before) {
		t.Error(err)
	}
	t.Logf("checked in %v", time.Since(start).Round(time.Millisecond))
}

// drive runs every citizen's visit at once and kills one node of each
// role when about killAt of the calls are done (or when the traffic
// ended early, which checkSpread then reports); it returns what the
// clients saw and the balancers' counts at the kill.
func (c *cluster) drive(cl *clients, citizens []*citizen, slots []string) (*record, spread) {
	rec := &record{}
	expected := int64(len(citizens) * (3 + 5*len(slots)))
	ctx, cancel := context.WithTimeout(context.Background(), trafficTime)
	defer cancel()
	done := make(chan struct{})
	killed := make(chan spread, 1)
	// going waits a moment and reports whether the traffic goes on.
	going := func() bool {
		select {
		case <-done:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
			return true
		}
	}
	go func() {
		for rec.progress.Load() < int64(float64(expected)*killAt) && going() {
		}
		c.killOneOfEach()
		c.t.Logf("killed one node of each role after %d of about %d calls", rec.progress.Load(), expected)
		killed <- c.spread()
	}()
	var wg sync.WaitGroup
	for _, cz := range citizens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl.visit(ctx, cz, slots, rec)
		}()
	}
	wg.Wait()
	close(done)
	return rec, <-killed
}

// killOneOfEach kills the first node of each role with SIGKILL.
func (c *cluster) killOneOfEach() {
	c.idp.Kill()
	c.dsNodes[0].kill()
	c.wspNodes[0].kill()
}

// spread is how many connections each balancer handed each node: for
// each role, the node killed and the survivor.
type spread map[string][2]int64

func (c *cluster) spread() spread {
	return spread{
		"IdP card login": {c.idpCard.Connections(c.idp.Config.CardListen), c.idpCard.Connections(c.idp2.CardListen)},
		"DS":             {c.ds.Connections(c.dsNodes[0].addr), c.ds.Connections(c.dsNodes[1].addr)},
		"WSP":            {c.wsp.Connections(c.wspNodes[0].addr), c.wsp.Connections(c.wspNodes[1].addr)},
	}
}

// checkSpread wants each killed node to have been handed connections
// before it died, none after, and the survivor of each role to have
// taken connections after the kill: the traffic reached both nodes of
// each role and went on through the survivors.
func (c *cluster) checkSpread(atKill spread) {
	ends := c.spread()
	for _, role := range []string{"IdP card login", "DS", "WSP"} {
		at, end := atKill[role], ends[role]
		c.t.Logf("%s: the killed node took %d connections; the survivor %d before the kill, %d after", role, at[0], at[1], end[1]-at[1])
		if at[0] == 0 || end[0] != at[0] || end[1] <= at[1] {
			c.t.Errorf("%s: connections at the kill %v, at the end %v: the traffic did not reach the killed node before and the survivor after", role, at, end)
		}
	}
}

// citizens are the sample people known at hospital A with their cards.
func (c *cluster) citizens() []*citizen {
	var out []*citizen
	for _, p := range c.people {
		out = append(out, c.citizenOf(p))
	}
	return out
}

// raceSlots picks the slots the citizens race for: open from tomorrow
// on, with two or three places left.
func (c *cluster) raceSlots() []string {
	t := c.t
	from := time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
	rows, err := c.db(c.backoffice).Query(`SELECT slot_id FROM slots WHERE starts_at >= $1 AND capacity - booked BETWEEN 2 AND 3
		ORDER BY starts_at, slot_id LIMIT $2`, from, raceSlots)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var slots []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		slots = append(slots, s)
	}
	if err := rows.Err(); err != nil || len(slots) != raceSlots {
		t.Fatalf("slots with two or three places: %v (%v)", slots, err)
	}
	return slots
}

// snapshot is the back office's state of the raced slots.
type snapshot struct {
	// rows counts the booked rows of each (patient number, slot).
	rows map[[2]string]int
	// capacity, booked (the slot's counter) and held (its rows not
	// cancelled) of each slot.
	capacity, booked, held map[string]int
}

// snapshot reads the back office's state of slots.
func (c *cluster) snapshot(slots []string) (*snapshot, error) {
	db := c.db(c.backoffice)
	s := &snapshot{rows: map[[2]string]int{}, capacity: map[string]int{}, booked: map[string]int{}, held: map[string]int{}}
	rows, err := db.Query(`SELECT patient_no, slot_id, count(*) FROM bookings
		WHERE status = 'booked' AND slot_id = ANY($1) GROUP BY patient_no, slot_id`, slots)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p, slot string
		var n int
		if err := rows.Scan(&p, &slot, &n); err != nil {
			return nil, err
		}
		s.rows[[2]string{p, slot}] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	srows, err := db.Query(`SELECT s.slot_id, s.capacity, s.booked,
		(SELECT count(*) FROM bookings b WHERE b.slot_id = s.slot_id AND b.status <> 'cancelled')
		FROM slots s WHERE s.slot_id = ANY($1)`, slots)
	if err != nil {
		return nil, err
	}
	defer srows.Close()
	for srows.Next() {
		var slot string
		var capacity, booked, held int
		if err := srows.Scan(&slot, &capacity, &booked, &held); err != nil {
			return nil, err
		}
		s.capacity[slot], s.booked[slot], s.held[slot] = capacity, booked, held
	}
	return s, srows.Err()
}

// verifier reads what the databases hold after the traffic, and asks
// the surviving nodes through the balancers.
type verifier struct {
	c            *cluster
	cl           *clients
	relay, audit *sqlstore.DB
}

func (c *cluster) verifier(cl *clients) *verifier {
	t := c.t
	ctx := context.Background()
	v := &verifier{c: c, cl: cl}
	var err error
	if v.relay, err = sqlstore.Open(ctx, c.relay); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.relay.Close() })
	if v.audit, err = sqlstore.Open(ctx, c.wspStore); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.audit.Close() })
	return v
}

// check returns every way the databases differ from what the clients
// saw.
func (v *verifier) check(rec *record, slots []string, before *snapshot) []error {
	var errs []error
	errs = append(errs, v.checkLogins(rec.logins)...)
	errs = append(errs, v.checkLinks(rec.links, rec.assocs)...)
	errs = append(errs, v.checkTokens(rec.tokens)...)
	errs = append(errs, v.checkAccesses(rec.accesses)...)
	after, err := v.c.snapshot(slots)
	if err != nil {
		return append(errs, err)
	}
	errs = append(errs, checkBookings(rec.bookings, before, after)...)
	return errs
}

// checkLogins wants the IdP session of each login seen (by the SP's
// SessionIndex) and the federation of its NameID, both the citizen's.
func (v *verifier) checkLogins(logins []seenLogin) []error {
	ctx := context.Background()
	var errs []error
	for _, l := range logins {
		s, err := v.relay.SessionByIndex(ctx, l.sp, l.sessionIndex)
		if err != nil || s.PrincipalID != l.principal {
			errs = append(errs, fmt.Errorf("login of %s at %s: session %q: %+v, %v", l.principal, l.sp, l.sessionIndex, s.PrincipalID, err))
		}
		f, err := v.relay.FederationByNameID(ctx, l.sp, l.nameID)
		if err != nil || f.PrincipalID != l.principal {
			errs = append(errs, fmt.Errorf("login of %s at %s: federation of %q: %+v, %v", l.principal, l.sp, l.nameID, f.PrincipalID, err))
		}
	}
	return errs
}

// checkLinks wants each enrolment seen in the relay database (the
// federation with hospital A holds the patient number) and found by the
// surviving DS node (a Query's token names it), and each consent seen as
// an association with the appointment service, with its audit event.
func (v *verifier) checkLinks(links []citizenAt, assocs []string) []error {
	ctx := context.Background()
	var errs []error
	for _, l := range links {
		f, err := v.relay.Federation(ctx, l.principal, hospitalID)
		if err != nil || f.SPProvidedID != l.local {
			errs = append(errs, fmt.Errorf("link of %s to %s: federation %+v, %v", l.principal, l.local, f, err))
		}
		if cz := v.c.citizen(l.principal); cz == nil {
			errs = append(errs, fmt.Errorf("link of %s: no such citizen", l.principal))
		} else if local, err := v.cl.linked(ctx, cz); err != nil || local != l.local {
			errs = append(errs, fmt.Errorf("link of %s to %s: the surviving DS gives %q (%v)", l.principal, l.local, local, err))
		}
	}
	for _, p := range assocs {
		as, err := v.relay.Associations(ctx, p)
		found := false
		for _, a := range as {
			found = found || a.SvcMDID == v.c.svcMDID
		}
		if err != nil || !found {
			errs = append(errs, fmt.Errorf("consent of %s: associations %+v, %v", p, as, err))
		}
		audited, err := v.events(v.relay, p, discovery.AuditAssociationAdd, func(b []byte) string {
			var d discovery.AuditDetail
			_ = json.Unmarshal(b, &d)
			return d.SvcMDID
		})
		if err != nil || !audited[v.c.svcMDID] {
			errs = append(errs, fmt.Errorf("consent of %s has no audit event at the DS (%v)", p, err))
		}
	}
	return errs
}

// checkTokens wants the DS's audit event of each token a client was
// given (discovery.AuditToken, the token's ID in its detail).
func (v *verifier) checkTokens(tokens []citizenAt) []error {
	var errs []error
	byPrincipal := map[string][]string{}
	for _, tk := range tokens {
		byPrincipal[tk.principal] = append(byPrincipal[tk.principal], tk.what)
	}
	for p, ids := range byPrincipal {
		seen, err := v.events(v.relay, p, discovery.AuditToken, func(b []byte) string {
			var d discovery.AuditDetail
			_ = json.Unmarshal(b, &d)
			return d.TokenID
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, id := range ids {
			if !seen[id] {
				errs = append(errs, fmt.Errorf("token %s given to the portal for %s has no audit event at the DS", id, p))
			}
		}
	}
	return errs
}

// checkAccesses wants the WSP's audit event of each call answered
// (the request's MessageID in its detail).
func (v *verifier) checkAccesses(accesses []citizenAt) []error {
	var errs []error
	byLocal := map[string][]string{}
	for _, a := range accesses {
		byLocal[a.local] = append(byLocal[a.local], a.what)
	}
	for local, mids := range byLocal {
		seen, err := v.events(v.audit, local, "", func(b []byte) string {
			var d struct {
				MessageID string `json:"messageID"`
			}
			_ = json.Unmarshal(b, &d)
			return d.MessageID
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, m := range mids {
			if m == "" || !seen[m] {
				errs = append(errs, fmt.Errorf("WSP access %q for %s has no audit event", m, local))
			}
		}
	}
	return errs
}

// events reads every audit event of principal (of action, when set) and
// returns the keys key finds in their details.
func (v *verifier) events(log store.AuditLog, principal, action string, key func([]byte) string) (map[string]bool, error) {
	ctx := context.Background()
	seen := map[string]bool{}
	cursor := ""
	for {
		p, err := log.AuditEvents(ctx, store.AuditQuery{PrincipalID: principal, Cursor: cursor, Limit: store.MaxAuditLimit})
		if err != nil {
			return nil, fmt.Errorf("audit events of %s: %w", principal, err)
		}
		for _, e := range p.Events {
			if action == "" || e.Action == action {
				seen[key(e.Detail)] = true
			}
		}
		if p.Next == "" {
			return seen, nil
		}
		cursor = p.Next
	}
}

// checkBookings wants each booking seen booked once in the back office
// (one new row), a booking refused as full not there, no citizen booked
// twice into a slot, and each raced slot full, not over its capacity,
// its counter moved by as many places as new rows hold it.
func checkBookings(seen []seenBooking, before, after *snapshot) []error {
	var errs []error
	for _, b := range seen {
		k := [2]string{b.local, b.slot}
		n := after.rows[k] - before.rows[k]
		switch {
		case b.outcome == "booked" && n != 1:
			errs = append(errs, fmt.Errorf("booking of %s by %s seen booked: %d new rows in the back office", b.slot, b.local, n))
		case b.outcome == "full" && n != 0:
			errs = append(errs, fmt.Errorf("booking of %s by %s seen refused as full: %d new rows in the back office", b.slot, b.local, n))
		}
	}
	for k, n := range after.rows {
		if n-before.rows[k] > 1 {
			errs = append(errs, fmt.Errorf("slot %s holds %d new bookings of %s", k[1], n-before.rows[k], k[0]))
		}
	}
	for slot, capacity := range after.capacity {
		booked, held := after.booked[slot], after.held[slot]
		if booked != capacity {
			errs = append(errs, fmt.Errorf("slot %s: %d of %d places booked after the race for its last places", slot, booked, capacity))
		}
		if booked > capacity || held > capacity || booked-before.booked[slot] != held-before.held[slot] {
			errs = append(errs, fmt.Errorf("slot %s: capacity %d, booked %d (before %d), bookings held %d (before %d)",
				slot, capacity, booked, before.booked[slot], held, before.held[slot]))
		}
	}
	return errs
}

// catches runs the checks on what the clients saw with one loss made
// up in each kind (a login, a link, a token, an access, a booking that
// the databases do not hold), and wants each reported: the checks of
// the test can fail.
func (v *verifier) catches(t *testing.T, rec *record, slots []string, before *snapshot) {
	if len(rec.logins) == 0 || len(rec.links) == 0 || len(rec.tokens) == 0 || len(rec.accesses) == 0 || len(rec.bookings) == 0 {
		t.Fatal("the clients saw nothing succeed: there is nothing to lose")
	}
	l := rec.logins[0]
	l.sessionIndex += "-lost"
	if len(v.checkLogins([]seenLogin{l})) == 0 {
		t.Error("a login whose session is not in the store is not reported")
	}
	k := rec.links[0]
	k.local += "-lost"
	if len(v.checkLinks([]citizenAt{k}, nil)) == 0 {
		t.Error("a link the relay database does not hold is not reported")
	}
	tk := rec.tokens[0]
	tk.what += "-lost"
	if len(v.checkTokens([]citizenAt{tk})) == 0 {
		t.Error("a token without its audit event is not reported")
	}
	a := rec.accesses[0]
	a.what += "-lost"
	if len(v.checkAccesses([]citizenAt{a})) == 0 {
		t.Error("a WSP access without its audit event is not reported")
	}
	after, err := v.c.snapshot(slots)
	if err != nil {
		t.Fatal(err)
	}
	var lost []seenBooking
	for _, b := range rec.bookings {
		if b.outcome == "full" {
			b.outcome = "booked" // seen booked, but the back office never took it
			lost = append(lost, b)
			break
		}
	}
	if len(lost) == 0 {
		t.Fatal("no booking was refused as full: the citizens did not race for the places")
	}
	base := len(checkBookings(nil, before, after))
	if len(checkBookings(lost, before, after)) <= base {
		t.Error("a booking the back office does not hold is not reported")
	}
	twice := &snapshot{rows: map[[2]string]int{}, capacity: after.capacity, booked: after.booked, held: after.held}
	for key, n := range after.rows {
		twice.rows[key] = n + 1
	}
	if len(checkBookings(nil, before, twice)) <= base {
		t.Error("a slot booked twice by one citizen is not reported")
	}
}

// citizen returns the citizen of principal, or nil.
func (c *cluster) citizen(principal string) *citizen {
	for _, p := range c.people {
		if principalOf(p) == principal {
			return c.citizenOf(p)
		}
	}
	return nil
}

// citizenOf is the sample person p with their card.
func (c *cluster) citizenOf(p sample.Person) *citizen {
	return &citizen{key: p.Key, principal: principalOf(p), local: p.Local[sample.HospitalA], card: c.httpClient(c.cards[p.Key])}
}
