package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// recorder keeps the bodies of the responses a client received.
type recorder struct {
	rt     http.RoundTripper
	mu     sync.Mutex
	bodies [][]byte
	status []int
}

// RoundTrip sends req and keeps a copy of the response's body.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bodies, r.status = append(r.bodies, b), append(r.status, resp.StatusCode)
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// portalClient is an ID-WSF client with the portal's keys (its signing
// key, also its TLS client key), trusting the operator's aggregate, that
// records what it receives.
func (w *walker) portalClient(ctx context.Context) (*client.Client, *recorder, error) {
	key, err := keyfile.ReadKey(w.fedFile("ra", "portal-signing.key"))
	if err != nil {
		return nil, nil, err
	}
	cert, err := keyfile.ReadCert(w.fedFile("ra", "portal-signing.crt"))
	if err != nil {
		return nil, nil, err
	}
	op, err := keyfile.ReadCert(w.fed.OperatorCert)
	if err != nil {
		return nil, nil, err
	}
	schema, err := xsd.Default()
	if err != nil {
		return nil, nil, err
	}
	set, err := md.New(md.Config{Sources: []md.Source{{Location: w.fed.Aggregate, Trust: xmlsec.NewTrustSet([]*x509.Certificate{op})}},
		Schema: schema})
	if err != nil {
		return nil, nil, err
	}
	if err := set.Refresh(ctx, time.Now()); err != nil {
		return nil, nil, err
	}
	dir, err := metadir.New(metadir.Config{Metadata: set, Issuers: []string{fedfiles.IdPEntity, fedfiles.DSEntity}})
	if err != nil {
		return nil, nil, err
	}
	rec := &recorder{rt: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.fed.RootCAs, MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}}}}}
	c, err := client.New(client.Config{EntityID: w.fed.PortalEntityID, Key: key, Certificate: cert, Directory: dir,
		HTTP: &http.Client{Transport: rec, Timeout: 20 * time.Second}, Schema: schema})
	return c, rec, err
}

// tokens asks the DS, as the portal does with the bootstrap token, for
// every service of the citizen, and checks the answer and every place
// the portal keeps data; then the relay database.
func (w *walker) tokens(ctx context.Context) error {
	if w.bootstrap == nil {
		return errNoSession
	}
	c, rec, err := w.portalClient(ctx)
	if err != nil {
		return err
	}
	q := &disco.Query{RequestedServices: []disco.RequestedService{{ResultsType: disco.ResultsAll}}}
	res, err := c.Call(ctx, &client.Call{EPR: w.bootstrap, Action: disco.Action("Query"), Payload: q.Element()})
	if err != nil {
		return fmt.Errorf("disco:Query with the bootstrap token, as the portal: %w", err)
	}
	r, err := disco.DecodeQueryResponse(res.Payload)
	if err != nil {
		return err
	}
	fmt.Fprintf(w.out, "   disco:Query (the portal's key, the bootstrap token) -> HTTP %d, %d bytes, signed by %s: status %s, %d EPRs\n",
		rec.status[len(rec.status)-1], len(rec.bodies[len(rec.bodies)-1]), res.Sender.EntityID, r.Status.Code, len(r.EPRs))
	sort.SliceStable(r.EPRs, func(i, j int) bool { return eprKey(r.EPRs[i]) < eprKey(r.EPRs[j]) })
	if err := w.checkEPRs(r); err != nil {
		return err
	}
	w.eprs, w.wsc, w.rec = r.EPRs, c, rec
	held := append([][]byte{}, rec.bodies...)
	for _, b := range w.pages {
		held = append(held, b)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(w.fedFile("portal.db") + suffix); err == nil {
			held = append(held, b)
		}
	}
	if err := w.noLocalID(held); err != nil {
		return err
	}
	fmt.Fprintf(w.out, "   none of the %d local identifiers in the DS's answer, the %d portal pages read, or the portal's store\n",
		len(w.fed.Person.Local), len(w.pages))
	return w.relayOnlyLinks(ctx)
}

// checkEPRs wants one EPR per service instance, each with a token whose
// audience is that WSP and whose subject is an EncryptedID.
func (w *walker) checkEPRs(r *disco.QueryResponse) error {
	if len(r.EPRs) == 0 {
		return errors.New("the DS found no service")
	}
	for _, e := range r.EPRs {
		if e.Metadata == nil || len(e.Metadata.SecurityContexts) == 0 || len(e.Metadata.SecurityContexts[0].Tokens) == 0 {
			return fmt.Errorf("an EPR at %s carries no token", e.Address)
		}
		tok := e.Metadata.SecurityContexts[0].Tokens[0].Element
		aud, enc := textOf(tok, "Audience"), tok.FindElement(".//Subject/EncryptedID") != nil
		plain := tok.FindElement(".//Subject/NameID") != nil
		fmt.Fprintf(w.out, "     %-40s %-32s token for %s, subject EncryptedID %v\n", e.Metadata.ProviderID, e.Metadata.ServiceType, aud, enc)
		if aud != e.Metadata.ProviderID || !enc || plain {
			return fmt.Errorf("the token for %s at %s is not minted for that WSP alone with an encrypted subject", e.Metadata.ServiceType, e.Metadata.ProviderID)
		}
	}
	return nil
}

// textOf is the text of the first descendant of el named tag.
func textOf(el *etree.Element, tag string) string {
	if f := el.FindElement(".//" + tag); f != nil {
		return strings.TrimSpace(f.Text())
	}
	return ""
}

// noLocalID fails when any of bodies holds one of the citizen's local
// identifiers, as written or percent-escaped.
func (w *walker) noLocalID(bodies [][]byte) error {
	for k, id := range w.fed.Person.Local {
		for _, form := range []string{id, url.QueryEscape(id), url.PathEscape(id)} {
			for _, b := range bodies {
				if bytes.Contains(b, []byte(form)) {
					return fmt.Errorf("the portal holds the local identifier at %s (%q)", k, form)
				}
			}
		}
	}
	return nil
}

// relayOnlyLinks reads every table of the relay database and wants the
// citizen's local identifiers in the links (federations.sp_provided_id)
// and nowhere else.
func (w *walker) relayOnlyLinks(ctx context.Context) error {
	db, list, err := w.openRelay()
	if err != nil {
		return err
	}
	defer db.Close()
	tables, err := names(ctx, db, list)
	if err != nil {
		return err
	}
	found := map[string]bool{}
	var counts []string
	for _, t := range tables {
		n, where, err := w.scan(ctx, db, t)
		if err != nil {
			return err
		}
		counts = append(counts, fmt.Sprintf("%s %d", t, n))
		for _, x := range where {
			found[x] = true
		}
	}
	fmt.Fprintf(w.out, "   relay database tables (rows): %s\n", strings.Join(counts, ", "))
	if len(found) != 1 || !found["federations.sp_provided_id"] {
		return fmt.Errorf("the local identifiers are in %v, want federations.sp_provided_id alone", found)
	}
	fmt.Fprintf(w.out, "   the local identifiers are only in federations.sp_provided_id: the links\n")
	return nil
}

// openRelay opens the relay database to read: the SQLite file, or the
// PostgreSQL database of the several-node variant; list is the query
// listing its tables.
func (w *walker) openRelay() (db *sql.DB, list string, err error) {
	if w.nodes != nil {
		db, err = sql.Open("pgx", w.fed.Relay)
		return db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", err
	}
	db, err = sql.Open("sqlite", "file:"+w.fedFile("relay.db")+"?mode=ro")
	return db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", err
}

// names lists the database's tables with the query list.
func names(ctx context.Context, db *sql.DB, list string) ([]string, error) {
	rows, err := db.QueryContext(ctx, list)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// scan counts table's rows and returns the columns holding a local
// identifier of the citizen.
func (w *walker) scan(ctx context.Context, db *sql.DB, table string) (int, []string, error) {
	rows, err := db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, nil, err
	}
	n, where := 0, map[string]bool{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, nil, err
		}
		n++
		for i, v := range vals {
			s := fmt.Sprint(v)
			if b, ok := v.([]byte); ok {
				s = string(b)
			}
			for _, id := range w.fed.Person.Local {
				if strings.Contains(s, id) || strings.Contains(s, url.QueryEscape(id)) {
					where[table+"."+cols[i]] = true
				}
			}
		}
	}
	var out []string
	for k := range where {
		out = append(out, k)
	}
	sort.Strings(out)
	return n, out, rows.Err()
}

// callWSPs sends, as the portal does with the tokens the DS gave it, a
// DST Query of every item type to each WSP service the DS named (the
// citizen's own reading), and prints what came back.
func (w *walker) callWSPs(ctx context.Context) error {
	if w.wsc == nil {
		return errors.New("no EPRs from the DS: step 3 did not query it")
	}
	first := len(w.rec.bodies)
	for _, e := range w.eprs {
		svc := dst.Lookup(e.Metadata.ServiceType)
		if svc == nil {
			continue // the DS's own audit service
		}
		if err := w.queryAll(ctx, e, svc); err != nil {
			return fmt.Errorf("%s at %s: %w", e.Metadata.ServiceType, e.Metadata.ProviderID, err)
		}
	}
	if err := w.noLocalID(w.rec.bodies[first:]); err != nil {
		return err
	}
	fmt.Fprintf(w.out, "   none of the local identifiers in the WSPs' %d answers either\n", len(w.rec.bodies)-first)
	return nil
}

// queryAll queries every item type of svc at e and prints the answer.
func (w *walker) queryAll(ctx context.Context, e *wsf.EPR, svc *dst.Service) error {
	q := &dst.Query{}
	for _, it := range svc.Items {
		q.Items = append(q.Items, dst.QueryItem{ItemID: it.Name, Select: "/" + svc.Prefix + ":" + it.Name, HasSelect: true, Count: -1})
	}
	h := wsf.Header{UsageDirectives: []wsf.UsageDirective{wsf.PurposeDirective(wsf.PurposeSelf)}}
	res, err := w.wsc.Call(ctx, &client.Call{EPR: e, Action: svc.Action("Query"), Payload: svc.QueryElement(q), Header: h})
	if err != nil {
		return err
	}
	r, err := svc.DecodeQueryResponse(res.Payload)
	if err != nil {
		return err
	}
	if r.Status.Code != wsf.OK {
		return fmt.Errorf("status %s", r.Status.Code)
	}
	var items []string
	for _, d := range r.Data {
		items = append(items, fmt.Sprintf("%d %s", len(d.Items), d.ItemIDRef))
	}
	fmt.Fprintf(w.out, "   DST Query -> %-40s %-31s HTTP %d, %6d bytes, %s: %s\n", e.Metadata.ProviderID, svc.NS,
		w.rec.status[len(w.rec.status)-1], len(w.rec.bodies[len(w.rec.bodies)-1]), r.Status.Code, strings.Join(items, ", "))
	return nil
}

// eprKey orders EPRs by provider, then service type.
func eprKey(e *wsf.EPR) string {
	if e.Metadata == nil {
		return ""
	}
	return e.Metadata.ProviderID + " " + e.Metadata.ServiceType
}
