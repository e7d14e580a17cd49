package wspserver_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// TestLastPlaceTwoNodesOnePostgreSQL: hospital A's back office on
// PostgreSQL behind two WSP nodes that share it (and one WSP store, the
// replay cache and the access log); 200 bookings of the last place of a
// slot, sent at once by the portal for several patients, spread over the
// two nodes. Exactly one is booked; every other gets a clear refusal
// (Failed / InvalidData / SlotFull), and the slot is full, not over full.
func TestLastPlaceTwoNodesOnePostgreSQL(t *testing.T) {
	const calls = 200
	ref := time.Now().UTC().Truncate(24 * time.Hour)
	backoffice := pg.NewDatabase(t)
	script, err := sample.GenerateSQL(sample.HospitalA, sample.PostgreSQL, sample.Options{Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", backoffice)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(script); err != nil {
		t.Fatal(err)
	}
	// The back office's bound is raised from its 2 s: 200 writes at once
	// queue for its connections, and on a busy 2-core machine the last
	// wait longer than that; a TimeOut is a clear refusal, but not the
	// one this test is about.
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.HospitalA}, Nodes: 2, Reference: ref, Timeout: "60s",
		Backend: map[string]string{sample.HospitalA: backoffice}, Store: map[string]string{sample.HospitalA: pg.NewDatabase(t)}})
	slot := k.Manifest.Institution(sample.HospitalA).LastPlaceSlot
	nodes := k.WSPs[sample.HospitalA]
	c := k.Portal(t)
	var eprs []*wsf.EPR
	for _, p := range k.Manifest.People {
		if p.Local[sample.HospitalA] == "" {
			continue
		}
		epr := k.EPR(t, k.Discover(t, c, k.Enrol(t, p.Key), dst.Appointment), sample.HospitalA, dst.Appointment)
		for _, n := range nodes { // the same token at either node, as behind a load balancer
			e := *epr
			e.Address = n.SOAPURL()
			eprs = append(eprs, &e)
		}
	}
	svc := dst.Lookup(dst.Appointment)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	statuses := make([]string, calls)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			cr := &dst.Create{Items: []dst.CreateItem{{ItemID: "b", NewData: []dst.Item{{Type: "Appointment",
				Values: []dst.Value{{Name: "Slot", Text: slot}}}}}}}
			res, err := wspkit.Call(ctx, c, eprs[i%len(eprs)], dst.Appointment, "Create", svc.CreateElement(cr), wsf.PurposeSelf)
			if err != nil {
				statuses[i] = "error: " + err.Error()
				return
			}
			r, err := svc.DecodeWriteResponse(res.Payload)
			if err != nil {
				statuses[i] = "error: " + err.Error()
				return
			}
			statuses[i] = chain(r.Status)
		}()
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count["OK"] != 1 || count["Failed/InvalidData/urn:renkei:status:SlotFull"] != calls-1 {
		t.Fatalf("200 bookings of the last place: %v", count)
	}
	for i, n := range nodes {
		if k.Connections(n) == 0 {
			t.Fatalf("node %d took no connection: the bookings were not spread over the nodes", i)
		}
	}
	var capacity, booked int
	if err := db.QueryRow(`SELECT capacity, booked FROM slots WHERE slot_id = $1`, slot).Scan(&capacity, &booked); err != nil {
		t.Fatal(err)
	}
	if booked != capacity {
		t.Fatalf("slot %s: %d booked of %d", slot, booked, capacity)
	}
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
