package terminalserver_test

import (
	"crypto"
	"crypto/sha256"
	"net"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/termkit"
	"github.com/renkei-idwsf/renkei/wsc/terminal"
)

// Bounds of one benchmark run.
const (
	benchMinSamples = 12
	benchMaxTime    = 90 * time.Second
)

// BenchmarkCardToEligibility measures the desk from the card's insertion
// to the eligibility on the screen, through the real PC/SC stack (pcscd
// and vpcd; pcscd polls a reader's presence every 400 ms): the PIN typed
// at once, the ECP login whose TLS client authentication the card
// performs, the disco:Query under the reception-desk rule, the insurer's
// DST query. Every role runs as in TestReceptionDesk. It reports the
// median and 95th percentile (the target median is one second) and the
// share of each hop: the card's signature, the rest of the ECP login,
// discovery, the WSP, and the rest (the reader noticing the card, the
// PIN's APDUs). The floor is one raw signature of the card through
// PC/SC, measured in the same run on the other reader of the slot.
func BenchmarkCardToEligibility(b *testing.B) {
	d := termkit.New(b)
	d.Start()
	p := d.PatientOnlyAtB()
	floor := cardSignatureFloor(b, d, p)
	var totals []time.Duration
	var hops terminal.Timing
	start := time.Now()
	b.ResetTimer()
	for i := 0; (i < b.N || i < benchMinSamples) && time.Since(start) < benchMaxTime; i++ {
		t0 := time.Now()
		c := d.Insert(p, 0, virtual.Options{})
		d.Await("the PIN prompt", func(s terminal.Screen) bool { return s.Phase == terminal.NeedPIN })
		d.PIN(virtual.DefaultPIN)
		s := d.Await("the eligibility", func(s terminal.Screen) bool { return s.Phase >= terminal.Ready })
		total := time.Since(t0)
		if s.Phase != terminal.Ready || s.Eligibility == nil || len(s.Eligibility.Coverages) != 1 {
			b.Fatalf("screen %+v", s)
		}
		totals = append(totals, total)
		b.Logf("sample %d: %v (card %v, ECP %v, discovery %v, WSP %v)", i, total, s.Timing.Card, s.Timing.ECP, s.Timing.Discovery, s.Timing.WSP)
		hops.Card += s.Timing.Card
		hops.ECP += s.Timing.ECP
		hops.Discovery += s.Timing.Discovery
		hops.WSP += s.Timing.WSP
		if err := c.Insertion.Remove(); err != nil {
			b.Fatal(err)
		}
		d.Await("an empty screen", func(s terminal.Screen) bool { return s.Phase == terminal.Idle })
		<-d.Ended
	}
	b.StopTimer()
	sort.Slice(totals, func(i, j int) bool { return totals[i] < totals[j] })
	n := len(totals)
	var sum time.Duration
	for _, t := range totals {
		sum += t
	}
	share := func(d time.Duration) float64 { return 100 * float64(d) / float64(sum) }
	b.ReportMetric(float64(totals[n/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(totals[(n*95+99)/100-1].Milliseconds()), "p95-ms")
	b.ReportMetric(share(hops.Card), "%card-sign")
	b.ReportMetric(share(hops.ECP), "%ecp")
	b.ReportMetric(share(hops.Discovery), "%discovery")
	b.ReportMetric(share(hops.WSP), "%wsp")
	b.ReportMetric(share(sum-hops.Card-hops.ECP-hops.Discovery-hops.WSP), "%reader+pin")
	b.ReportMetric(float64(floor.Microseconds())/1000, "floor-card-sign-ms")
	b.ReportMetric(float64(totals[n/2])/float64(floor), "x-floor")
	b.ReportMetric(float64(n), "samples")
}

// cardSignatureFloor is the median of raw signatures of the patient's
// card through PC/SC, on the slot's second reader.
func cardSignatureFloor(b *testing.B, d *termkit.Desk, p *termkit.Patient) time.Duration {
	path := filepath.Join(b.TempDir(), "floor-card.json")
	if err := virtual.Create(path, "HIC-floor", p.Card.Key, p.Card.Cert, nil); err != nil {
		b.Fatal(err)
	}
	vc, err := virtual.Open(path, virtual.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ins, err := virtual.Insert(vc, func() (net.Conn, error) { return d.Slot.Dial(1) })
	if err != nil {
		b.Fatal(err)
	}
	defer ins.Remove()
	r, err := terminal.OpenPCSC(d.Slot.Readers[1])
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := b.Context()
	if err := r.WaitForCard(ctx); err != nil {
		b.Fatal(err)
	}
	c, closer, err := r.Open(virtual.DefaultPIN)
	if err != nil {
		b.Fatal(err)
	}
	defer closer.Close()
	digest := sha256.Sum256([]byte("floor"))
	var ts []time.Duration
	for range 15 {
		t0 := time.Now()
		if _, err := c.Key.Sign(nil, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
		ts = append(ts, time.Since(t0))
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts[len(ts)/2]
}
