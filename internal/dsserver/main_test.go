package dsserver_test

import (
	"os"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
)

// TestMain stops the throwaway PostgreSQL cluster the relay tests start.
func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }
