package wsf

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"io"
	"strings"
)

// A request ID names one request a role serves (a citizen's page at the
// portal) in the logs of every role that request reaches. It is logged,
// never trusted: no role decides anything from it. Each recipient sees its
// own (RecipientRequestID): one page's calls reach several institutions,
// and an ID they all saw would let them link the pseudonyms ID-WSF gives
// the citizen at each of them. The caller logs which ID each recipient
// got.

// NewRequestID returns a fresh request ID: 12 random bytes in hex.
func NewRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// maxRequestID bounds a request ID carried in a MessageID.
const maxRequestID = 64

// messageIDPrefix starts a MessageID that carries a request ID.
const messageIDPrefix = "urn:renkei:msg:"

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request ID id, for the MessageIDs
// of the SOAP calls made under ctx (wsf/client). It serves logging only.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewMessageIDFor returns a fresh MessageID for a call made while serving
// the request requestID: "urn:renkei:msg:" + requestID + ":" + a fresh
// RFC 9562 version 4 UUID read from rnd. The UUID keeps the MessageID
// unique (WS-Addressing §3.2: an absolute IRI unique to the message, as
// the replay cache needs), several calls of one request each get their
// own, and RequestIDOf recovers the request ID from the MessageID alone,
// so that the DS and every WSP can log it beside the caller's without a
// header of our own. A requestID that is not 1 to 64 letters, digits and
// '-' (or "") gives a plain "urn:uuid:" MessageID (NewMessageID).
func NewMessageIDFor(rnd io.Reader, requestID string) (string, error) {
	uuid, err := NewMessageID(rnd)
	if err != nil || !validRequestID(requestID) {
		return uuid, err
	}
	return messageIDPrefix + requestID + ":" + strings.TrimPrefix(uuid, "urn:uuid:"), nil
}

// RequestIDOf returns the request ID a MessageID made by NewMessageIDFor
// carries, or "". The MessageID comes from a peer: the result is for
// logs only.
func RequestIDOf(messageID string) string {
	rest, ok := strings.CutPrefix(messageID, messageIDPrefix)
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, ":")
	if !ok || !validRequestID(id) {
		return ""
	}
	return id
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// recipientIDLen is the length of a RecipientRequestID: 20 base32
// characters, 100 bits of the HMAC.
const recipientIDLen = 20

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// RecipientRequestID returns the request ID the recipient of a call made
// while serving requestID sees: HMAC-SHA256 under key, the caller's own
// secret, of requestID and the recipient's providerID, as 20 lowercase
// base32 characters. Two recipients of one request get IDs that cannot be
// matched without key; the caller, which logs both, can. An invalid
// requestID (see NewMessageIDFor) gives "".
func RecipientRequestID(key []byte, requestID, recipient string) string {
	if !validRequestID(requestID) {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(requestID))
	m.Write([]byte{0})
	m.Write([]byte(recipient))
	return lowerBase32.EncodeToString(m.Sum(nil))[:recipientIDLen]
}
