package wsf

// Meter is told of the cryptographic work a role does, for its metrics
// only: nothing is ever decided from it. A nil Meter is told nothing
// (CountSignature, CountMinted); the role's assembly passes one that
// counts into its Prometheus registry.
type Meter interface {
	// Signature counts one signature made (op SigSign) or one signed
	// message checked (op SigVerify); err is the failure, nil on success.
	Signature(op string, err error)
	// Minted counts one token minted, by kind (TokenBootstrap, TokenDS).
	Minted(kind string)
}

// Operations and token kinds a Meter is told of.
const (
	SigSign   = "sign"
	SigVerify = "verify"

	TokenBootstrap = "bootstrap" // the IdP's DS token in the discovery bootstrap
	TokenDS        = "ds"        // a Discovery Service's token for a WSP
)

// CountSignature tells m of a signature, when m is set.
func CountSignature(m Meter, op string, err error) {
	if m != nil {
		m.Signature(op, err)
	}
}

// CountMinted tells m of a token minted, when m is set.
func CountMinted(m Meter, kind string) {
	if m != nil {
		m.Minted(kind)
	}
}
