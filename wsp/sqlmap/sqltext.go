package sqlmap

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// stmt is one SQL statement of a mapping with its named parameters
// rewritten to the driver's placeholders: ? for SQLite, $1, $2, ... for
// PostgreSQL. Each occurrence of a name is a placeholder of its own, so that
// PostgreSQL infers each one's type from where it stands.
type stmt struct {
	text   string   // the rewritten statement
	params []string // the parameter name of each placeholder, in order
}

// placeholder returns the n-th placeholder (from 1) of a driver.
func placeholder(dollar bool, n int) string {
	if dollar {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// rewrite reads src, a statement in the driver's dialect with :name
// parameters, and returns it with placeholders. It leaves alone what only
// looks like a parameter: PostgreSQL's :: casts, string literals, quoted
// identifiers and comments. It refuses the driver's own positional
// placeholders, more than one statement, and unterminated literals and
// comments. A trailing semicolon is dropped.
func rewrite(src string, dollar bool) (stmt, error) {
	var (
		b      strings.Builder
		params []string
	)
	s := strings.TrimRight(strings.TrimSpace(src), "; \t\r\n")
	if s == "" {
		return stmt{}, errors.New("empty statement")
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'':
			// PostgreSQL's E'...' takes backslash escapes.
			esc := dollar && i > 0 && (s[i-1] == 'E' || s[i-1] == 'e') && (i < 2 || !identChar(s[i-2]))
			n, err := skipQuoted(s, i, '\'', esc)
			if err != nil {
				return stmt{}, err
			}
			b.WriteString(s[i:n])
			i = n
		case c == '"', !dollar && c == '`':
			n, err := skipQuoted(s, i, c, false)
			if err != nil {
				return stmt{}, err
			}
			b.WriteString(s[i:n])
			i = n
		case !dollar && c == '[':
			// SQLite's [identifier].
			n := strings.IndexByte(s[i:], ']')
			if n < 0 {
				return stmt{}, errors.New("unterminated [identifier]")
			}
			b.WriteString(s[i : i+n+1])
			i += n + 1
		case strings.HasPrefix(s[i:], "--"):
			n := strings.IndexByte(s[i:], '\n')
			if n < 0 {
				n = len(s) - i
			}
			b.WriteString(s[i : i+n])
			i += n
		case strings.HasPrefix(s[i:], "/*"):
			n := commentEnd(s[i:], dollar)
			if n < 0 {
				return stmt{}, errors.New("unterminated /* comment")
			}
			b.WriteString(s[i : i+n])
			i += n
		case c == ';':
			return stmt{}, errors.New("more than one statement (a ';' inside)")
		case c == ':' && i+1 < len(s) && s[i+1] == ':':
			b.WriteString("::")
			i += 2
		case c == ':' && i+1 < len(s) && identStart(s[i+1]):
			j := i + 1
			for j < len(s) && identChar(s[j]) {
				j++
			}
			params = append(params, s[i+1:j])
			b.WriteString(placeholder(dollar, len(params)))
			i = j
		case dollar && c == '$':
			n, err := skipDollar(s, i)
			if err != nil {
				return stmt{}, err
			}
			b.WriteString(s[i:n])
			i = n
		case !dollar && (c == '?' || (c == '$' || c == '@') && i+1 < len(s) && identChar(s[i+1])):
			return stmt{}, fmt.Errorf("positional or %c parameter at offset %d: write parameters as :name", c, i)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return stmt{text: b.String(), params: params}, nil
}

// skipQuoted returns the index after the literal opening at s[i] with
// quote q, where a doubled quote stands for itself and, when esc, a
// backslash escapes the next byte.
func skipQuoted(s string, i int, q byte, esc bool) (int, error) {
	for j := i + 1; j < len(s); j++ {
		switch {
		case esc && s[j] == '\\':
			j++
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated %c literal", q)
}

// skipDollar returns the index after PostgreSQL's dollar-quoted string
// $tag$...$tag$ opening at s[i], and refuses a positional $n.
func skipDollar(s string, i int) (int, error) {
	j := i + 1
	if j < len(s) && s[j] >= '0' && s[j] <= '9' {
		return 0, fmt.Errorf("positional parameter at offset %d: write parameters as :name", i)
	}
	for j < len(s) && identChar(s[j]) {
		j++
	}
	if j >= len(s) || s[j] != '$' {
		return j, nil // not a dollar quote: part of an identifier or an operator
	}
	tag := s[i : j+1]
	n := strings.Index(s[j+1:], tag)
	if n < 0 {
		return 0, fmt.Errorf("unterminated %s string", tag)
	}
	return j + 1 + n + len(tag), nil
}

func identStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func identChar(c byte) bool { return identStart(c) || '0' <= c && c <= '9' }

// isIdent reports whether s is a plain SQL identifier, which the adapter
// may write into the statements it composes.
func isIdent(s string) bool {
	if s == "" || !identStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !identChar(s[i]) {
			return false
		}
	}
	return true
}

// commentEnd returns the length of the block comment s starts with, or
// -1 when it is not closed. PostgreSQL's block comments nest (dollar);
// SQLite's end at the first "*/".
func commentEnd(s string, nested bool) int {
	depth := 0
	for i := 0; i+1 < len(s); {
		switch {
		case s[i] == '/' && s[i+1] == '*' && (nested || depth == 0):
			depth++
			i += 2
		case s[i] == '*' && s[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return -1
}
