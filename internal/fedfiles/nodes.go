package fedfiles

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// nodeName is the part of a role's name that tells its node: " 1" for
// the suffix "-1", "" for the one process of a role.
func nodeName(n string) string { return strings.ReplaceAll(n, "-", " ") }

// nodeURL is the URL of listener's node n, or public for the one
// process of a role.
func (w *writer) nodeURL(listener, n, public string) string {
	if n == "" {
		return public
	}
	return "https://" + w.addr[listener+n]
}

// node marks r as node n of the role behind the balancer named role (a
// key of Federation.Backends), listening on listener.
func (w *writer) node(r *Role, role, listener, n string) {
	if n != "" {
		r.Balancer, r.Node = role, "https://"+w.addr[listener+n]
	}
}

// backOffice loads hospital A's back office into PostgreSQL for the
// several-node variant, the same rows as the SQLite file of samples.
func (w *writer) backOffice(ctx context.Context) error {
	if w.nodes == nil {
		return nil
	}
	script, err := sample.GenerateSQL(NodeInstitution, sample.PostgreSQL, sample.Options{Reference: w.now.Truncate(24 * time.Hour)})
	if err != nil {
		return err
	}
	db, err := sql.Open("pgx", w.nodes.BackOffice)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, script); err != nil {
		return fmt.Errorf("loading %s's back office into PostgreSQL: %w", NodeInstitution, err)
	}
	return nil
}
