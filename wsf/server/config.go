package server

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Validator is an XSD validator (xmlsec/xsd.Schema satisfies it).
type Validator = wsf.Validator

// Config configures a Receiver. Time, randomness and keys are fields: nil
// Now means time.Now, nil Rand crypto/rand.
type Config struct {
	// EntityID is this provider's entityID: the audience its tokens must
	// name and the sb:Sender of its responses.
	EntityID string
	// Endpoints are this provider's own addresses; a wsa:To naming another
	// is refused (IDWSF2 §2.2). Empty accepts any wsa:To.
	Endpoints []string
	// Key and Certificate sign responses (IDWSF2 §2.3, "ZXID signs
	// responses by default"); Certificate goes in a BinarySecurityToken.
	Key         crypto.Signer
	Certificate *x509.Certificate
	// Decrypter holds this provider's encryption key, for EncryptedID
	// subjects and EncryptedAssertion tokens.
	Decrypter *xmlenc.Decrypter
	// Directory is the metadata aggregate: senders and token issuers.
	Directory wsf.Directory
	// Mechanisms this endpoint accepts (IDWSF2 §3.4 item 1); nil means
	// ClientTLS:SAMLV2 only.
	Mechanisms []wsf.Mechanism
	// Replay remembers (sender, MessageID) pairs; required.
	Replay ReplayCache
	// Sessions, when set, are the IdP sessions single logout ended here:
	// a token of one is refused as an expired token is.
	Sessions secmech.EndedSessions
	// Schema checks every request not exempted by its sender's profile;
	// required (xsd.Default() in production).
	Schema Validator
	// SkipOutgoingValidation turns off checking every reply and fault
	// against Schema before it is sent. Checked, a message the schemas
	// refuse is replaced by an S:Server fault; the check costs about a
	// seventh of building and signing the message
	// (BenchmarkValidateOutgoing), so it is on unless this is set.
	SkipOutgoingValidation bool
	// Services by wsa:Action.
	Services map[string]Service
	// Simulate reports that the services honour ProcessingContext Simulate.
	Simulate bool
	// Limits bound the parse; zero fields take xmlsec.DefaultLimits.
	Limits xmlsec.Limits
	// Skew is the clock skew allowed either way; 0 means DefaultSkew.
	Skew time.Duration
	// MaxAge is how old a Timestamp may be; 0 means DefaultMaxAge.
	MaxAge time.Duration
	// MemoSize bounds the first responses kept for retransmissions; 0
	// means DefaultMemoSize, a negative size keeps none (a retransmission
	// then gets DuplicateMsg, as one reaching another node does).
	MemoSize int
	// Meter, when set, counts the requests verified and the responses
	// signed (metrics only).
	Meter wsf.Meter
	// Verified, when set, is told of each request whose message
	// verification (IDWSF2 §2.3 step 5) passed: its verified sender and
	// MessageID, for the role's log only.
	Verified func(ctx context.Context, sender, messageID string)
	Now      func() time.Time
	Rand     io.Reader
}

// Defaults of the zero Config fields (ZXID uses a few minutes of slop each
// way, IDWSF2 §2.3 step 5).
const (
	DefaultSkew     = 3 * time.Minute
	DefaultMaxAge   = 5 * time.Minute
	DefaultMemoSize = 4096
)

// Validate reports every missing or inconsistent field at once.
func (c *Config) Validate() error {
	var errs []error
	if c.EntityID == "" {
		errs = append(errs, errors.New("EntityID is required"))
	}
	if c.Key == nil || c.Certificate == nil {
		errs = append(errs, errors.New("Key and Certificate are required: responses are signed"))
	}
	if c.Directory == nil {
		errs = append(errs, errors.New("Directory is required"))
	}
	if c.Replay == nil {
		errs = append(errs, errors.New("Replay is required"))
	}
	if c.Schema == nil {
		errs = append(errs, errors.New("Schema is required"))
	}
	for _, m := range c.Mechanisms {
		if _, ok := m.Info(); !ok {
			errs = append(errs, fmt.Errorf("mechanism %q is not implemented", m))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) skew() time.Duration   { return orDuration(c.Skew, DefaultSkew) }
func (c *Config) maxAge() time.Duration { return orDuration(c.MaxAge, DefaultMaxAge) }

func (c *Config) mechanisms() []wsf.Mechanism {
	if len(c.Mechanisms) == 0 {
		return []wsf.Mechanism{wsf.ClientTLSSAMLV2}
	}
	return c.Mechanisms
}

// replayWindow is how long a MessageID is remembered: as long as its
// Timestamp could still be accepted.
func (c *Config) replayWindow() time.Duration { return c.maxAge() + 2*c.skew() }

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
