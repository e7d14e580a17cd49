package conformance

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// newID returns a fresh SAML ID: "_" and 128 random bits (SAML Core §1.3.4).
func (e *Env) newID() string {
	id, err := saml.NewID(e.Rand)
	if err != nil {
		panic(fmt.Sprintf("conformance: randomness: %v", err)) // runOne turns it into an error verdict
	}
	return id
}

// ssoEndpoint returns the IdP's SingleSignOnService location for binding.
func (e *Env) ssoEndpoint(bind string) (string, error) {
	if e.Target == nil || e.Target.IDP == nil {
		return "", fmt.Errorf("the target's metadata has no SAML 2.0 IDPSSODescriptor")
	}
	ep, err := e.Target.IDP.SingleSignOnService(bind)
	if err != nil {
		return "", fmt.Errorf("no SingleSignOnService with binding %s: %w", bind, err)
	}
	return ep.Location, nil
}

// authnRequest returns the conforming AuthnRequest every case starts from:
// Issuer our SP, ACS URL and HTTP-POST binding from our metadata, a
// NameIDPolicy for a format the IdP offers.
func (e *Env) authnRequest(dest string) *samlp.AuthnRequest {
	return &samlp.AuthnRequest{
		RequestHeader: samlp.RequestHeader{ID: e.newID(), IssueInstant: e.now().UTC(), Destination: dest,
			Issuer: &saml.Issuer{Value: e.SP.EntityID}},
		NameIDPolicy:                &samlp.NameIDPolicy{Format: e.requestedFormat(), AllowCreate: true},
		AssertionConsumerServiceURL: e.SP.ACS,
		ProtocolBinding:             md.BindingHTTPPOST,
	}
}

// requestedFormat picks the NameID format to ask for: transient when the IdP
// lists it or lists none, else persistent when listed, else its first.
func (e *Env) requestedFormat() string {
	fs := e.Target.IDP.NameIDFormats
	for _, want := range []string{FormatTransient, FormatPersistent} {
		for _, f := range fs {
			if f == want {
				return want
			}
		}
	}
	if len(fs) == 0 {
		return FormatTransient
	}
	return fs[0]
}

// redirectOpts change how a request goes over HTTP-Redirect.
type redirectOpts struct {
	unsigned bool
	sigAlg   string // "" for the signer's default (rsa-sha256)
	tamper   bool   // flip a byte of the signature
	version  string // overrides Version="2.0"
	rawQuery string // send this query instead of encoding the request
	relay    string // the RelayState to send
}

// exchange is one SSO round trip as the browser saw it.
type exchange struct {
	Request  *samlp.AuthnRequest
	Landing  *Landing
	Response *etree.Element // the Response element from the form, unverified
	Header   *samlp.UnverifiedResponse
}

// sendRedirect sends req over HTTP-Redirect with a fresh browser and returns
// where it landed.
func (e *Env) sendRedirect(ctx context.Context, req *samlp.AuthnRequest, o redirectOpts) (*exchange, error) {
	b, err := e.Browser()
	if err != nil {
		return nil, err
	}
	return e.sendRedirectWith(ctx, b, req, o)
}

func (e *Env) sendRedirectWith(ctx context.Context, b *Browser, req *samlp.AuthnRequest, o redirectOpts) (*exchange, error) {
	dest, err := e.ssoEndpoint(md.BindingHTTPRedirect)
	if err != nil {
		return nil, err
	}
	q := o.rawQuery
	if q == "" {
		if q, err = e.encodeRedirect(req, o); err != nil {
			return nil, err
		}
	}
	sep := "?"
	if strings.Contains(dest, "?") {
		sep = "&"
	}
	land, err := b.Get(ctx, dest+sep+q, "AuthnRequest (HTTP-Redirect)")
	if err != nil {
		return nil, fmt.Errorf("sending the AuthnRequest: %w", err)
	}
	return readExchange(req, land)
}

func (e *Env) encodeRedirect(req *samlp.AuthnRequest, o redirectOpts) (string, error) {
	el := req.Element()
	if o.version != "" {
		el.CreateAttr("Version", o.version)
	}
	var s *binding.RedirectSigner
	if !o.unsigned {
		s = &binding.RedirectSigner{Key: e.SP.Key, SignatureMethod: o.sigAlg, Policy: xmlsec.Policy{AllowSHA1: o.sigAlg == xmlsec.RSASHA1}}
	}
	q, err := binding.EncodeRedirect(el, o.relay, s)
	if err != nil || !o.tamper {
		return q, err
	}
	return tamperSignature(q), nil
}

// tamperSignature changes the first base64 character of the Signature
// parameter, keeping it valid base64.
func tamperSignature(q string) string {
	i := strings.Index(q, "Signature=")
	if i < 0 || i+len("Signature=") >= len(q) {
		return q
	}
	j := i + len("Signature=")
	c := byte('A')
	if q[j] == 'A' {
		c = 'B'
	}
	return q[:j] + string(c) + q[j+1:]
}

// readExchange decodes the SAMLResponse of the form the browser stopped at,
// if any. A form that posts something else is left for the case to judge.
func readExchange(req *samlp.AuthnRequest, land *Landing) (*exchange, error) {
	ex := &exchange{Request: req, Landing: land}
	if land.Form == nil || land.Form.Fields.Get("SAMLResponse") == "" {
		return ex, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(land.Form.Fields.Get("SAMLResponse")), ""))
	if err != nil {
		return ex, errTarget("SAMLResponse is not base64 (SAML Bindings §3.5.4): %v", err)
	}
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		return ex, errTarget("SAMLResponse is not acceptable XML: %v", err)
	}
	h, err := samlp.PeekResponse(doc.Root())
	if err != nil {
		return ex, errTarget("SAMLResponse is not a samlp:Response: %v", err)
	}
	ex.Response, ex.Header = doc.Root(), h
	return ex, nil
}

// targetError is a deviation of the target found while reading an
// exchange: a case turns it into a failure, not an error of the suite.
type targetError struct {
	msg   string
	level Level // "" is the case's own level; weaker for a SHOULD or a practice
}

func (t *targetError) Error() string { return t.msg }

func errTarget(format string, args ...any) error {
	return &targetError{msg: fmt.Sprintf(format, args...)}
}

// runError is an exchange that could not reach the point a case tests
// for a reason of the run (no login, a refused password): never a pass,
// never a deviation of the target.
type runError struct{ msg string }

func (r *runError) Error() string { return r.msg }

// isRunError reports whether err is, or wraps, a runError.
func isRunError(err error) bool {
	var re *runError
	return errors.As(err, &re)
}

// oracleError is the run error of an oracle (xmlsec1) that could not
// judge a signature: missing or failing to run, it blames no target.
func oracleError(err error) error {
	return &runError{msg: "xmlsec1 could not check the signature: " + err.Error()}
}

// outcomeOf turns an exchange error into the right verdict.
func outcomeOf(err error) Outcome {
	var te *targetError
	if errors.As(err, &te) && !isRunError(err) {
		if te.level != "" {
			return failedAt(te.level, "%s", te.msg)
		}
		return failed("%s", te.msg)
	}
	return broken("%v", err)
}

// verifyWeak runs verify again with SHA-1 allowed, after the strict
// policy refused an algorithm: SAML 2.0 allows SHA-1 signatures, so an IdP
// that signs with it does not deviate from a MUST; refusing SHA-1 is a
// recommended practice (NIST SP 800-131A). When it verifies, the case's
// pass becomes a practice warning (Runner.runOne reads e.weak).
func (e *Env) verifyWeak(verify func(v *dsig.Verifier) error) error {
	v := e.idpVerifier()
	v.Policy.AllowSHA1 = true
	if err := verify(v); err != nil {
		return err
	}
	e.warn(LevelPractice, "the IdP signs with SHA-1 (rsa-sha1 or a sha1 digest): SAML 2.0 allows it, NIST SP 800-131A disallows SHA-1 signatures")
	return nil
}

// warn records a SHOULD or a practice (l) the case's exchange broke on
// the way; the case's pass becomes a warning at the strongest level
// recorded (Runner.runOne reads e.weak).
func (e *Env) warn(l Level, msg string) {
	if l.rank() >= LevelMust.rank() {
		l = LevelShould
	}
	switch {
	case e.weak == "":
		e.weak, e.weakLvl = msg, l
		return
	case strings.Contains(e.weak, msg):
	default:
		e.weak += "; " + msg
	}
	if e.weakLvl == "" || l.rank() > e.weakLvl.rank() {
		e.weakLvl = l
	}
}

// adoptWarnings takes the warnings of sub, an Env copied from e to play
// another SP of the same case.
func (e *Env) adoptWarnings(sub *Env) {
	if sub.weak != "" {
		e.warn(sub.weakLvl, sub.weak)
	}
}

// verifyIdP runs verify with the strict verifier of the IdP's metadata
// keys and, when the policy refuses an algorithm (SHA-1), again through
// verifyWeak: every signature of the IdP, front or back channel, is held
// to the same levels.
func (e *Env) verifyIdP(verify func(v *dsig.Verifier) error) error {
	err := verify(e.idpVerifier())
	if errors.Is(err, xmlsec.ErrAlgorithm) {
		err = e.verifyWeak(verify)
	}
	return err
}

// idpVerifier returns a verifier for the IdP's metadata signing keys with
// the strict policy (no SHA-1).
func (e *Env) idpVerifier() *dsig.Verifier {
	return &dsig.Verifier{Trust: e.Target.IDP.TrustSet()}
}

// decryptAssertion replaces an EncryptedAssertion of r by the assertion it
// holds, decrypted with the suite SP's key (SAML Core §2.3.4; XML
// Encryption: RSA-OAEP key transport, AES-GCM or AES-CBC), and records
// the plaintext. The suite accepts CBC, which a production SP should not
// (the padding-oracle class): it tests IdPs that send only CBC.
func (e *Env) decryptAssertion(r *samlp.Response) error {
	el := r.Assertions[0]
	if el.Tag != "EncryptedAssertion" || el.NamespaceURI() != saml.NS {
		return nil
	}
	d := e.SP.Decrypter()
	if d == nil {
		return &runError{msg: "the IdP encrypted the assertion, and the suite SP's key cannot decrypt (not RSA)"}
	}
	plain, err := d.Decrypt(el)
	if err != nil {
		return decryptFailure(el, "the key our SP metadata lists for encryption", err)
	}
	r.Assertions[0] = plain
	if s, err := xmlsec.Serialize(plain); err == nil {
		e.Record(Message{Direction: "received", Label: "EncryptedAssertion, decrypted (" + dataAlgorithm(el) + ")", Body: string(s)})
	}
	return nil
}

// decryptFailure judges an EncryptedAssertion el that does not decrypt
// with key. An algorithm the suite does not take (RSA-1_5 key transport,
// 3DES: XML Encryption and the SAML conformance document list them) or a
// ciphertext over the suite's size bound is no deviation from a SAML MUST
// but a practice, named; anything else (a key mismatch) is the target's
// failure.
func decryptFailure(el *etree.Element, key string, err error) error {
	if errors.Is(err, xmlsec.ErrAlgorithm) || errors.Is(err, xmlsec.ErrTooLarge) {
		return &targetError{level: LevelPractice, msg: fmt.Sprintf("the EncryptedAssertion uses key transport %s and data encryption %s, "+
			"which the suite does not take (XML Encryption lists them; RSA-1_5 and 3DES are refused as a practice, and ciphertexts are bounded): %v",
			keyTransport(el), dataAlgorithm(el), err)}
	}
	return errTarget("the EncryptedAssertion does not decrypt with %s (SAML Core §2.3.4): %v; "+
		"if the IdP holds an older registration of the suite's SP, re-register its metadata", key, err)
}

// keyTransport names the key transport algorithm of an EncryptedAssertion,
// for a message.
func keyTransport(el *etree.Element) string {
	if m := el.FindElement(".//EncryptedKey/EncryptionMethod"); m != nil {
		return m.SelectAttrValue("Algorithm", "")
	}
	return "unknown algorithm"
}

// dataAlgorithm names the block cipher of an EncryptedAssertion, for the
// message log.
func dataAlgorithm(el *etree.Element) string {
	if m := el.FindElement(".//EncryptedData/EncryptionMethod"); m != nil {
		return m.SelectAttrValue("Algorithm", "")
	}
	return "unknown algorithm"
}

// status returns the top and second-level status codes of the response.
func (x *exchange) status() (top, second string, err error) {
	r, err := samlp.DecodeResponse(x.Response)
	if err != nil {
		return "", "", errTarget("Response does not decode (SAML Core §3.3.3): %v", err)
	}
	return r.Status.Code.Value, r.Status.Second(), nil
}

// success returns the verified assertion of a Success response: the
// Response signature when there is one, and the assertion's own signature
// (SAML Profiles §4.1.3.5: the assertion MUST be signed over HTTP-POST unless
// the Response is, and Renkei's SP wants it signed, WantAssertionsSigned).
func (e *Env) success(x *exchange) (*samlp.Response, *saml.Assertion, error) {
	if x.Response == nil {
		return nil, nil, &runError{msg: fmt.Sprintf("no SAMLResponse came back to a conforming request (HTTP %d at %s): "+
			"the case cannot reach what it tests; does the target know the suite's SP (-print-sp-metadata), and did the login complete?",
			x.Landing.Status, x.Landing.URL)}
	}
	var r *samlp.Response
	var err error
	if x.Header.Signed {
		r, _, err = samlp.VerifyResponse(x.Response, e.idpVerifier())
		if errors.Is(err, xmlsec.ErrAlgorithm) {
			err = e.verifyWeak(func(v *dsig.Verifier) error {
				var werr error
				r, _, werr = samlp.VerifyResponse(x.Response, v)
				return werr
			})
		}
	} else {
		r, err = samlp.DecodeResponse(x.Response)
	}
	if err != nil {
		return nil, nil, errTarget("Response signature or shape: %v", err)
	}
	if !r.Status.Success() {
		return r, nil, errTarget("status %s/%s, want Success", r.Status.Code.Value, r.Status.Second())
	}
	if len(r.Assertions) != 1 {
		return r, nil, errTarget("%d assertions, want exactly one", len(r.Assertions))
	}
	if err := e.decryptAssertion(r); err != nil {
		return r, nil, err
	}
	a, _, err := saml.VerifyAssertion(r.Assertions[0], e.idpVerifier())
	if errors.Is(err, xmlsec.ErrAlgorithm) {
		err = e.verifyWeak(func(v *dsig.Verifier) error {
			var werr error
			a, _, werr = saml.VerifyAssertion(r.Assertions[0], v)
			return werr
		})
	}
	if err != nil {
		return r, nil, errTarget("assertion does not verify with the IdP's metadata keys: %v", err)
	}
	return r, a, nil
}

// open returns the assertion el holds: el itself, or decrypted when it is
// a saml:EncryptedAssertion for an SP that lists an encryption key.
func (s *SP) open(el *etree.Element) (*etree.Element, error) {
	if el.Tag != "EncryptedAssertion" {
		return el, nil
	}
	d := s.Decrypter()
	if d == nil {
		return nil, &runError{msg: "the IdP encrypted the assertion, and the suite SP's key cannot decrypt (not RSA)"}
	}
	out, err := d.Decrypt(el)
	if err != nil {
		return nil, decryptFailure(el, s.EntityID+"'s key", err)
	}
	return out, nil
}
