package store

import (
	"errors"
	"testing"
	"time"
)

func TestReplayKey(t *testing.T) {
	t.Run("ok/split-returns-scope-and-id", func(t *testing.T) {
		k := MessageIDKey("https://wsc.example.jp", "urn:uuid:1")
		scope, id, ok := SplitReplayKey(k)
		if !ok || scope != "https://wsc.example.jp" || id != "urn:uuid:1" || k.Kind != ReplayMessageID {
			t.Fatalf("SplitReplayKey(%+v) = %q, %q, %v", k, scope, id, ok)
		}
	})
	t.Run("ok/shifted-boundary-gives-another-key", func(t *testing.T) {
		a, b := MessageIDKey("ab", "c"), MessageIDKey("a", "bc")
		if a == b {
			t.Fatalf("(ab, c) and (a, bc) share the key %q", a.Value)
		}
	})
	for name, v := range map[string]string{"no-length": "abc", "length-too-big": "9:ab",
		"negative": "-1:ab", "leading-zero": "01:ab", "plus-sign": "+1:ab"} {
		t.Run("fail/split-"+name, func(t *testing.T) {
			if _, _, ok := SplitReplayKey(ReplayKey{Kind: ReplayMessageID, Value: v}); ok {
				t.Fatalf("SplitReplayKey accepted %q", v)
			}
		})
	}
}

func TestReplayValidateUse(t *testing.T) {
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	k := MessageIDKey("s", "m")
	if err := k.ValidateUse(now.Add(time.Nanosecond), now); err != nil {
		t.Fatalf("ok/expiry-after-now: %v", err)
	}
	for name, expiry := range map[string]time.Time{"fail/expiry-equals-now": now,
		"fail/expiry-before-now": now.Add(-time.Hour), "fail/expiry-unset": {},
		"fail/expiry-past-year-2262": time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		t.Run(name, func(t *testing.T) {
			if err := k.ValidateUse(expiry, now); !errors.Is(err, ErrInvalid) {
				t.Fatalf("ValidateUse(%v) = %v, want ErrInvalid", expiry, err)
			}
		})
	}
}

func TestAuditCursor(t *testing.T) {
	e := AuditEvent{ID: 42, Time: time.Date(2026, 4, 1, 9, 0, 0, 5, time.UTC)}
	t.Run("ok/round-trip", func(t *testing.T) {
		c, err := ParseAuditCursor(CursorAfter(e).String())
		if err != nil || !c.Set || c.ID != 42 || !c.Time.Equal(e.Time) {
			t.Fatalf("round trip of %+v gave %+v, %v", e, c, err)
		}
	})
	t.Run("ok/empty-is-first-page", func(t *testing.T) {
		c, err := ParseAuditCursor("")
		if err != nil || c.Set {
			t.Fatalf("ParseAuditCursor(\"\") = %+v, %v", c, err)
		}
	})
	for _, s := range []string{"x", "1", "1.", ".1", "1.2.3", "01.2", "1.02", "+1.2", "1.-2", "1. 2", "1e3.2"} {
		t.Run("fail/"+s, func(t *testing.T) {
			if _, err := ParseAuditCursor(s); !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseAuditCursor(%q) = %v, want ErrInvalid", s, err)
			}
		})
	}
}

func TestErrReplayIsAlreadyExists(t *testing.T) {
	if !errors.Is(ErrReplay, ErrAlreadyExists) || errors.Is(ErrAlreadyExists, ErrReplay) {
		t.Fatal("ErrReplay must match ErrAlreadyExists, and not the other way round")
	}
}

func FuzzReplayKey(f *testing.F) {
	f.Add("https://wsc.example.jp", "urn:uuid:5b1f1c5e-7d2a-4c39-9a55-0f6c2f8d1a01", "https://wsc.example.jp/", "urn:uuid:5b1f1c5e")
	f.Add("ab", "c", "a", "bc")
	f.Add("1:", "x", "", "1:x")
	f.Fuzz(func(t *testing.T, scope1, id1, scope2, id2 string) {
		k1, k2 := MessageIDKey(scope1, id1), MessageIDKey(scope2, id2)
		if (k1 == k2) != (scope1 == scope2 && id1 == id2) {
			t.Fatalf("(%q, %q) and (%q, %q): keys equal = %v", scope1, id1, scope2, id2, k1 == k2)
		}
		s, id, ok := SplitReplayKey(k1)
		if !ok || s != scope1 || id != id1 {
			t.Fatalf("SplitReplayKey(%q) = %q, %q, %v", k1.Value, s, id, ok)
		}
	})
}

func FuzzAuditCursor(f *testing.F) {
	f.Add("1775034000000000005.42")
	f.Add("-1.0")
	f.Add("9223372036854775807.9223372036854775807")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseAuditCursor(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseAuditCursor(%q) error %v does not match ErrInvalid", s, err)
			}
			return
		}
		if c.String() != s {
			t.Fatalf("ParseAuditCursor(%q) = %+v, which encodes as %q", s, c, c.String())
		}
	})
}
