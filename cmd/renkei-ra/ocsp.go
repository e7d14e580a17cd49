package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/renkei-idwsf/renkei/ra"
)

// maxOCSPRequest bounds an OCSP request body; a request about one
// certificate is about a hundred bytes.
const maxOCSPRequest = 8 << 10

// cmdOCSP serves the RA's OCSP responder over plain HTTP (RFC 6960
// Appendix A, as OCSP is usually served: the answers are signed) until
// SIGINT or SIGTERM.
func cmdOCSP(args []string, out io.Writer) error {
	f := newFlags("ocsp")
	listen := f.String("listen", "127.0.0.1:8089", "host:port to serve OCSP on")
	validity := f.Duration("validity", ra.DefaultOCSPValidity, "how long an answer stays valid (its nextUpdate): clients cache it that long")
	delegated := f.Bool("delegated", false, "sign with the delegated signer of renkei-ra ocsp-signer, not the card CA")
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := ra.Open(ra.Config{Dir: *f.dir})
	if err != nil {
		return err
	}
	r := a.Responder(*validity)
	if *delegated {
		if r, err = a.DelegatedResponder(*validity); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "OCSP responder of %s on http://%s/\n", a.CardCA().Subject, ln.Addr())
	srv := &http.Server{Handler: ocspHandler(r, slog.Default()), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// cmdOCSPSigner issues the delegated OCSP signer: a short-lived
// certificate of the card CA for signing OCSP answers only, so that the
// responder's machine need not hold the CA key.
func cmdOCSPSigner(args []string, out io.Writer) error {
	f := newFlags("ocsp-signer")
	validity := f.Duration("validity", 30*24*time.Hour, "lifetime of the signer's certificate (it cannot be revoked: keep it short)")
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := f.open(time.Now())
	if err != nil {
		return err
	}
	cert, err := a.IssueOCSPSigner(*validity)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s and %s: OCSP signer serial %s until %s\n", ra.OCSPSignerCert, ra.OCSPSignerKey, cert.SerialNumber,
		cert.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// ocspHandler answers OCSP requests sent by POST (application/ocsp-request)
// or by GET with the base64 request as the path (RFC 6960
// Appendix A.1).
func ocspHandler(r *ra.Responder, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		der, status, err := ocspRequest(req)
		if err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		resp, err := r.Respond(der)
		if err != nil {
			log.Error("OCSP answer failed", slog.String("error", err.Error()))
			resp = ocsp.InternalErrorErrorResponse
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		_, _ = w.Write(resp)
	})
}

// ocspRequest reads the DER request out of req, or says why not with an
// HTTP status.
func ocspRequest(req *http.Request) ([]byte, int, error) {
	switch req.Method {
	case http.MethodPost:
		if ct := req.Header.Get("Content-Type"); ct != "application/ocsp-request" {
			return nil, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: want application/ocsp-request", ct)
		}
		der, err := io.ReadAll(http.MaxBytesReader(nil, req.Body, maxOCSPRequest))
		if err != nil {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body: %v", err)
		}
		return der, 0, nil
	case http.MethodGet:
		der, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(req.URL.Path, "/"))
		if err != nil || len(der) > maxOCSPRequest {
			return nil, http.StatusBadRequest, errors.New("GET wants the base64 OCSP request as the path")
		}
		return der, 0, nil
	}
	return nil, http.StatusMethodNotAllowed, fmt.Errorf("method %s: want POST or GET", req.Method)
}
