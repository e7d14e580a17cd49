package idp

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
)

// TestSessionLifecycle: a session opened at login is found by its cookie
// (which the store never holds), SPs join it with one SessionIndex each,
// a LogoutRequest's SessionIndex finds it, and ending it leaves nothing.
func TestSessionLifecycle(t *testing.T) {
	f := newFixture(t)
	s, err := f.idp.StartSession(ctx, f.aliceAuthn(), f.now)
	must(t, err)
	if len(s.Cookie) < 43 || s.ID == s.Cookie || !s.Expires.Equal(f.now.Add(DefaultSessionLifetime)) {
		t.Fatalf("session %+v", s)
	}
	if _, err := f.db.Session(ctx, s.Cookie); err == nil {
		t.Fatal("the store holds the cookie itself")
	}
	got, err := f.idp.SessionByCookie(ctx, s.Cookie, f.now.Add(time.Hour))
	must(t, err)
	if got.PrincipalID != "p-alice" || got.AuthnContext != saml.ACSmartcardPKI || got.Authn().ClassRef != saml.ACSmartcardPKI {
		t.Fatalf("session by cookie %+v", got)
	}
	n1 := &saml.NameID{Value: "t-1", Format: saml.NameIDTransient}
	idx, err := f.idp.Join(ctx, s.ID, portalID, n1, f.now)
	must(t, err)
	n2 := &saml.NameID{Value: "t-2", Format: saml.NameIDTransient}
	again, err := f.idp.Join(ctx, s.ID, portalID, n2, f.now.Add(time.Minute))
	must(t, err)
	other, err := f.idp.Join(ctx, s.ID, otherSP, n1, f.now)
	must(t, err)
	if again != idx || other == idx || idx == "" {
		t.Fatalf("session indexes %q, %q, %q", idx, again, other)
	}
	byIndex, err := f.idp.SessionByIndex(ctx, portalID, idx)
	must(t, err)
	p, ok := byIndex.Participant(portalID)
	if byIndex.ID != s.ID || !ok || p.NameID != "t-2" || len(byIndex.Participants) != 2 {
		t.Fatalf("session by index %+v", byIndex)
	}
	ended, err := f.idp.EndSession(ctx, s.ID)
	must(t, err)
	if len(ended.Participants) != 2 {
		t.Fatalf("ended session participants %+v", ended.Participants)
	}
	_, err = f.idp.SessionByCookie(ctx, s.Cookie, f.now)
	wantErr(t, err, ErrNoSession)
	_, err = f.idp.EndSession(ctx, s.ID)
	wantErr(t, err, ErrNoSession)
}

// TestSessionRefusals: expired sessions, unknown and oversized cookies,
// and an unknown principal.
func TestSessionRefusals(t *testing.T) {
	f := newFixture(t)
	s, err := f.idp.StartSession(ctx, f.aliceAuthn(), f.now)
	must(t, err)
	end := f.now.Add(DefaultSessionLifetime)
	t.Run("fail/expired", func(t *testing.T) {
		_, err := f.idp.SessionByCookie(ctx, s.Cookie, end)
		wantErr(t, err, ErrSessionExpired)
	})
	t.Run("fail/join-expired", func(t *testing.T) {
		_, err := f.idp.Join(ctx, s.ID, portalID, &saml.NameID{Value: "x"}, end)
		wantErr(t, err, ErrSessionExpired)
	})
	t.Run("fail/unknown-cookie", func(t *testing.T) {
		_, err := f.idp.SessionByCookie(ctx, s.Cookie+"x", f.now)
		wantErr(t, err, ErrNoSession)
	})
	t.Run("fail/oversized-cookie", func(t *testing.T) {
		_, err := f.idp.SessionByCookie(ctx, string(make([]byte, 4096)), f.now)
		wantErr(t, err, ErrNoSession)
	})
	t.Run("fail/empty-cookie", func(t *testing.T) {
		_, err := f.idp.SessionByCookie(ctx, "", f.now)
		wantErr(t, err, ErrNoSession)
	})
	t.Run("fail/unknown-principal", func(t *testing.T) {
		_, err := f.idp.StartSession(ctx, Authn{PrincipalID: "p-nobody", ClassRef: saml.ACX509, Instant: f.now}, f.now)
		wantErr(t, err, ErrUnknownPrincipal)
	})
}

// TestSessionEndsWithItsCard: revoking the card a session's login presented
// ends the session at its next use, while a session opened with another
// card of the same principal (the soft certificate) goes on.
func TestSessionEndsWithItsCard(t *testing.T) {
	f := newFixture(t)
	card, err := f.idp.StartSession(ctx, f.aliceAuthn(), f.now)
	must(t, err)
	softAuthn, err := f.idp.AuthenticateCertificate(ctx, []*x509.Certificate{f.Soft.Cert}, f.now)
	must(t, err)
	soft, err := f.idp.StartSession(ctx, softAuthn, f.now)
	must(t, err)
	got, err := f.idp.SessionByCookie(ctx, card.Cookie, f.now)
	must(t, err)
	if got.CardNumber != f.Alice.Number || got.Authn().CardNumber != f.Alice.Number {
		t.Fatalf("session remembers card %q, want %q", got.CardNumber, f.Alice.Number)
	}
	_, err = f.db.RevokeCard(ctx, f.Alice.Number, f.now)
	must(t, err)
	_, err = f.idp.SessionByCookie(ctx, card.Cookie, f.now)
	wantErr(t, err, ErrCertRevoked)
	if _, err := f.db.Session(ctx, card.ID); err == nil {
		t.Fatal("the revoked card's session is still stored")
	}
	_, err = f.idp.SessionByCookie(ctx, soft.Cookie, f.now)
	must(t, err)
}
