package storetest

import (
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

var svcmdCases = []testCase{
	{"svcmd/ok/create-and-read", testSvcMDRead},
	{"svcmd/fail/duplicate-or-invalid", testSvcMDInvalid},
	{"svcmd/ok/update-replaces-service-types", testSvcMDUpdate},
	{"svcmd/ok/delete-removes-associations", testSvcMDDelete},
	{"association/ok/filter-by-service-type", testAssociationFilter},
	{"association/fail/duplicate-or-unknown", testAssociationInvalid},
}

// Sample service types.
const (
	svcClinical    = "urn:renkei:svc:clinical:1.0"
	svcCheckup     = "urn:renkei:svc:checkup:1.0"
	svcEligibility = "urn:renkei:svc:eligibility:1.0"
)

// newSvcMD returns metadata id of provider n offering types.
func newSvcMD(id string, n int, types ...string) store.SvcMD {
	return store.SvcMD{ID: id, ProviderID: provider(n), ServiceTypes: types,
		XML: []byte(`<disco:SvcMD xmlns:disco="urn:liberty:disco:2006-08" svcMDID="` + id + `"/>`), Updated: t0}
}

func testSvcMDRead(t *testing.T, s store.Store) {
	m := newSvcMD("md-1", 1, svcClinical, svcCheckup, svcClinical)
	must(t, s.CreateSvcMD(ctx, m))
	must(t, s.CreateSvcMD(ctx, newSvcMD("md-0", 1, svcCheckup)))
	must(t, s.CreateSvcMD(ctx, newSvcMD("md-2", 2, svcCheckup)))
	got, err := s.SvcMD(ctx, "md-1")
	must(t, err)
	m.ServiceTypes = []string{svcCheckup, svcClinical}
	wantEqual(t, got, m)
	all, err := s.SvcMDs(ctx, provider(1))
	must(t, err)
	wantEqual(t, all, []store.SvcMD{newSvcMD("md-0", 1, svcCheckup), m})
	_, err = s.SvcMD(ctx, "md-9")
	wantErr(t, err, store.ErrNotFound)
}

func testSvcMDInvalid(t *testing.T, s store.Store) {
	must(t, s.CreateSvcMD(ctx, newSvcMD("md-1", 1, svcClinical)))
	wantErr(t, s.CreateSvcMD(ctx, newSvcMD("md-1", 2, svcCheckup)), store.ErrAlreadyExists)
	wantErr(t, s.CreateSvcMD(ctx, newSvcMD("md-2", 1)), store.ErrInvalid)
	wantErr(t, s.CreateSvcMD(ctx, newSvcMD("md-2", 1, "")), store.ErrInvalid)
	got, err := s.SvcMD(ctx, "md-1")
	must(t, err)
	wantEqual(t, got, newSvcMD("md-1", 1, svcClinical))
}

func testSvcMDUpdate(t *testing.T, s store.Store) {
	must(t, s.CreateSvcMD(ctx, newSvcMD("md-1", 1, svcClinical, svcCheckup)))
	want := newSvcMD("md-1", 1, svcEligibility)
	want.XML, want.Updated = []byte("<replaced/>"), at(time.Hour)
	got, err := s.UpdateSvcMD(ctx, "md-1", func(m store.SvcMD) (store.SvcMD, error) {
		m.ServiceTypes, m.XML, m.Updated = want.ServiceTypes, want.XML, want.Updated
		return m, nil
	})
	must(t, err)
	wantEqual(t, got, want)
	stored, err := s.SvcMD(ctx, "md-1")
	must(t, err)
	wantEqual(t, stored, want)
	_, err = s.UpdateSvcMD(ctx, "md-1", func(m store.SvcMD) (store.SvcMD, error) {
		m.ID = "md-2"
		return m, nil
	})
	wantErr(t, err, store.ErrInvalid)
	_, err = s.UpdateSvcMD(ctx, "md-9", func(m store.SvcMD) (store.SvcMD, error) { return m, nil })
	wantErr(t, err, store.ErrNotFound)
}

func testSvcMDDelete(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	must(t, s.CreateSvcMD(ctx, newSvcMD("md-1", 1, svcClinical)))
	must(t, s.CreateSvcMD(ctx, newSvcMD("md-2", 2, svcClinical)))
	must(t, s.Associate(ctx, store.Association{PrincipalID: "p-1", SvcMDID: "md-1", Created: t0}))
	must(t, s.Associate(ctx, store.Association{PrincipalID: "p-1", SvcMDID: "md-2", Created: t0}))
	must(t, s.DeleteSvcMD(ctx, "md-1"))
	wantErr(t, s.DeleteSvcMD(ctx, "md-1"), store.ErrNotFound)
	as, err := s.Associations(ctx, "p-1")
	must(t, err)
	wantEqual(t, as, []store.Association{{PrincipalID: "p-1", SvcMDID: "md-2", Created: t0}})
	must(t, s.CreateSvcMD(ctx, newSvcMD("md-1", 1, svcCheckup)))
	got, err := s.SvcMD(ctx, "md-1")
	must(t, err)
	wantEqual(t, got.ServiceTypes, []string{svcCheckup})
}

func testAssociationFilter(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	newPrincipal(t, s, "p-2")
	clinical, eligibility := newSvcMD("md-1", 1, svcClinical, svcCheckup), newSvcMD("md-2", 2, svcEligibility)
	for _, m := range []store.SvcMD{eligibility, clinical, newSvcMD("md-3", 3, svcClinical)} {
		must(t, s.CreateSvcMD(ctx, m))
	}
	for _, pair := range [][2]string{{"p-1", "md-2"}, {"p-1", "md-1"}, {"p-2", "md-3"}} {
		must(t, s.Associate(ctx, store.Association{PrincipalID: pair[0], SvcMDID: pair[1], Created: t0}))
	}
	all, err := s.AssociatedSvcMDs(ctx, "p-1")
	must(t, err)
	clinical.ServiceTypes = []string{svcCheckup, svcClinical}
	wantEqual(t, all, []store.SvcMD{clinical, eligibility})
	some, err := s.AssociatedSvcMDs(ctx, "p-1", svcClinical, "urn:renkei:svc:pension:1.0")
	must(t, err)
	wantEqual(t, some, []store.SvcMD{clinical})
	none, err := s.AssociatedSvcMDs(ctx, "p-1", "urn:renkei:svc:pension:1.0")
	must(t, err)
	wantEqual(t, len(none), 0)
}

func testAssociationInvalid(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	must(t, s.CreateSvcMD(ctx, newSvcMD("md-1", 1, svcClinical)))
	a := store.Association{PrincipalID: "p-1", SvcMDID: "md-1", Created: t0}
	must(t, s.Associate(ctx, a))
	wantErr(t, s.Associate(ctx, a), store.ErrAlreadyExists)
	wantErr(t, s.Associate(ctx, store.Association{PrincipalID: "p-1", SvcMDID: "md-9", Created: t0}), store.ErrNotFound)
	wantErr(t, s.Associate(ctx, store.Association{PrincipalID: "p-9", SvcMDID: "md-1", Created: t0}), store.ErrNotFound)
	wantErr(t, s.Dissociate(ctx, "p-1", "md-9"), store.ErrNotFound)
	must(t, s.Dissociate(ctx, "p-1", "md-1"))
	as, err := s.Associations(ctx, "p-1")
	must(t, err)
	wantEqual(t, len(as), 0)
	many := make([]string, store.MaxServiceTypeFilter+1)
	for i := range many {
		many[i] = svcClinical
	}
	_, err = s.AssociatedSvcMDs(ctx, "p-1", many...)
	wantErr(t, err, store.ErrInvalid)
}
