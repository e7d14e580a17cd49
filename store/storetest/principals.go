package storetest

import (
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

var principalCases = []testCase{
	{"principal/ok/create-and-read", testPrincipalCreate},
	{"principal/ok/time-zone-normalized-to-utc", testPrincipalTimeZone},
	{"principal/fail/duplicate-id", testPrincipalDuplicate},
	{"principal/fail/unknown-id", testPrincipalUnknown},
	{"principal/fail/invalid-text", testPrincipalInvalidText},
	{"card/ok/issue-and-lookups", testCardLookups},
	{"card/fail/unknown-principal", testCardUnknownPrincipal},
	{"card/fail/duplicate-number-or-certificate", testCardDuplicate},
	{"card/fail/new-card-not-issued", testCardNotIssued},
	{"card/ok/revoke-once", testCardRevoke},
	{"card/ok/reissue-keeps-federations", testCardReissue},
	{"card/ok/reissue-after-revocation-keeps-revocation-time", testCardReissueRevoked},
	{"card/fail/reissue-to-other-principal", testCardReissueOther},
}

// newCard returns an issued card of principal numbered n.
func newCard(principal string, n int) store.Card {
	num := string(rune('A'+n)) + "0000001"
	return store.Card{Number: num, PrincipalID: principal, CertIssuer: "CN=Renkei Card CA,O=Renkei,C=JP",
		CertSerial: "10" + num, Status: store.CardIssued, Issued: at(time.Duration(n) * time.Hour)}
}

func testPrincipalCreate(t *testing.T, s store.Store) {
	p := newPrincipal(t, s, "p-1")
	got, err := s.Principal(ctx, "p-1")
	must(t, err)
	wantEqual(t, got, p)
}

func testPrincipalTimeZone(t *testing.T, s store.Store) {
	jst := time.FixedZone("JST", 9*3600)
	must(t, s.CreatePrincipal(ctx, store.Principal{ID: "p-1", Created: t0.In(jst)}))
	got, err := s.Principal(ctx, "p-1")
	must(t, err)
	if !got.Created.Equal(t0) || got.Created.Location() != time.UTC {
		t.Fatalf("created = %v, want %v in UTC", got.Created, t0)
	}
}

func testPrincipalDuplicate(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	wantErr(t, s.CreatePrincipal(ctx, store.Principal{ID: "p-1", Created: at(time.Hour)}), store.ErrAlreadyExists)
	got, err := s.Principal(ctx, "p-1")
	must(t, err)
	wantEqual(t, got.Created, t0)
}

func testPrincipalUnknown(t *testing.T, s store.Store) {
	_, err := s.Principal(ctx, "nobody")
	wantErr(t, err, store.ErrNotFound)
}

func testPrincipalInvalidText(t *testing.T, s store.Store) {
	for name, bad := range badTexts {
		t.Run(name, func(t *testing.T) {
			wantErr(t, s.CreatePrincipal(ctx, store.Principal{ID: bad, Created: t0}), store.ErrInvalid)
			_, err := s.Principal(ctx, bad)
			wantErr(t, err, store.ErrInvalid)
			_, err = s.Federation(ctx, bad, "sp")
			wantErr(t, err, store.ErrInvalid)
		})
	}
	wantErr(t, s.CreatePrincipal(ctx, store.Principal{ID: "", Created: t0}), store.ErrInvalid)
	wantErr(t, s.CreatePrincipal(ctx, store.Principal{ID: "p-1"}), store.ErrInvalid)
}

func testCardLookups(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	newPrincipal(t, s, "p-2")
	c2, c1, other := newCard("p-1", 2), newCard("p-1", 1), newCard("p-2", 3)
	for _, c := range []store.Card{c2, c1, other} {
		must(t, s.IssueCard(ctx, c))
	}
	got, err := s.Card(ctx, c1.Number)
	must(t, err)
	wantEqual(t, got, c1)
	got, err = s.CardByCertificate(ctx, c2.CertIssuer, c2.CertSerial)
	must(t, err)
	wantEqual(t, got, c2)
	cards, err := s.Cards(ctx, "p-1")
	must(t, err)
	wantEqual(t, cards, []store.Card{c1, c2})
	_, err = s.CardByCertificate(ctx, "CN=Other CA", c2.CertSerial)
	wantErr(t, err, store.ErrNotFound)
}

func testCardUnknownPrincipal(t *testing.T, s store.Store) {
	wantErr(t, s.IssueCard(ctx, newCard("nobody", 1)), store.ErrNotFound)
	_, err := s.Card(ctx, newCard("nobody", 1).Number)
	wantErr(t, err, store.ErrNotFound)
}

func testCardDuplicate(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	c := newCard("p-1", 1)
	must(t, s.IssueCard(ctx, c))
	sameNumber := newCard("p-1", 2)
	sameNumber.Number = c.Number
	wantErr(t, s.IssueCard(ctx, sameNumber), store.ErrAlreadyExists)
	sameCert := newCard("p-1", 3)
	sameCert.CertSerial = c.CertSerial
	wantErr(t, s.IssueCard(ctx, sameCert), store.ErrAlreadyExists)
	cards, err := s.Cards(ctx, "p-1")
	must(t, err)
	wantEqual(t, cards, []store.Card{c})
}

func testCardNotIssued(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	c := newCard("p-1", 1)
	c.Status, c.Revoked = store.CardRevoked, at(time.Hour)
	wantErr(t, s.IssueCard(ctx, c), store.ErrInvalid)
	c.Status = "lost"
	wantErr(t, s.IssueCard(ctx, c), store.ErrInvalid)
}

func testCardRevoke(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	c := newCard("p-1", 1)
	must(t, s.IssueCard(ctx, c))
	got, err := s.RevokeCard(ctx, c.Number, at(48*time.Hour))
	must(t, err)
	c.Status, c.Revoked = store.CardRevoked, at(48*time.Hour)
	wantEqual(t, got, c)
	_, err = s.RevokeCard(ctx, c.Number, at(49*time.Hour))
	wantErr(t, err, store.ErrConflict)
	got, err = s.Card(ctx, c.Number)
	must(t, err)
	wantEqual(t, got, c)
	_, err = s.RevokeCard(ctx, "no-such-card", t0)
	wantErr(t, err, store.ErrNotFound)
}

func testCardReissue(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	old := newCard("p-1", 1)
	must(t, s.IssueCard(ctx, old))
	f := newFederation(t, s, "p-1", provider(1), "patient-0042")
	next := newCard("", 5)
	got, err := s.ReissueCard(ctx, old.Number, next)
	must(t, err)
	next.PrincipalID = "p-1"
	wantEqual(t, got, next)
	byCert, err := s.CardByCertificate(ctx, next.CertIssuer, next.CertSerial)
	must(t, err)
	wantEqual(t, byCert, next)
	revoked, err := s.Card(ctx, old.Number)
	must(t, err)
	old.Status, old.Revoked = store.CardRevoked, next.Issued
	wantEqual(t, revoked, old)
	fed, err := s.Federation(ctx, byCert.PrincipalID, provider(1))
	must(t, err)
	wantEqual(t, fed, f)
}

func testCardReissueRevoked(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	old := newCard("p-1", 1)
	must(t, s.IssueCard(ctx, old))
	lost, err := s.RevokeCard(ctx, old.Number, at(3*time.Hour))
	must(t, err)
	_, err = s.ReissueCard(ctx, old.Number, newCard("p-1", 5))
	must(t, err)
	got, err := s.Card(ctx, old.Number)
	must(t, err)
	wantEqual(t, got, lost)
	cards, err := s.Cards(ctx, "p-1")
	must(t, err)
	if len(cards) != 2 || cards[1].Status != store.CardIssued {
		t.Fatalf("cards after reissue = %+v, want the revoked one and an issued one", cards)
	}
}

func testCardReissueOther(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	newPrincipal(t, s, "p-2")
	old := newCard("p-1", 1)
	must(t, s.IssueCard(ctx, old))
	_, err := s.ReissueCard(ctx, old.Number, newCard("p-2", 5))
	wantErr(t, err, store.ErrInvalid)
	_, err = s.ReissueCard(ctx, "no-such-card", newCard("p-1", 5))
	wantErr(t, err, store.ErrNotFound)
	got, err := s.Card(ctx, old.Number)
	must(t, err)
	wantEqual(t, got, old)
	_, err = s.Card(ctx, newCard("p-1", 5).Number)
	wantErr(t, err, store.ErrNotFound)
}
