package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
)

// errConformanceFailed is returned when a run completes and fails, so the
// command exits non-zero after writing its reports.
var errConformanceFailed = errors.New("conformance run failed")

// conformanceFlags are the options of `renkei conformance`.
type conformanceFlags struct {
	role, mode, metadata, only, skip           string
	level, formUserField, formPassField        string
	list, printSP, strict                      bool
	spEntity, spACS, spKey, spMetadataOut      string
	p12, p12Pass, certFile, keyFile            string
	formUser, formPass, caFile, serverName     string
	allowSHA1                                  bool
	spKeyCreated                               bool // -sp-key named no file: this run created the key
	jsonOut, junitOut, htmlOut, textOut        string
	serveSP                                    string
	endpoint, action, payload                  string
	wscEntity, wscKey, issuerEntity, issuerKey string
	dsTarget, wspTarget, spTarget, wscTarget   string
	printIdP, printPeers                       bool
	timeout                                    time.Duration
}

func parseConformanceFlags(args []string) (*conformanceFlags, error) {
	f := &conformanceFlags{}
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.StringVar(&f.role, "role", "idp", "role of the target: idp, sp, wsp or ds (wsc later)")
	fs.StringVar(&f.mode, "mode", "", "conformance mode the rows are judged in: idp or idp-lite for -role idp (default idp); the role itself for sp, wsp and ds")
	fs.StringVar(&f.endpoint, "endpoint", "", "wsp, ds: the SOAP endpoint to send to")
	fs.StringVar(&f.action, "action", "", "wsp, ds: the wsa:Action of an operation the target serves (e.g. urn:liberty:disco:2006-08:Query)")
	fs.StringVar(&f.payload, "payload", "", "wsp, ds: file with a request body the target serves for -action")
	fs.StringVar(&f.wscEntity, "wsc-entity-id", "https://conformance.renkei.test/wsc", "wsp, ds: the suite's WSC entity ID (in the target's metadata)")
	fs.StringVar(&f.wscKey, "wsc-key", "", "wsp, ds: PEM key and certificate of the suite's WSC (its metadata and TLS client key)")
	fs.StringVar(&f.issuerEntity, "issuer-entity-id", "https://conformance.renkei.test/ds", "wsp, ds: entity ID of the token issuer the suite plays (a token issuer in the target's metadata)")
	fs.StringVar(&f.issuerKey, "issuer-key", "", "wsp, ds: PEM key and certificate the suite signs tokens with")
	fs.StringVar(&f.dsTarget, "ds-target", "", "ds: JSON file describing the DS and the parties the suite plays (its WSPs, WSC and IdP; see conformance.LoadDSTarget); with it the Discovery cases run too")
	fs.StringVar(&f.wspTarget, "wsp-target", "", "wsp: JSON file describing the WSP, its service type, subjects and write fixtures, and the parties the suite plays (its DS, WSC, another WSC; see conformance.LoadWSPTarget); with it the DST cases run too")
	fs.StringVar(&f.spTarget, "sp-target", "", "sp: JSON file describing the SP (its metadata, login URL, the rule telling an accepted Response from a refused one) and the IdP the suite plays for it (entityID, key, loopback listen address; see conformance.LoadSPTarget)")
	fs.StringVar(&f.wscTarget, "wsc-target", "", "wsc: JSON file describing the WSC (the fields of an sp target file, the page that shows the WSP's answer) and the DS and WSP the suite plays for it (entityIDs, keys, loopback TLS listener and its PEM key and certificate; see conformance.LoadWSCTarget)")
	fs.BoolVar(&f.printPeers, "print-peers-metadata", false, "wsc: print the metadata of the suite's DS and WSP of -wsc-target (to register at the WSC; their keys are created when missing) and exit")
	fs.BoolVar(&f.printIdP, "print-idp-metadata", false, "sp: print the suite IdP's metadata of -sp-target (to register at the SP; its key is created when missing) and exit")
	fs.StringVar(&f.metadata, "metadata", "", "the target's metadata: an http(s) URL or a file")
	fs.StringVar(&f.only, "only", "", "comma-separated row groups to run (web-sso, metadata, ecp, artifact, slo, nim, attribute-query, nameid-mapping, idp-discovery; idwsf, idwsf-disco, idwsf-wsp); others are reported out of scope (the SP cases cover web-sso alone)")
	fs.StringVar(&f.skip, "skip", "", "comma-separated case IDs to leave out; every report lists them")
	fs.StringVar(&f.level, "level", "must", "weakest level whose failures fail the run: must (SHOULDs and recommended practices are warnings), should, or practice")
	fs.BoolVar(&f.strict, "strict", false, "hold the target to every SHOULD and recommended practice too (same as -level practice)")
	fs.BoolVar(&f.list, "list", false, "print the coverage matrix with its cases and exit")
	fs.BoolVar(&f.printSP, "print-sp-metadata", false, "print the suite's SP metadata (to register at the IdP) and exit")
	fs.StringVar(&f.spEntity, "sp-entity-id", "https://conformance.renkei.test/sp", "entity ID of the suite's SP")
	fs.StringVar(&f.spACS, "sp-acs", "https://conformance.renkei.test/sp/acs", "assertion consumer URL of the suite's SP (never served: the suite reads the form)")
	fs.StringVar(&f.spKey, "sp-key", "", "PEM file with the SP's key and certificate; created when missing, so the registered SP stays the same across runs")
	fs.StringVar(&f.spMetadataOut, "sp-metadata-out", "", "write the SP metadata to this file")
	fs.StringVar(&f.serveSP, "serve-sp-metadata", "", "serve the SP metadata at http://ADDR/metadata while the run lasts (for an IdP that fetches it)")
	fs.StringVar(&f.p12, "client-p12", "", "PKCS#12 file whose certificate logs in (card IdP)")
	fs.StringVar(&f.p12Pass, "client-p12-password", "", "password of -client-p12")
	fs.StringVar(&f.certFile, "client-cert", "", "PEM client certificate (with -client-key)")
	fs.StringVar(&f.keyFile, "client-key", "", "PEM client key (with -client-cert)")
	fs.StringVar(&f.formUser, "form-user", "", "user name for a login form (password IdP)")
	fs.StringVar(&f.formPass, "form-password", "", "password for a login form (sent once: a refused login stops the run)")
	fs.StringVar(&f.formUserField, "form-user-field", "", "name of the login form's user name input (default: the first text input named like a user name, else the first text input)")
	fs.StringVar(&f.formPassField, "form-password-field", "", "name of the login form's password input (default: its password input)")
	fs.StringVar(&f.caFile, "ca", "", "PEM roots for the target's TLS certificates (default: system roots)")
	fs.StringVar(&f.serverName, "tls-server-name", "", "check the target's TLS certificates for this name instead of the URL's host (a target reached by address)")
	fs.BoolVar(&f.allowSHA1, "target-allows-sha1", false, "the target was configured to accept SHA-1 from this SP (skips the SHA-1 refusal case)")
	fs.StringVar(&f.textOut, "text", "", "write the text report here (default: standard output)")
	fs.StringVar(&f.jsonOut, "json", "", "write the JSON report here")
	fs.StringVar(&f.junitOut, "junit", "", "write the JUnit XML report here")
	fs.StringVar(&f.htmlOut, "html", "", "write the HTML report here")
	fs.DurationVar(&f.timeout, "case-timeout", time.Minute, "time limit of each case")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return f, nil
}

// cmdConformance runs the conformance suite against a target:
//
//	renkei conformance -role idp -metadata URL|FILE [login options] [-only web-sso,metadata] [-json F -junit F -html F]
//	renkei conformance -role wsp|ds -metadata URL|FILE -endpoint URL -action URI -payload FILE -wsc-key PEM -issuer-key PEM
//	renkei conformance -role ds -ds-target FILE [-ca PEM] [-only idwsf,idwsf-disco]
//	renkei conformance -role wsp -wsp-target FILE [-ca PEM] [-only idwsf,idwsf-wsp]
//	renkei conformance -role sp -sp-target FILE [-print-idp-metadata] [-ca PEM] [-only web-sso]
//	renkei conformance -role wsc -wsc-target FILE [-print-peers-metadata] [-ca PEM]
func cmdConformance(ctx context.Context, args []string, out io.Writer) error {
	f, err := parseConformanceFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h: the usage went to standard error
	}
	if err != nil {
		return err
	}
	role := conformance.Role(f.role)
	var cases []conformance.Case
	switch role {
	case conformance.RoleIdP:
		cases = conformance.SAMLIdPCases()
	case conformance.RoleWSP:
		cases = conformance.WSFCases(role)
		if f.wspTarget != "" || f.list {
			cases = append(cases, conformance.WSPCases()...)
		}
	case conformance.RoleDS:
		cases = conformance.WSFCases(role)
		if f.dsTarget != "" || f.list {
			cases = append(cases, conformance.DSCases()...)
		}
	case conformance.RoleSP:
		cases = conformance.SPCases()
	case conformance.RoleWSC:
		cases = conformance.WSCCases()
	default:
		return fmt.Errorf("role %q is not runnable yet: idp, sp, wsc, wsp or ds", f.role)
	}
	mode, err := modeFor(f, role)
	if err != nil {
		return err
	}
	if f.list {
		return conformance.WriteMatrix(out, conformance.Matrix(), cases, conformance.ModesFor(role))
	}
	if err := checkScope(f, role, mode, cases); err != nil {
		return err
	}
	if role == conformance.RoleDS && f.dsTarget != "" {
		return runDSConformance(ctx, f, mode, cases, out)
	}
	if role == conformance.RoleWSP && f.wspTarget != "" {
		return runWSPConformance(ctx, f, mode, cases, out)
	}
	if role == conformance.RoleSP {
		return runSPConformance(ctx, f, mode, cases, out)
	}
	if role == conformance.RoleWSC {
		return runWSCConformance(ctx, f, mode, cases, out)
	}
	if role != conformance.RoleIdP {
		return runWSFConformance(ctx, f, role, mode, cases, out)
	}
	sp, err := loadOrCreateSP(f, time.Now())
	if err != nil {
		return err
	}
	if f.printSP {
		b, err := sp.Metadata()
		if err != nil {
			return err
		}
		_, err = out.Write(append(b, '\n'))
		return err
	}
	return runConformance(ctx, f, role, mode, cases, sp, out)
}

func runConformance(ctx context.Context, f *conformanceFlags, role conformance.Role, mode conformance.Mode, cases []conformance.Case, sp *conformance.SP, out io.Writer) error {
	if f.metadata == "" {
		return fmt.Errorf("conformance: -metadata is required")
	}
	tr, err := conformanceTransport(f.caFile, f.serverName)
	if err != nil {
		return err
	}
	target, err := conformance.LoadTarget(ctx, f.metadata, targetClient(tr))
	if err != nil {
		return err
	}
	login, err := conformanceLogin(f)
	if err != nil {
		return err
	}
	if f.serveSP != "" {
		_, stop, err := serveSPMetadata(f.serveSP, sp)
		if err != nil {
			return err
		}
		defer stop()
	}
	switch {
	case f.spKey == "":
		fmt.Fprintln(os.Stderr, "renkei conformance: warning: no -sp-key, so the suite's SP key is throwaway and the target cannot know this SP: "+
			"only the metadata cases run; write a key and the metadata to register with -sp-key FILE -print-sp-metadata")
	case f.spKeyCreated:
		fmt.Fprintf(os.Stderr, "renkei conformance: warning: -sp-key %s did not exist, so this run created the SP key there and the target cannot know this SP yet: "+
			"only the metadata cases run; register the metadata of -print-sp-metadata -sp-key %s at the target and run again\n", f.spKey, f.spKey)
	}
	return runCases(ctx, f, role, mode, cases, &conformance.Env{Target: target, SP: sp, Login: login, Transport: tr,
		Options: conformance.Options{TargetAllowsSHA1: f.allowSHA1, ThrowawaySP: f.spKey == "" || f.spKeyCreated}}, out)
}

// runCases runs the cases of role against env, writes the reports, and
// returns errConformanceFailed when the run fails.
func runCases(ctx context.Context, f *conformanceFlags, role conformance.Role, mode conformance.Mode, cases []conformance.Case, env *conformance.Env, out io.Writer) error {
	r, err := newRunner(f, role, mode, cases)
	if err != nil {
		return err
	}
	rep := r.Run(ctx, env)
	if err := writeReports(f, rep, out); err != nil {
		return err
	}
	if rep.Failed() {
		return errConformanceFailed
	}
	return nil
}

// newRunner builds the run the flags ask for; Runner.Run refuses one that
// would judge nothing it was asked to (see checkScope).
func newRunner(f *conformanceFlags, role conformance.Role, mode conformance.Mode, cases []conformance.Case) (*conformance.Runner, error) {
	failOn, err := failLevel(f)
	if err != nil {
		return nil, err
	}
	r := &conformance.Runner{Role: role, Mode: mode, Cases: cases, Rows: conformance.Matrix(), Only: splitOnly(f.only),
		Skip: splitOnly(f.skip), Progress: os.Stderr, CaseTimeout: f.timeout, FailOn: failOn}
	return r, nil
}

// checkScope refuses a mistyped -only, -skip or -level before the target
// is reached.
func checkScope(f *conformanceFlags, role conformance.Role, mode conformance.Mode, cases []conformance.Case) error {
	r, err := newRunner(f, role, mode, cases)
	if err != nil {
		return err
	}
	return r.Check()
}

// failLevel is the weakest level that fails the run: -strict is -level
// practice.
func failLevel(f *conformanceFlags) (conformance.Level, error) {
	l, err := conformance.ParseLevel(f.level)
	if err != nil || !f.strict {
		return l, err
	}
	return conformance.LevelPractice, nil
}

func modeFor(f *conformanceFlags, role conformance.Role) (conformance.Mode, error) {
	m := f.mode
	if m == "" {
		m = string(role)
	}
	mode, err := conformance.ParseMode(m)
	if err != nil {
		return "", err
	}
	if !slices.Contains(conformance.ModesFor(role), mode) {
		return "", fmt.Errorf("conformance: mode %s does not apply to role %s", mode, role)
	}
	return mode, nil
}

// runWSFConformance runs the ID-WSF cases: the suite is the WSC (and the
// token issuer) of -wsc-key and -issuer-key, which the target's metadata
// must list. Without a description of the target (-ds-target,
// -wsp-target) the rows of the Discovery and WSP cases have no case: they
// are reported uncovered unless -only idwsf leaves them out of scope.
func runWSFConformance(ctx context.Context, f *conformanceFlags, role conformance.Role, mode conformance.Mode, cases []conformance.Case, out io.Writer) error {
	if f.metadata == "" || f.endpoint == "" || f.action == "" || f.payload == "" || f.wscKey == "" || f.issuerKey == "" {
		return fmt.Errorf("conformance: -role %s needs -metadata, -endpoint, -action, -payload, -wsc-key and -issuer-key", role)
	}
	tr, err := conformanceTransport(f.caFile, f.serverName)
	if err != nil {
		return err
	}
	target, err := conformance.LoadTarget(ctx, f.metadata, targetClient(tr))
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	for _, name := range []string{f.payload, f.wscKey, f.issuerKey} {
		if files[name], err = os.ReadFile(name); err != nil {
			return err
		}
	}
	wt, err := conformance.WSFTargetFromMetadata(target, f.endpoint, f.action, files[f.payload])
	if err != nil {
		return err
	}
	wsc, err := conformance.LoadWSC(f.wscEntity, files[f.wscKey], f.issuerEntity, files[f.issuerKey])
	if err != nil {
		return err
	}
	return runCases(ctx, f, role, mode, cases, &conformance.Env{Target: target, WSF: wt, WSC: wsc, Transport: tr}, out)
}

// runDSConformance runs the ID-WSF and Discovery cases against the DS
// of -ds-target, the suite playing the parties the file describes.
func runDSConformance(ctx context.Context, f *conformanceFlags, mode conformance.Mode, cases []conformance.Case, out io.Writer) error {
	tr, err := conformanceTransport(f.caFile, f.serverName)
	if err != nil {
		return err
	}
	dt, err := conformance.LoadDSTarget(ctx, f.dsTarget, targetClient(tr))
	if err != nil {
		return err
	}
	return runCases(ctx, f, conformance.RoleDS, mode, cases, &conformance.Env{WSF: dt.WSFTarget(), WSC: dt.WSCForWSF(), DS: dt, Transport: tr}, out)
}

// runWSPConformance runs the ID-WSF and WSP cases against the WSP of
// -wsp-target, the suite playing the DS and WSCs the file describes.
func runWSPConformance(ctx context.Context, f *conformanceFlags, mode conformance.Mode, cases []conformance.Case, out io.Writer) error {
	tr, err := conformanceTransport(f.caFile, f.serverName)
	if err != nil {
		return err
	}
	wt, err := conformance.LoadWSPTarget(ctx, f.wspTarget, targetClient(tr))
	if err != nil {
		return err
	}
	return runCases(ctx, f, conformance.RoleWSP, mode, cases, &conformance.Env{WSF: wt.WSFTarget(), WSC: wt.WSCForWSF(), WSP: wt, Transport: tr}, out)
}

// runSPConformance runs the SP cases against the SP of -sp-target, the
// suite playing its IdP on the file's loopback listener, which also
// serves the IdP's metadata at /metadata while the run lasts. With
// -print-idp-metadata it prints that metadata and exits.
func runSPConformance(ctx context.Context, f *conformanceFlags, mode conformance.Mode, cases []conformance.Case, out io.Writer) error {
	if f.spTarget == "" {
		return fmt.Errorf("conformance: -role sp needs -sp-target")
	}
	if f.printIdP {
		return writeMetadata(out, func() ([]byte, error) {
			idp, err := conformance.ReadSuiteIdP(f.spTarget, time.Now())
			if err != nil {
				return nil, err
			}
			return idp.Metadata()
		})
	}
	tr, err := conformanceTransport(f.caFile, f.serverName)
	if err != nil {
		return err
	}
	st, err := conformance.LoadSPTarget(ctx, f.spTarget, targetClient(tr), time.Now())
	if err != nil {
		return err
	}
	stop, err := st.ServeIdP()
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(os.Stderr, "suite IdP %s: SSO at %s, metadata at %s\n", st.IdP.EntityID, st.IdP.SSOURL(), st.IdP.BaseURL()+conformance.PathSuiteMetadata)
	return runCases(ctx, f, conformance.RoleSP, mode, cases, &conformance.Env{SPT: st, Transport: tr}, out)
}

// runWSCConformance runs the WSC cases against the WSC of -wsc-target,
// the suite playing its IdP, DS and WSP.
func runWSCConformance(ctx context.Context, f *conformanceFlags, mode conformance.Mode, cases []conformance.Case, out io.Writer) error {
	if f.wscTarget == "" {
		return fmt.Errorf("conformance: -role wsc needs -wsc-target")
	}
	if f.printPeers {
		return writeMetadata(out, func() ([]byte, error) {
			t, err := conformance.ReadWSCPeers(f.wscTarget, time.Now())
			if err != nil {
				return nil, err
			}
			return t.Peers()
		})
	}
	tr, err := conformanceTransport(f.caFile, f.serverName)
	if err != nil {
		return err
	}
	wt, err := conformance.LoadWSCTarget(ctx, f.wscTarget, targetClient(tr), time.Now())
	if err != nil {
		return err
	}
	stop, err := wt.Serve()
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(os.Stderr, "suite IdP %s at %s; suite DS %s at %s; suite WSP %s at %s\n", wt.SP.IdP.EntityID, wt.SP.IdP.SSOURL(),
		wt.DS.EntityID, wt.DSAddress(), wt.WSP.EntityID, wt.WSPAddress())
	return runCases(ctx, f, conformance.RoleWSC, mode, cases, &conformance.Env{SPT: wt.SP, WSCT: wt, Transport: tr}, out)
}

// writeMetadata writes the metadata meta makes, for the tester to give
// the target (-print-idp-metadata, -print-peers).
func writeMetadata(out io.Writer, meta func() ([]byte, error)) error {
	m, err := meta()
	if err != nil {
		return err
	}
	_, err = out.Write(append(m, '\n'))
	return err
}

func splitOnly(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// serveSPMetadata serves the SP's metadata on addr until stop is called.
func serveSPMetadata(addr string, sp *conformance.SP) (url string, stop func(), err error) {
	m, err := sp.Metadata()
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Write(m)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	url = "http://" + ln.Addr().String() + "/metadata"
	fmt.Fprintf(os.Stderr, "SP metadata served at %s\n", url)
	return url, func() { srv.Close() }, nil
}

func loadOrCreateSP(f *conformanceFlags, now time.Time) (*conformance.SP, error) {
	var sp *conformance.SP
	b, err := os.ReadFile(f.spKey)
	switch {
	case f.spKey != "" && err == nil:
		sp, err = conformance.LoadSP(f.spEntity, f.spACS, b)
	case f.spKey != "" && !errors.Is(err, os.ErrNotExist):
		return nil, err
	default:
		sp, err = conformance.NewSP(f.spEntity, f.spACS, now, nil)
		if err == nil && f.spKey != "" {
			err = saveSPKey(sp, f.spKey)
			f.spKeyCreated = err == nil
		}
	}
	if err != nil {
		return nil, err
	}
	if f.spMetadataOut != "" {
		m, err := sp.Metadata()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(f.spMetadataOut, m, 0o644); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

func saveSPKey(sp *conformance.SP, file string) error {
	b, err := sp.KeyPEM()
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o600)
}

// targetClient is the HTTP client the suite reaches a target with.
func targetClient(tr *http.Transport) *http.Client {
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func conformanceTransport(caFile, serverName string) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if caFile == "" {
		return tr, nil
	}
	cas, err := keyfile.ReadCerts(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c)
	}
	tr.TLSClientConfig.RootCAs = pool
	return tr, nil
}

func conformanceLogin(f *conformanceFlags) (conformance.Authenticator, error) {
	switch {
	case f.p12 != "":
		return conformance.LoadPKCS12(f.p12, f.p12Pass)
	case f.certFile != "" || f.keyFile != "":
		return conformance.LoadKeyPair(f.certFile, f.keyFile)
	case f.formUser != "" || f.formPass != "":
		if f.formUser == "" || f.formPass == "" {
			return nil, fmt.Errorf("conformance: a login form needs both -form-user and -form-password")
		}
		return conformance.FormLogin{Username: f.formUser, Password: f.formPass, UserField: f.formUserField, PassField: f.formPassField}, nil
	}
	return conformance.NoLogin{}, nil
}

func writeReports(f *conformanceFlags, rep *conformance.Report, out io.Writer) error {
	writers := []struct {
		file  string
		write func(io.Writer) error
	}{{f.jsonOut, rep.WriteJSON}, {f.junitOut, rep.WriteJUnit}, {f.htmlOut, rep.WriteHTML}, {f.textOut, rep.WriteText}}
	for _, w := range writers {
		if w.file == "" {
			continue
		}
		if err := writeFile(w.file, w.write); err != nil {
			return err
		}
	}
	if f.textOut == "" {
		return rep.WriteText(out)
	}
	return nil
}

func writeFile(name string, write func(io.Writer) error) error {
	fh, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
