// Package multinode holds the test of several nodes (TestNodeKill): two
// renkei-idp, two renkei-ds and two renkei-wsp processes of hospital A over
// one throwaway PostgreSQL, each role behind a round-robin balancer on
// loopback (internal/testkit/rr), one node of each killed with SIGKILL in
// the middle of concurrent logins, links, bookings and reads. It has no
// code of its own beside the test.
package multinode
