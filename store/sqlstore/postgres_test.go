package sqlstore

import (
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/storetest"
)

func TestConformancePostgres(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store { return openDSN(t, pg.NewDatabase(t)) })
}
