package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/virtual"
)

// device is the virtual card and the reader slot it sits in: it is
// inserted by connecting to vpcd (-connect, vpcd's default server mode) or
// by accepting vpcd's connection (-listen, vpcd's reverse mode).
type device struct {
	mu   sync.Mutex
	card *virtual.Card
	dial func() (net.Conn, error)
	ins  *virtual.Insertion
}

// insert connects the card; in listen mode it waits for vpcd to connect.
func (d *device) insert() error {
	if d.inserted() {
		return errors.New("card already inserted")
	}
	ins, err := virtual.Insert(d.card, d.dial)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ins != nil {
		ins.Remove()
		return errors.New("card already inserted")
	}
	d.ins = ins
	return nil
}

func (d *device) inserted() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ins != nil
}

func (d *device) remove() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ins == nil {
		return errors.New("no card inserted")
	}
	err := d.ins.Remove()
	d.ins = nil
	return err
}

func (d *device) status() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ins == nil {
		return "removed"
	}
	return fmt.Sprintf("inserted, %d commands, %d PIN tries left", len(d.card.Log()), d.card.TriesLeft())
}

func cmdVirtual(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("virtual", flag.ContinueOnError)
	file := fs.String("card", "", "virtual card file (from renkei-ra card)")
	connect := fs.String("connect", "", "vpcd server mode: connect to vpcd at HOST:PORT")
	listen := fs.String("listen", "", "vpcd reverse mode: listen on 127.0.0.1:PORT for vpcd")
	control := fs.String("control", "", "control socket on 127.0.0.1:PORT (insert, remove, status)")
	verbose := fs.Bool("v", false, "print every command APDU the card receives")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || (*connect == "") == (*listen == "") {
		return errors.New("usage: renkei-card virtual -card FILE (-connect HOST:PORT | -listen 127.0.0.1:PORT) [-control 127.0.0.1:PORT]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := virtual.Options{}
	if *verbose {
		opts.BeforeCommand = func(c piv.Command) {
			fmt.Fprintf(out, "APDU CLA=%02X INS=%02X P1=%02X P2=%02X Lc=%d\n", c.CLA, c.INS, c.P1, c.P2, len(c.Data))
		}
	}
	return runVirtual(ctx, opts, *file, *connect, *listen, *control, out)
}

func runVirtual(ctx context.Context, opts virtual.Options, file, connect, listen, control string, out io.Writer) error {
	c, err := virtual.Open(file, opts)
	if err != nil {
		return err
	}
	d := &device{card: c, dial: func() (net.Conn, error) { return net.Dial("tcp", connect) }}
	if listen != "" {
		l, err := listenLoopback(listen)
		if err != nil {
			return err
		}
		defer l.Close()
		context.AfterFunc(ctx, func() { l.Close() })
		d.dial = l.Accept
		fmt.Fprintf(out, "virtual card listening for vpcd on %s\n", l.Addr())
	}
	if control != "" {
		cl, err := listenLoopback(control)
		if err != nil {
			return err
		}
		defer cl.Close()
		fmt.Fprintf(out, "control socket on %s\n", cl.Addr())
		go serveControl(cl, d)
	}
	return d.run(ctx, out)
}

func (d *device) run(ctx context.Context, out io.Writer) error {
	if err := d.insert(); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	fmt.Fprintln(out, "card inserted")
	<-ctx.Done()
	if d.remove() == nil {
		fmt.Fprintln(out, "card removed")
	}
	return nil
}

// listenLoopback listens on addr, which must be a loopback address.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%s: only loopback addresses (127.0.0.1, ::1) are allowed", addr)
	}
	return net.Listen("tcp", addr)
}

// serveControl answers one-line commands: insert, remove, status.
func serveControl(l net.Listener, d *device) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go controlConn(c, d)
	}
}

func controlConn(c net.Conn, d *device) {
	defer c.Close()
	sc := bufio.NewScanner(io.LimitReader(c, 64*1024))
	for sc.Scan() {
		fmt.Fprintln(c, controlCommand(d, strings.TrimSpace(sc.Text())))
	}
}

func controlCommand(d *device, cmd string) string {
	var err error
	switch cmd {
	case "insert":
		err = d.insert()
	case "remove":
		err = d.remove()
	case "status":
	default:
		return fmt.Sprintf("error: unknown command %q (insert, remove, status)", cmd)
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok " + d.status()
}
