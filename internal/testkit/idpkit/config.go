package idpkit

// Config is the JSON configuration file of cmd/renkei-idp as an operator
// writes it (its fileConfig; the binary refuses unknown fields, so the
// names here follow it exactly). The kit fills it and Options.Tweak may
// change it before it is written.
type Config struct {
	EntityID    string `json:"entityID"`
	BaseURL     string `json:"baseURL"`
	CardBaseURL string `json:"cardBaseURL"`
	Listen      string `json:"listen"`
	CardListen  string `json:"cardListen"`

	TLS          KeyPair `json:"tls"`
	CardTLS      KeyPair `json:"cardTLS"`
	Signing      KeyPair `json:"signing"`
	RolloverCert string  `json:"rolloverCert,omitempty"`
	Encryption   KeyPair `json:"encryption"`

	CardCA  string `json:"cardCA"`
	CardCRL string `json:"cardCRL"`
	SoftCA  string `json:"softCA,omitempty"`
	SoftCRL string `json:"softCRL,omitempty"`

	Metadata  []MetadataSource `json:"metadata"`
	Store     string           `json:"store"`
	Discovery *DiscoveryRef    `json:"discovery,omitempty"`

	WantAuthnRequestsSigned bool                `json:"wantAuthnRequestsSigned"`
	Lifetimes               Lifetimes           `json:"lifetimes"`
	CookieDomain            string              `json:"cookieDomain,omitempty"`
	Quirks                  map[string]SPQuirks `json:"quirks,omitempty"`
	IdPInitiated            []string            `json:"idpInitiated,omitempty"`
}

// KeyPair names a PEM certificate file and its PKCS#8 PEM key file.
type KeyPair struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// MetadataSource is a metadata file or URL, signed by an operator or
// placed unsigned.
type MetadataSource struct {
	Location     string `json:"location"`
	OperatorCert string `json:"operatorCert,omitempty"`
	Unsigned     bool   `json:"unsigned,omitempty"`
}

// DiscoveryRef names the Discovery Service the bootstrap points to.
type DiscoveryRef struct {
	EntityID       string `json:"entityID"`
	Address        string `json:"address"`
	EncryptionCert string `json:"encryptionCert"`
}

// Lifetimes are Go durations; "" takes the binary's default.
type Lifetimes struct {
	Assertion string `json:"assertion,omitempty"`
	Session   string `json:"session,omitempty"`
	Bootstrap string `json:"bootstrap,omitempty"`
	ECP       string `json:"ecp,omitempty"`
}

// SPQuirks are the per-SP relaxations the binary knows.
type SPQuirks struct {
	AllowSHA1    bool `json:"allowSHA1"`
	SignResponse bool `json:"signResponse"`
}
