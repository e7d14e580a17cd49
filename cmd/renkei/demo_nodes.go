package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/internal/pgcluster"
	"github.com/renkei-idwsf/renkei/internal/rr"
)

// pgWait bounds initdb and the start of the demo's PostgreSQL.
const pgWait = 2 * time.Minute

// balancerNames are the several-node variant's balancers, keys of
// fedfiles.Federation.Backends: the IdP's main and card-login listeners,
// the DS, hospital A's WSP.
var balancerNames = []string{"idp", "idp-card", "ds", "wsp"}

// nodes is what the several-node variant runs in the demo's process: a
// throwaway PostgreSQL and the round-robin balancers.
type nodes struct {
	pg  *pgcluster.Cluster
	bal map[string]*rr.Balancer
	// atKill are the connections each balancer had handed the survivors
	// when killOne killed the first node of each role; nil before.
	atKill map[string]int64
}

// handed counts the connections each balancer has handed the nodes that
// survive killOne: every backend but the first.
func (n *nodes) handed(f *fedfiles.Federation) map[string]int64 {
	m := map[string]int64{}
	for name, b := range n.bal {
		for _, a := range f.Backends[name][1:] {
			m[name] += b.Connections(a)
		}
	}
	return m
}

// survivorsServed prints how many connections the survivors took after
// the kill, and fails if a role's survivors took none: the rest of the
// story did not go through them.
func (d *demo) survivorsServed() error {
	if d.nodes == nil || d.nodes.atKill == nil {
		return nil
	}
	now := d.nodes.handed(d.fed)
	delta := func(names ...string) (n int64) {
		for _, name := range names {
			n += now[name] - d.nodes.atKill[name]
		}
		return n
	}
	got := map[string]int64{"idp": delta("idp", "idp-card"), "ds": delta("ds"), "wsp": delta("wsp")}
	fmt.Fprintf(d.out, "after the kill the balancers handed the survivors %d connections (the IdP's, main and card login), %d (the DS's), %d (hospital A's WSP's)\n",
		got["idp"], got["ds"], got["wsp"])
	var none []string
	for _, r := range []string{"idp", "ds", "wsp"} {
		if got[r] == 0 {
			none = append(none, r)
		}
	}
	if len(none) > 0 {
		return fmt.Errorf("the surviving nodes of %s took no connection after the kill", strings.Join(none, ", "))
	}
	return nil
}

// startNodes starts PostgreSQL (its databases: the relay database,
// hospital A's back office and WSP store) and the balancers, each
// stopped at the end, and says what fedfiles is to write.
func (d *demo) startNodes(ctx context.Context) (*fedfiles.Nodes, error) {
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, pgWait)
	defer cancel()
	c, err := pgcluster.Start(pctx, pgcluster.Config{})
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted while PostgreSQL started: %w", ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("the several-node demo needs PostgreSQL (Debian's postgresql): %w", err)
	}
	d.cleanups = append(d.cleanups, func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintf(d.out, "PostgreSQL: %v\n", err)
		}
	})
	n := &nodes{pg: c, bal: map[string]*rr.Balancer{}}
	d.nodes = n
	o := &fedfiles.Nodes{}
	for _, db := range []struct {
		name string
		dsn  *string
	}{{"relay", &o.Relay}, {"hospital_a", &o.BackOffice}, {"hospital_a_wsp", &o.WSPStore}} {
		if *db.dsn, err = c.CreateDatabase(pctx, db.name); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(d.out, "PostgreSQL: a throwaway cluster at %s (pid %d), databases relay, hospital_a (back office), hospital_a_wsp (%s)\n",
		strings.TrimSuffix(c.DSN(""), "?sslmode=disable"), c.PID(), since(start))
	for _, name := range balancerNames {
		b, err := rr.Listen()
		if err != nil {
			return nil, err
		}
		d.cleanups = append(d.cleanups, func() { b.Close() })
		n.bal[name] = b
	}
	o.IdP, o.IdPCard, o.DS, o.WSP = n.bal["idp"].Addr(), n.bal["idp-card"].Addr(), n.bal["ds"].Addr(), n.bal["wsp"].Addr()
	return o, nil
}

// route points each balancer at the nodes fedfiles wrote.
func (n *nodes) route(f *fedfiles.Federation) {
	for name, b := range n.bal {
		b.SetBackends(f.Backends[name]...)
	}
}

// guideNodes prints the balancers, every node with its pid and metrics,
// and what to try.
func (d *demo) guideNodes() {
	w := d.out
	fmt.Fprintf(w, "\nSeveral nodes: every node of a role publishes its balancer's URL; the nodes share PostgreSQL (pid %d)\n", d.nodes.pg.PID())
	for _, name := range balancerNames {
		label := name
		if name == "wsp" {
			label = "wsp " + fedfiles.NodeInstitution
		}
		fmt.Fprintf(w, "  balancer %-15s %s -> %s\n", label, d.nodes.bal[name].URL(), strings.Join(d.fed.Backends[name], ", "))
	}
	for _, r := range d.fed.Roles {
		if c := d.fleet.role(r.Name); r.Node != "" && c != nil {
			fmt.Fprintf(w, "  %-18s %s  pid %-7d %s/metrics\n", r.Name, r.Node, c.cmd.Process.Pid, r.Admin)
		}
	}
	fmt.Fprintf(w, "  try: kill a node (kill PID, or kill -9 PID for a crash) and keep using the portal: its balancer skips it,\n")
	fmt.Fprintf(w, "       and the survivor serves from the same store (sessions, tokens, links, bookings)\n")
}

// killOne ends the first node of each several-node role at once
// (SIGKILL, as a crashed machine ends) and says which nodes go on.
func (d *demo) killOne() error {
	var killed, left []string
	seen := map[string]bool{}
	for _, r := range d.fed.Roles {
		if r.Node == "" {
			continue
		}
		c := d.fleet.role(r.Name)
		if c == nil {
			return fmt.Errorf("node %s is not running", r.Name)
		}
		if seen[r.Balancer] {
			left = append(left, r.Name)
			continue
		}
		seen[r.Balancer] = true
		pid := c.cmd.Process.Pid
		if err := d.fleet.kill(c); err != nil {
			return fmt.Errorf("killing %s (pid %d): %w", r.Name, pid, err)
		}
		killed = append(killed, fmt.Sprintf("%s (pid %d)", r.Name, pid))
	}
	if len(killed) == 0 {
		return fmt.Errorf("no several-node role to kill a node of")
	}
	d.nodes.atKill = d.nodes.handed(d.fed)
	fmt.Fprintf(d.out, "-- killed (SIGKILL) %s; the walk goes on through %s\n", strings.Join(killed, ", "), strings.Join(left, ", "))
	return nil
}

// kill ends c at once with SIGKILL and waits, a bounded time, until it
// is gone.
func (f *fleet) kill(c *child) error {
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-c.done:
		if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && !(ws.Signaled() && ws.Signal() == syscall.SIGKILL) {
			return fmt.Errorf("it ended otherwise: %v", c.cmd.ProcessState)
		}
		return nil
	case <-time.After(stopWait):
		return fmt.Errorf("still running %s after SIGKILL", stopWait)
	}
}

// splitRoles sorts the roles into the order they start in: every role
// that calls no other at its start, the jobs (renkei-wsp register, once
// for a WSP's nodes), then the WSPs, which register their services at
// the DS at once.
func splitRoles(roles []fedfiles.Role) (first, jobs, wsps []fedfiles.Role) {
	for _, r := range roles {
		switch {
		case r.Job:
			jobs = append(jobs, r)
		case r.Command == "renkei-wsp" && r.Config != "":
			wsps = append(wsps, r)
		default:
			first = append(first, r)
		}
	}
	return slices.Clip(first), jobs, wsps
}

// job runs r to its end within readyWait, its output to logs/NAME.log.
func (f *fleet) job(ctx context.Context, r fedfiles.Role) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(f.bin, r.Command), r.Args...)
	cmd.Dir = filepath.Dir(f.logs)
	ownGroup(cmd)
	out, err := cmd.CombinedOutput()
	if werr := os.MkdirAll(f.logs, 0o700); werr == nil {
		_ = os.WriteFile(filepath.Join(f.logs, strings.ReplaceAll(r.Name, " ", "-")+".log"), out, 0o600)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %v; its output:\n%s", r.Name, err, out)
	}
	return since(start), nil
}
