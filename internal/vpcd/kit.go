package vpcd

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startWait bounds how long pcscd may take to open its socket.
const startWait = 10 * time.Second

// kit is the shared state directory: lock, state (pcscd's PID), reader
// configuration, per-entry lease files and pcscd's log.
type kit struct{ dir string }

func openKit(dir string) (*kit, error) {
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		return nil, err
	}
	return &kit{dir: dir}, nil
}

func (k *kit) path(name string) string { return filepath.Join(k.dir, name) }

// lock takes the kit's lock file; the returned func releases it.
func (k *kit) lock() (func(), error) {
	f, err := os.OpenFile(k.path("lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := flock(f, syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// ensurePcscd returns the PID of the kit's running pcscd, starting one
// when there is none.
func (k *kit) ensurePcscd() (int, error) {
	if pid := k.runningPID(); pid > 0 {
		return pid, nil
	}
	if err := checkNoForeignPcscd(); err != nil {
		return 0, err
	}
	return k.startPcscd()
}

// runningPID reads the state file and returns the PID if that process is
// alive and is pcscd started with this kit's configuration.
func (k *kit) runningPID() int {
	b, err := os.ReadFile(k.path("pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || !k.isOurs(pid) {
		return 0
	}
	return pid
}

func (k *kit) isOurs(pid int) bool {
	cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !alive(pid) {
		return false
	}
	return bytes.Contains(cmd, []byte("pcscd")) && bytes.Contains(cmd, []byte(k.path("conf")))
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// checkNoForeignPcscd fails when some other pcscd (a system service, or
// systemd's socket) answers on the fixed socket.
func checkNoForeignPcscd() error {
	c, err := net.DialTimeout("unix", SystemSocket, time.Second)
	if err != nil {
		return nil
	}
	c.Close()
	pid, _ := os.ReadFile("/run/pcscd/pcscd.pid")
	return fmt.Errorf("a pcscd the test kit did not start answers on %s (pid %q); "+
		"the kit never touches it: stop it (systemctl stop pcscd.socket pcscd.service) and run again",
		SystemSocket, strings.TrimSpace(string(pid)))
}

func (k *kit) writeConf() error {
	drv, err := os.ReadFile(Driver)
	if err != nil {
		return fmt.Errorf("vpcd driver missing (%v): install vsmartcard-vpcd (make deps)", err)
	}
	for i := 0; i < Entries; i++ {
		// One copy of the driver per entry: vpcd keeps its slots in
		// library globals, and dlopen shares one copy per file.
		lib := k.path(fmt.Sprintf("libifdvpcd-%d.so", i))
		if err := os.WriteFile(lib, drv, 0o644); err != nil {
			return err
		}
		conf := fmt.Sprintf("FRIENDLYNAME \"%s\"\nDEVICENAME /dev/null:%d\nLIBPATH %s\n",
			friendlyName(i), BasePort+2*i, lib)
		if err := os.WriteFile(filepath.Join(k.path("conf"), fmt.Sprintf("vpcd-%d", i)), []byte(conf), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startPcscd runs pcscd -f -c conf in a new network namespace and in its
// own process group, then waits for its socket.
func (k *kit) startPcscd() (int, error) {
	if err := k.writeConf(); err != nil {
		return 0, err
	}
	bin, err := exec.LookPath("pcscd")
	if err != nil {
		bin = "/usr/sbin/pcscd"
		if _, err := os.Stat(bin); err != nil {
			return 0, errors.New("pcscd not found: install the pcscd package (make deps)")
		}
	}
	logf, err := os.Create(k.path("pcscd.log"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	args := []string{"-f", "-c", k.path("conf")}
	if os.Getenv("RENKEI_PCSCD_DEBUG") != "" {
		args = append(args, "--debug", "--apdu") // logged to pcscd.log
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start pcscd in a private network namespace (needs root): %w", err)
	}
	go cmd.Wait() // reap it if it exits while this process lives
	pid := cmd.Process.Pid
	if err := k.awaitStart(pid); err != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return 0, err
	}
	return pid, os.WriteFile(k.path("pid"), []byte(strconv.Itoa(pid)), 0o644)
}

func (k *kit) awaitStart(pid int) error {
	if err := loopbackUp(pid); err != nil {
		return fmt.Errorf("bring up loopback in pcscd's namespace: %w", err)
	}
	deadline := time.Now().Add(startWait)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			log, _ := os.ReadFile(k.path("pcscd.log"))
			return fmt.Errorf("pcscd exited at start; its log:\n%s", log)
		}
		if c, err := net.DialTimeout("unix", SystemSocket, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("pcscd did not open %s within %v", SystemSocket, startWait)
}

// lease locks the first free entry's lease file.
func (k *kit) lease(pid int) (*Slot, error) {
	for i := 0; i < Entries; i++ {
		f, err := os.OpenFile(k.path(fmt.Sprintf("lease-%d", i)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, err
		}
		if flock(f, syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			return &Slot{Index: i, Readers: [2]string{ReaderName(i, 0), ReaderName(i, 1)}, pid: pid, lease: f, kit: k}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("all %d reader entries are leased", Entries)
}

// anyLeased reports whether some process still holds a lease.
func (k *kit) anyLeased() bool {
	for i := 0; i < Entries; i++ {
		f, err := os.OpenFile(k.path(fmt.Sprintf("lease-%d", i)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			continue
		}
		busy := flock(f, syscall.LOCK_EX|syscall.LOCK_NB) != nil
		f.Close()
		if busy {
			return true
		}
	}
	return false
}

// stopPcscd sends SIGTERM to the kit's pcscd, then SIGKILL after 5 s.
func (k *kit) stopPcscd() error {
	pid := k.runningPID()
	os.Remove(k.path("pid"))
	if pid == 0 {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop pcscd %d: %w", pid, err)
	}
	for i := 0; i < 100; i++ {
		if !alive(pid) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("pcscd %d ignored SIGTERM for 5s and was killed", pid)
}
