package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// sampleCmd writes the sample institutions into -out and lists their
// people.
func sampleCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	dir := fs.String("out", "", "directory to write the back offices, mapping files and manifest.json into")
	ref := fs.String("reference", sample.DefaultReference, "the reference date of the data (YYYY-MM-DD)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("sample: -out is required")
	}
	day, err := time.Parse(time.DateOnly, *ref)
	if err != nil {
		return fmt.Errorf("sample: -reference: %w", err)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	m, err := sample.Generate(*dir, sample.Options{Reference: day})
	if err != nil {
		return err
	}
	for _, in := range m.Institutions {
		fmt.Fprintf(out, "%-12s %s (%s): %s, mapping %s\n", in.Key, in.Name, in.NameEn, in.Data, in.Mapping)
	}
	fmt.Fprintf(out, "%d people; their local identifiers are in %s\n", len(m.People), filepath.Join(*dir, sample.ManifestFile))
	return nil
}

// pensionOffice serves the pension service's sample REST back office,
// plain HTTP on a loopback address (a back office sits inside the
// institution's network; the WSP in front of it is what the federation
// reaches).
func pensionOffice(ctx context.Context, args []string, lg *slog.Logger) error {
	fs := flag.NewFlagSet("pension-office", flag.ContinueOnError)
	data := fs.String("data", "", "the pension records ("+sample.PensionData+" of the sample directory)")
	listen := fs.String("listen", "127.0.0.1:8090", "loopback host:port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("pension-office: -data is required")
	}
	host, _, err := net.SplitHostPort(*listen)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("pension-office: -listen %q is not a loopback address", *listen)
	}
	recs, err := sample.LoadPensionRecords(*data)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sample.NewPensionOffice(recs), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	lg.Info("pension office", slog.String("on", "http://"+ln.Addr().String()))
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
