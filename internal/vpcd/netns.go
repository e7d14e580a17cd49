package vpcd

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// inNetns runs fn on a locked OS thread that has joined the network
// namespace of pid, then returns the thread to its own namespace. A thread
// that cannot go back is left locked, so the runtime discards it.
func inNetns(pid int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			errc <- err
			return
		}
		defer own.Close()
		if err := setns(fmt.Sprintf("/proc/%d/ns/net", pid)); err != nil {
			errc <- err
			return
		}
		err = fn()
		if setnsFd(own.Fd()) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

func setns(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return setnsFd(f.Fd())
}

func setnsFd(fd uintptr) error {
	if _, _, e := syscall.RawSyscall(sysSetns, fd, syscall.CLONE_NEWNET, 0); e != 0 {
		return fmt.Errorf("setns: %w", e)
	}
	return nil
}

// dialInNetns connects to addr from inside pid's network namespace; the
// socket stays in that namespace after the thread leaves it.
func dialInNetns(pid int, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(pid, func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 2*time.Second)
		return err
	})
	return c, err
}

// ifreqFlags is struct ifreq with the ifr_flags member (netdevice(7)).
type ifreqFlags struct {
	name  [syscall.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// loopbackUp sets "lo" up in pid's network namespace (SIOCSIFFLAGS).
func loopbackUp(pid int) error {
	return inNetns(pid, func() error {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer syscall.Close(fd)
		var req ifreqFlags
		copy(req.name[:], "lo")
		if err := ioctl(fd, syscall.SIOCGIFFLAGS, &req); err != nil {
			return err
		}
		req.flags |= syscall.IFF_UP
		return ioctl(fd, syscall.SIOCSIFFLAGS, &req)
	})
}

func ioctl(fd int, op uintptr, req *ifreqFlags) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), op, uintptr(unsafe.Pointer(req))); e != 0 {
		return e
	}
	return nil
}
