package sqlstore

import (
	"os"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(pg.Main(m))
}
