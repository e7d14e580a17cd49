package binding

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// sameFamily reports whether k can verify signatures of method m.
func sameFamily(m xmlsec.SignatureMethod, k crypto.PublicKey) bool {
	switch k.(type) {
	case *rsa.PublicKey:
		return m.Key == xmlsec.KeyRSA
	case *ecdsa.PublicKey:
		return m.Key == xmlsec.KeyECDSA
	}
	return false
}
