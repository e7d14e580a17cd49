// Package vpcd owns the one pcscd that the tests and the demo run the real
// PC/SC stack on, with the vsmartcard vpcd reader driver, and hands each
// user (a test package, a run of the demo) its own reader. It imports no
// test kit, so that the demo binary may use it; the test kit's
// internal/testkit/pcsc adds AcquireT on top.
//
// How Debian 12's vpcd (vsmartcard 3.3) behaves, found by running it:
//
//   - Each reader.conf entry opens two slots, so pcscd shows two readers,
//     "FRIENDLYNAME 00 00" on PORT and "FRIENDLYNAME 00 01" on PORT+1;
//     entries therefore sit two ports apart.
//   - With DEVICENAME HOST:PORT (reverse mode) vpcd connects out to the card
//     once, when pcscd starts. If nothing listens yet, it keeps the closed
//     socket number; the first presence poll fails, the socket is dropped,
//     and the next poll calls select() on fd -1, which glibc's
//     _FORTIFY_SOURCE turns into "*** bit out of range 0 - FD_SETSIZE on
//     fd_set ***: terminated": pcscd aborts. The same happens whenever the
//     card closes the connection or answers the ATR request with nothing,
//     that is on every card removal. (Fixed upstream in 2022, commit
//     76543ea, after the 3.3 release.) Reverse mode thus cannot model
//     removal, nor a card that starts after pcscd, nor packages that come
//     and go.
//   - The driver keeps its two slots in library globals indexed by slot
//     only, so a second entry using the same LIBPATH overwrites the first:
//     only the last entry's ports are ever polled. Each entry here loads
//     its own copy of the driver file (dlopen shares one copy per file).
//   - SIGUSR1 (pcscd --hotplug) does not re-read the reader configuration
//     in this build: the set of readers is fixed when pcscd starts.
//   - With DEVICENAME /dev/null:PORT (server mode) vpcd listens on every
//     interface and accepts a card at each presence poll (every 400 ms);
//     a card that disconnects is reported removed, one that connects is
//     reported inserted. This is the mode used here.
//
// To keep vpcd's listening ports off every real interface, pcscd runs in a
// network namespace of its own (CLONE_NEWNET, so root is needed, as it is
// to run pcscd at all), holding only its loopback; its PC/SC socket is a
// file, reachable from the host namespace as usual. A virtual card enters
// that namespace only to connect (Slot.Dial).
//
// Sharing: one pcscd per machine (its socket path is fixed at build time).
// Acquire takes a lock file, starts pcscd with Entries reader entries if
// the test kit's pcscd is not running, and leases a free entry with a
// per-entry lock file held for the lease. Release frees the lease; the last
// one out stops pcscd by PID. A pcscd the kit did not start (a system
// service, socket activation) is never touched: Acquire fails, naming it.
package vpcd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Entries is the number of reader entries (each with two readers); pcscd
// allows 16 readers at most.
const Entries = 6

// BasePort is vpcd's default port; entry k uses BasePort+2k and +2k+1,
// inside pcscd's own network namespace.
const BasePort = 35963

// Driver is where Debian's vsmartcard-vpcd package installs the driver.
const Driver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"

// SystemSocket is pcscd's socket, fixed when pcsc-lite was built.
const SystemSocket = "/run/pcscd/pcscd.comm"

// Slot is one leased reader entry.
type Slot struct {
	// Index is the entry number.
	Index int
	// Readers are the PC/SC names of the entry's two readers.
	Readers [2]string
	pid     int
	lease   *os.File
	kit     *kit
}

// ReaderName returns the PC/SC name of vpcd slot i (0 or 1) of entry k.
func ReaderName(k, i int) string { return fmt.Sprintf("%s %02d %02d", friendlyName(k), 0, i) }

func friendlyName(k int) string { return "Renkei vpcd " + strconv.Itoa(k) }

// Dial connects to vpcd's slot i (0 or 1) of this entry, as a card being
// inserted; closing the connection removes the card.
func (s *Slot) Dial(i int) (net.Conn, error) {
	if i < 0 || i > 1 {
		return nil, fmt.Errorf("vpcd: slot %d: vpcd has slots 0 and 1", i)
	}
	return dialInNetns(s.pid, fmt.Sprintf("127.0.0.1:%d", BasePort+2*s.Index+i))
}

// Acquire leases a reader entry, starting pcscd if needed.
func Acquire() (*Slot, error) {
	k, err := openKit(filepath.Join(os.TempDir(), "renkei-pcscd"))
	if err != nil {
		return nil, err
	}
	unlock, err := k.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	pid, err := k.ensurePcscd()
	if err != nil {
		return nil, err
	}
	return k.lease(pid)
}

// Release ends the lease; the last lease out stops pcscd.
func (s *Slot) Release() error {
	if s.lease == nil {
		return nil
	}
	s.lease.Close()
	s.lease = nil
	unlock, err := s.kit.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if s.kit.anyLeased() {
		return nil
	}
	return s.kit.stopPcscd()
}

func flock(f *os.File, how int) error {
	for i := 0; i < 100; i++ {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
	return syscall.EINTR
}
