package wspserver

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/wsp/httpjson"
	"github.com/renkei-idwsf/renkei/wsp/sqlmap"
)

// mapped is what a mapping file maps: the service types, and per type
// the item types and those with writes.
type mapped struct {
	types    []string
	items    map[string][]string
	writable map[string][]string
}

// openBackend loads the mapping file the configuration names (relative
// to the working directory) and opens the back office. override, when
// set, replaces the SQL mapping's DSN or the HTTP mapping's base URL.
func openBackend(ctx context.Context, c *File, override string) (wsp.Backend, mapped, error) {
	dsn := override
	if dsn == "" {
		dsn = c.Backend.DSN
	}
	path := filepath.Clean(c.Backend.Mapping)
	switch c.Backend.Kind {
	case "sql":
		var m *sqlmap.Mapping
		var err error
		if dsn == "" {
			m, err = sqlmap.Load(path)
		} else {
			m, err = sqlmap.LoadOn(path, driverOf(dsn), dsn)
		}
		if err != nil {
			return nil, mapped{}, err
		}
		var opts []sqlmap.Option
		if d, _ := rolekit.ParseDuration(c.Backend.Timeout); d > 0 {
			opts = append(opts, sqlmap.WithTimeout(d))
		}
		b, err := sqlmap.Open(ctx, m, opts...)
		if err != nil {
			return nil, mapped{}, err
		}
		out := mapped{types: m.Services(), items: map[string][]string{}, writable: map[string][]string{}}
		for _, t := range out.types {
			out.items[t] = m.Items(t)
			for _, it := range out.items[t] {
				if len(m.Writes(t, it)) > 0 {
					out.writable[t] = append(out.writable[t], it)
				}
			}
		}
		return b, out, nil
	case "http":
		return openHTTP(c, path, override)
	}
	return nil, mapped{}, fmt.Errorf("backend.kind %q is not sql or http", c.Backend.Kind)
}

// openHTTP opens a back office behind a REST API (wsp/httpjson); the
// file's backend.base, when set, replaces the mapping's.
func openHTTP(c *File, path, base string) (wsp.Backend, mapped, error) {
	m, err := httpjson.Load(path)
	if err != nil {
		return nil, mapped{}, err
	}
	if base == "" {
		base = c.Backend.Base
	}
	if base != "" {
		m.Base = base
	}
	if d, _ := rolekit.ParseDuration(c.Backend.Timeout); d > 0 {
		m.Timeout = d
	}
	b, err := httpjson.Open(m, nil)
	if err != nil {
		return nil, mapped{}, err
	}
	out := mapped{types: b.Services(), items: map[string][]string{}, writable: map[string][]string{}}
	for _, t := range out.types {
		out.items[t] = b.Items(t)
	}
	return b, out, nil
}

// driverOf is the database/sql driver of a back-office DSN: PostgreSQL
// for a postgres:// URL or key=value connection string, SQLite for a file.
func driverOf(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") || strings.Contains(dsn, "host=") {
		return sqlmap.Postgres
	}
	return sqlmap.SQLite
}
