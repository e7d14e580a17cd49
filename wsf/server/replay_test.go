package server

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
)

func TestReplay(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	first := f.request(req{mech: wsf.ClientTLSSAMLV2, token: tok})
	resp1 := f.receive(first, k.WSC.Cert)
	f.wantOK(resp1)

	t.Run("ok/identical-retransmission-gets-first-response", func(t *testing.T) {
		resp := f.receive(first, k.WSC.Cert)
		if !resp.Replayed || !bytes.Equal(resp.Body, resp1.Body) || resp.Status != 200 {
			t.Fatalf("got replayed=%v status=%d", resp.Replayed, resp.Status)
		}
	})
	t.Run("fail/same-message-id-other-body", func(t *testing.T) {
		other := queryPayload()
		other.SelectElement("dstref:QueryItem").CreateAttr("itemID", "q2")
		resp := f.receive(f.request(req{mech: wsf.ClientTLSSAMLV2, token: tok, payload: other}), k.WSC.Cert)
		wantCode(t, resp, wsf.DuplicateMsg)
	})
	t.Run("fail/identical-bytes-from-another-tls-client", func(t *testing.T) {
		// The token's holder-of-key check refuses the other client before
		// the memo is looked up: it gets neither the response nor a hint.
		resp := f.receive(first, k.Other.Cert)
		if resp.Replayed {
			t.Fatal("another TLS client got the stored response")
		}
		wantCode(t, resp, wsf.InappropriateCredentials)
	})
	if n, c := f.replay.Len(), f.calls.Load(); n != 1 || c != 1 {
		t.Fatalf("after the repeats: %d replay entries and %d service calls, want 1 and 1", n, c)
	}
}

// TestReplayAcrossReceivers: a second receiver (another node) sharing the
// replay cache but not the first response answers DuplicateMsg.
func TestReplayAcrossReceivers(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	body := f.request(hok(f, nil))
	f.wantOK(f.receive(body, k.WSC.Cert))
	g := newFixture(t, wsf.Strict, func(c *Config) { c.Replay = f.replay })
	wantCode(t, g.receive(body, k.WSC.Cert), wsf.DuplicateMsg)
	if g.calls.Load() != 0 {
		t.Fatal("the second node served a replayed message")
	}
}

// TestConcurrentCopiesServedOnce sends the same message from many
// goroutines: exactly one reaches the service.
func TestConcurrentCopiesServedOnce(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	body := f.request(hok(f, nil))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := f.receive(body, k.WSC.Cert)
			if resp.Status != 200 && resp.Fault.StatusCode() != wsf.DuplicateMsg {
				t.Errorf("copy answered %v", resp.Fault)
			}
		}()
	}
	wg.Wait()
	if c := f.calls.Load(); c != 1 {
		t.Fatalf("service called %d times", c)
	}
}

func TestReplayExpiresAfterWindow(t *testing.T) {
	c := NewMemoryReplayCache()
	ctx := context.Background()
	if err := c.CheckAndInsert(ctx, "s", "m", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckAndInsert(ctx, "s", "m", t0.Add(2*time.Minute), t0.Add(30*time.Second)); !isErr(err, ErrReplayed) {
		t.Fatalf("fail/within-window: %v", err)
	}
	if err := c.CheckAndInsert(ctx, "other-sender", "m", t0.Add(2*time.Minute), t0); err != nil {
		t.Fatalf("ok/other-sender-same-id: %v", err)
	}
	if err := c.CheckAndInsert(ctx, "s", "m", t0.Add(3*time.Minute), t0.Add(time.Minute)); err != nil {
		t.Fatalf("ok/after-expiry: %v", err)
	}
}

func TestMemoIsBounded(t *testing.T) {
	m := newMemo(4)
	for i := 0; i < 10; i++ {
		m.put("s", fmt.Sprint(i), memoEntry{response: []byte("r"), expiry: t0.Add(time.Duration(i+1) * time.Minute)}, t0)
	}
	if len(m.entries) > 4 {
		t.Fatalf("memo holds %d entries", len(m.entries))
	}
	if _, ok := m.lookup("s", "9", t0); !ok {
		t.Fatal("newest entry evicted")
	}
}

func wantCode(t *testing.T, resp *Response, code wsf.Code) {
	t.Helper()
	if resp.Fault == nil || resp.Fault.StatusCode() != code {
		t.Fatalf("want %s, got %d %v (cause %v)", code, resp.Status, resp.Fault, resp.Err)
	}
}
