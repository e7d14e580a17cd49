package binding

import (
	"crypto/sha1" //nolint:gosec // SAML Bindings §3.6.4 defines SourceID as SHA-1
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net/url"
	"strings"
)

// ParamArtifact is the parameter of the HTTP-Artifact binding (SAML
// Bindings §3.6.3).
const ParamArtifact = "SAMLart"

// ArtifactType0004 is the only artifact type SAML 2.0 defines (SAML
// Bindings §3.6.4).
const ArtifactType0004 = 0x0004

// artifactLen is the length of a type 0x0004 artifact before base64:
// TypeCode (2), EndpointIndex (2), SourceID (20), MessageHandle (20).
const artifactLen = 44

// Artifact is a type 0x0004 artifact (SAML Bindings §3.6.4): the index of
// the issuer's ArtifactResolutionService, the SHA-1 of the issuer's
// entityID, and a random handle of the message it stands for.
type Artifact struct {
	EndpointIndex uint16
	SourceID      [20]byte
	MessageHandle [20]byte
}

// SourceID returns the SourceID of entityID: the SHA-1 of its exact
// bytes (SAML Bindings §3.6.4).
func SourceID(entityID string) [20]byte {
	return sha1.Sum([]byte(entityID)) //nolint:gosec // defined by the binding
}

// NewArtifact returns an artifact of the issuer entityID for its
// ArtifactResolutionService at index, with a MessageHandle of 20 bytes
// read from rnd, which must be a cryptographically strong source ("the
// MessageHandle ... MUST be infeasible to guess", SAML Bindings §3.6.4).
func NewArtifact(entityID string, index uint16, rnd io.Reader) (*Artifact, error) {
	a := &Artifact{EndpointIndex: index, SourceID: SourceID(entityID)}
	if _, err := io.ReadFull(rnd, a.MessageHandle[:]); err != nil {
		return nil, err
	}
	return a, nil
}

// String returns the artifact as sent: base64 of its 44 bytes.
func (a *Artifact) String() string {
	b := make([]byte, artifactLen)
	binary.BigEndian.PutUint16(b[0:2], ArtifactType0004)
	binary.BigEndian.PutUint16(b[2:4], a.EndpointIndex)
	copy(b[4:24], a.SourceID[:])
	copy(b[24:44], a.MessageHandle[:])
	return base64.StdEncoding.EncodeToString(b)
}

// Handle returns the MessageHandle as lowercase hex, a key for a store.
func (a *Artifact) Handle() string { return hex.EncodeToString(a.MessageHandle[:]) }

// IssuedBy reports whether the artifact's SourceID is that of entityID.
func (a *Artifact) IssuedBy(entityID string) bool {
	s := SourceID(entityID)
	return subtle.ConstantTimeCompare(s[:], a.SourceID[:]) == 1
}

// ParseArtifact decodes a SAMLart value: base64 of exactly 44 bytes whose
// TypeCode is 0x0004. Anything else is a KindEncoding or KindMessage
// error.
func ParseArtifact(s string) (*Artifact, error) {
	s = strings.TrimSpace(s)
	if len(s) > 2*artifactLen {
		return nil, errorf(KindEncoding, "artifact of %d characters", len(s))
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errorf(KindEncoding, "artifact is not base64: %v", err)
	}
	if len(b) != artifactLen {
		return nil, errorf(KindEncoding, "artifact of %d bytes, want %d", len(b), artifactLen)
	}
	if t := binary.BigEndian.Uint16(b[0:2]); t != ArtifactType0004 {
		return nil, errorf(KindMessage, "artifact TypeCode 0x%04x, only 0x0004 is defined", t)
	}
	a := &Artifact{EndpointIndex: binary.BigEndian.Uint16(b[2:4])}
	copy(a.SourceID[:], b[4:24])
	copy(a.MessageHandle[:], b[24:44])
	return a, nil
}

// ArtifactURL returns the URL that sends art to location by redirect
// (SAML Bindings §3.6.3): SAMLart and, when not empty, RelayState, added
// to any query location already has.
func ArtifactURL(location string, art *Artifact, relayState string) (string, error) {
	if err := checkRelayState(relayState); err != nil {
		return "", err
	}
	u, err := url.Parse(location)
	if err != nil {
		return "", errorf(KindParameter, "location %q: %v", location, err)
	}
	q := ParamArtifact + "=" + url.QueryEscape(art.String())
	if relayState != "" {
		q += "&" + ParamRelayState + "=" + url.QueryEscape(relayState)
	}
	if u.RawQuery != "" {
		q = u.RawQuery + "&" + q
	}
	u.RawQuery = q
	return u.String(), nil
}
