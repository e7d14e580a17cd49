package sqlmap_test

import (
	"os"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
)

// TestMain stops the PostgreSQL cluster the tests share, if one was started.
func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }
