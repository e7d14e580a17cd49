package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// controlWait bounds one control command (an insertion waits for vpcd).
const controlWait = 20 * time.Second

// cmdControl sends one command (insert, remove, status) to the control
// socket of a virtual card (renkei-card virtual -control, or the reader
// of `renkei demo`) and prints its answer; an "error:" answer fails.
func cmdControl(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("control", flag.ContinueOnError)
	addr := fs.String("addr", "", "the control socket, 127.0.0.1:PORT")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" || fs.NArg() != 1 {
		return errors.New("usage: renkei-card control -addr 127.0.0.1:PORT insert|remove|status")
	}
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: only loopback addresses are allowed", *addr)
	}
	c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(controlWait))
	if _, err := fmt.Fprintln(c, fs.Arg(0)); err != nil {
		return err
	}
	line, err := bufio.NewReader(io.LimitReader(c, 64<<10)).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no answer from %s: %w", *addr, err)
	}
	line = strings.TrimSpace(line)
	if msg, ok := strings.CutPrefix(line, "error: "); ok {
		return errors.New(msg)
	}
	fmt.Fprintln(out, line)
	return nil
}
