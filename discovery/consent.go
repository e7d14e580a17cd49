package discovery

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// The consent page's flow (IDWSF2 §2.6, ARCHITECTURE "Consent"): a Query
// that needs the citizen's consent answers a RedirectRequest to the
// consent page with a one-time transaction; the WSC sends the browser
// there with its ReturnToURL; the page names the institutions and their
// services and asks the card holder; the answer records the associations
// and sends the browser back with ResendMessage, and the WSC re-sends its
// Query. Each step takes its transaction from the store and puts the next
// under a new random handle, so that every link works once, on any DS node.

// Errors of the consent page.
var (
	// ErrConsentUnknown: the transaction does not exist, was used or
	// expired.
	ErrConsentUnknown = errors.New("discovery: consent transaction unknown, used or expired")
	// ErrReturnTo: the ReturnToURL is not an https address of the WSC
	// that asked.
	ErrReturnTo = errors.New("discovery: ReturnToURL is not the asking WSC's")
)

// consentTx is a pending consent, kept as a one-time artifact: whose, for
// which WSC, which SvcMDs, and where the browser returns.
type consentTx struct {
	Principal string   `json:"principal"`
	WSC       string   `json:"wsc"`
	SvcMDIDs  []string `json:"svcMDIDs"`
	Purpose   string   `json:"purpose,omitempty"`
	ReturnTo  string   `json:"returnTo,omitempty"`
	// Started is when the Query asked for consent: every step of the
	// transaction ends ConsentLifetime after it, however often the page
	// is shown again (a language switch).
	Started time.Time `json:"started"`
}

// Artifact handle prefixes of the two steps.
const (
	txLink = "consent-link:"
	txForm = "consent-form:"
)

// askConsent answers a Query that only consent can satisfy: a
// RedirectRequest to the consent page when the WSC may redirect the user
// and the DS has a page, InteractionRequired otherwise (IDWSF2 §2.6).
func (d *DS) askConsent(ctx context.Context, inv *Invoker, principal string, svcs []*disco.SvcMD, now time.Time) error {
	u := inv.Interaction
	ref := refuse(wsf.InteractionRequired, "no association with %d requested service(s)", len(svcs))
	if err := d.auditRefusal(ctx, inv, principal, "", "query", ref, now); err != nil {
		return err
	}
	switch {
	case d.cfg.ConsentURL == "" || u == nil || !u.Redirect || u.EffectiveInteract() == wsf.DoNotInteract:
		return wsf.Errorf(wsf.InteractionRequired, "%s; the WSC may not redirect, or the DS has no consent page", ref.reason)
	case !contains(d.cfg.Policy.Portals, inv.Provider):
		// The consent page does not authenticate the card holder: the
		// one-time link is the only proof of who answers. Only a portal of
		// the policy, which may record consent by SvcMDAssociationAdd
		// anyway, is handed one; any other WSC could follow its own link.
		return wsf.Errorf(wsf.InteractionRequired, "%s; %s is not a portal that collects consent", ref.reason, inv.Provider)
	}
	tx := consentTx{Principal: principal, WSC: inv.Provider, Purpose: inv.Purpose, Started: now}
	for _, s := range svcs {
		if !contains(tx.SvcMDIDs, s.ID) {
			tx.SvcMDIDs = append(tx.SvcMDIDs, s.ID)
		}
	}
	h, err := d.putTx(ctx, txLink, tx, now)
	if err != nil {
		return err
	}
	return &wsf.Error{Code: wsf.InteractionRequired, RedirectURL: withQuery(d.cfg.ConsentURL, "tx", h)}
}

// ConsentService is one service the consent page asks about.
type ConsentService struct {
	SvcMDID      string
	ProviderID   string
	Abstract     string
	ServiceTypes []string // every type the association would cover
}

// ConsentPrompt is what the consent page shows: the WSC asking, the
// services, and the one-time handle of the form's answer.
type ConsentPrompt struct {
	Form     string
	WSC      string
	Purpose  string
	Services []ConsentService
}

// OpenConsent takes the transaction of the link the WSC redirected the
// browser to and returns the prompt, keeping the transaction with
// returnTo under the form's handle. returnTo must be an https URL on the
// host of the WSC's entityID.
func (d *DS) OpenConsent(ctx context.Context, link, returnTo string) (*ConsentPrompt, error) {
	now := d.cfg.now()
	tx, err := d.takeTx(ctx, txLink, link, now)
	if err != nil {
		return nil, err
	}
	if err := checkReturnTo(tx.WSC, returnTo); err != nil {
		return nil, err
	}
	tx.ReturnTo = returnTo
	return d.prompt(ctx, tx, now)
}

// ReopenConsent takes the form's transaction and returns the same prompt
// under a new one-time form handle: the page shown again, in another
// language, without spending the card holder's answer.
func (d *DS) ReopenConsent(ctx context.Context, form string) (*ConsentPrompt, error) {
	now := d.cfg.now()
	tx, err := d.takeTx(ctx, txForm, form, now)
	if err != nil {
		return nil, err
	}
	return d.prompt(ctx, tx, now)
}

// prompt reads the transaction's services and keeps the transaction
// under a new form handle.
func (d *DS) prompt(ctx context.Context, tx consentTx, now time.Time) (*ConsentPrompt, error) {
	var err error
	p := &ConsentPrompt{WSC: tx.WSC, Purpose: tx.Purpose}
	for _, id := range tx.SvcMDIDs {
		r, err := d.cfg.Store.SvcMD(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		s, err := d.decode(r)
		if err != nil {
			return nil, err
		}
		p.Services = append(p.Services, ConsentService{SvcMDID: id, ProviderID: s.ProviderID, Abstract: s.Abstract,
			ServiceTypes: allTypes(s)})
	}
	if p.Form, err = d.putTx(ctx, txForm, tx, now); err != nil {
		return nil, err
	}
	return p, nil
}

// DecideConsent takes the form's transaction and records the card
// holder's answer: on allow, one association per service (audited, basis
// "consent-page"); either way the browser goes back to the WSC's
// ReturnToURL with ResendMessage 1 or 0 (IDWSF2 §2.6 step 4).
func (d *DS) DecideConsent(ctx context.Context, form string, allow bool) (string, error) {
	now := d.cfg.now()
	tx, err := d.takeTx(ctx, txForm, form, now)
	if err != nil {
		return "", err
	}
	if !allow {
		return withQuery(tx.ReturnTo, "ResendMessage", "0"), nil
	}
	for _, id := range tx.SvcMDIDs {
		err := d.cfg.Store.Associate(ctx, store.Association{PrincipalID: tx.Principal, SvcMDID: id, Created: now})
		switch {
		case errors.Is(err, store.ErrAlreadyExists):
			continue
		case errors.Is(err, store.ErrNotFound):
			continue // the SvcMD was deleted meanwhile
		case err != nil:
			return "", err
		}
		provider := ""
		if r, err := d.cfg.Store.SvcMD(ctx, id); err == nil {
			provider = r.ProviderID
		}
		if err := d.audit(ctx, tx.WSC, tx.Principal, provider, AuditAssociationAdd, tx.Purpose,
			AuditDetail{SvcMDID: id, Basis: "consent-page"}, now); err != nil {
			return "", err
		}
	}
	return withQuery(tx.ReturnTo, "ResendMessage", "1"), nil
}

// allTypes lists every service type of s: an association covers them
// all, so the page names them all.
func allTypes(s *disco.SvcMD) []string {
	var out []string
	for _, sc := range s.ServiceContexts {
		for _, t := range sc.ServiceTypes {
			if !contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

func (d *DS) putTx(ctx context.Context, prefix string, tx consentTx, now time.Time) (string, error) {
	b, err := json.Marshal(tx)
	if err != nil {
		return "", err
	}
	h, err := randomHandle(d.cfg.Rand)
	if err != nil {
		return "", err
	}
	switch {
	case tx.Started.IsZero() || tx.Started.After(now):
		return "", fmt.Errorf("discovery: consent transaction without a start before %s", now.Format(time.RFC3339))
	case !now.Before(tx.Started.Add(ConsentLifetime)):
		return "", ErrConsentUnknown // expired while the page was shown again
	}
	a := store.Artifact{Handle: prefix + h, Issuer: d.cfg.EntityID, Recipient: tx.WSC, Message: b,
		Created: now, Expires: tx.Started.Add(ConsentLifetime)}
	return h, d.cfg.Store.PutArtifact(ctx, a)
}

func (d *DS) takeTx(ctx context.Context, prefix, h string, now time.Time) (consentTx, error) {
	var tx consentTx
	if h == "" || len(h) > 64 {
		return tx, ErrConsentUnknown
	}
	a, err := d.cfg.Store.TakeArtifact(ctx, prefix+h, now)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return tx, ErrConsentUnknown
	}
	if err != nil {
		return tx, err
	}
	if a.Issuer != d.cfg.EntityID {
		return tx, ErrConsentUnknown
	}
	if err := json.Unmarshal(a.Message, &tx); err != nil {
		return tx, fmt.Errorf("discovery: stored consent transaction: %w", err)
	}
	return tx, nil
}

// checkReturnTo accepts an https URL on the host of the WSC's entityID:
// the consent page never sends the browser anywhere else.
func checkReturnTo(wsc, returnTo string) error {
	u, err := url.Parse(returnTo)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return ErrReturnTo
	}
	w, err := url.Parse(wsc)
	if err != nil || !strings.EqualFold(w.Host, u.Host) {
		return ErrReturnTo
	}
	return nil
}

func randomHandle(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, 18)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// withQuery adds k=v to the query of u, before any fragment (where the
// server would never see it).
func withQuery(u, k, v string) string {
	frag := ""
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u, frag = u[:i], u[i:]
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + url.QueryEscape(k) + "=" + url.QueryEscape(v) + frag
}
