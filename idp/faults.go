package idp

import "github.com/renkei-idwsf/renkei/internal/faults"

// Deliberate faults, for the conformance suite's broken builds only: a
// binary built with the renkei_faults tag switches on those named in the
// RENKEI_IDP_FAULTS environment variable (comma-separated), a test that
// runs the engine in process those SetFaults names, and each makes
// the IdP skip one check a conforming IdP must make, so that the suite can
// show it catches that IdP. In every other build faultOn is a constant
// false (internal/faults) and the checks cannot be switched off.
const (
	FaultSkipSignature = "skip-signature" // accept an AuthnRequest or ManageNameIDRequest whose signature is bad or missing
	FaultAcceptStale   = "accept-stale"   // accept an AuthnRequest whose IssueInstant is stale
	FaultIgnoreACS     = "ignore-acs"     // send the Response to an ACS URL not in metadata
	FaultSignSHA1      = "sign-sha1"      // sign with rsa-sha1 and sha1 digests
	FaultAcceptReplay  = "accept-replay"  // accept a replayed AuthnRequest or ManageNameIDRequest ID
	// FaultReleaseUnlisted releases every attribute to an SP the release
	// policy does not list.
	FaultReleaseUnlisted = "release-unlisted"
	// FaultQueryForeignNameID answers an AttributeQuery about a NameID the
	// IdP issued to another SP, looked up under its SPNameQualifier.
	FaultQueryForeignNameID = "query-foreign-nameid"
	// FaultMappingPlain returns a NameIDMapping result as a plain NameID
	// instead of an EncryptedID for the provider it names.
	FaultMappingPlain      = "mapping-plain"
	FaultArtifactReuse     = "artifact-reuse"     // resolve an artifact more than once
	FaultArtifactAnySP     = "artifact-any-sp"    // resolve an artifact for any authenticated SP, not only its recipient
	FaultArtifactBare      = "artifact-unsigned"  // send the ArtifactResponse unsigned
	FaultUnsignedLogout    = "unsigned-logout"    // send the IdP's own LogoutRequests without an XML signature (SOAP, HTTP-POST)
	FaultUnsignedTerminate = "unsigned-terminate" // send an IdP-initiated ManageNameIDRequest Terminate unsigned
)

// Faults lists every fault name.
var Faults = []string{FaultSkipSignature, FaultAcceptStale, FaultIgnoreACS, FaultSignSHA1, FaultAcceptReplay,
	FaultArtifactReuse, FaultArtifactAnySP, FaultArtifactBare, FaultReleaseUnlisted, FaultQueryForeignNameID, FaultMappingPlain,
	FaultUnsignedLogout, FaultUnsignedTerminate}

// FaultsEnabled reports a deliberately broken build.
const FaultsEnabled = faults.Enabled

var faultSet = faults.New("idp", Faults...).FromEnv("RENKEI_IDP_FAULTS")

// faultOn reports whether the named fault is switched on.
func faultOn(name string) bool { return faultSet.On(name) }
