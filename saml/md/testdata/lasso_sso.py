"""Load metadata written by Renkei's saml/md into Lasso and run one Web SSO.

Usage: lasso_sso.py DIR

DIR holds idp.xml, sp.xml (metadata from Renkei), idp.key, idp.crt, sp.key,
sp.crt. Lasso reads the IdP's SingleSignOnService and signing key and the
SP's AssertionConsumerService, signing and encryption keys from the
metadata alone: the SP signs an AuthnRequest (HTTP-Redirect), the IdP
verifies it with the SP's metadata key and answers with a signed assertion
encrypted for the SP's metadata key (HTTP-POST), and the SP decrypts and
verifies it with the IdP's metadata key. Prints one JSON object.
"""
import json
import os
import sys

import lasso

d = sys.argv[1]
p = lambda n: os.path.join(d, n)

idp = lasso.Server(p("idp.xml"), p("idp.key"), None, p("idp.crt"))
idp.addProvider(lasso.PROVIDER_ROLE_SP, p("sp.xml"))
sp = lasso.Server(p("sp.xml"), p("sp.key"), None, p("sp.crt"))
sp.setEncryptionPrivateKey(p("sp.key"))
sp.addProvider(lasso.PROVIDER_ROLE_IDP, p("idp.xml"))
idp_id, sp_id = idp.providerId, sp.providerId
out = {"idp": idp_id, "sp": sp_id, "providers_at_idp": sorted(idp.providers.keys()),
       "providers_at_sp": sorted(sp.providers.keys())}

login = lasso.Login(sp)
login.initAuthnRequest(idp_id, lasso.HTTP_METHOD_REDIRECT)
login.request.nameIdPolicy.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT
login.request.nameIdPolicy.allowCreate = True
login.request.protocolBinding = lasso.SAML2_METADATA_BINDING_POST
login.buildAuthnRequestMsg()
out["sso_url"] = login.msgUrl.split("?", 1)[0]
query = login.msgUrl.split("?", 1)[1]

prov = idp.providers[sp_id]
prov.setEncryptionMode(lasso.ENCRYPTION_MODE_ASSERTION)
ilogin = lasso.Login(idp)
try:
    ilogin.processAuthnRequestMsg(query)
    out["authn_request"] = "verified"
except lasso.Error as e:
    out["authn_request"] = "refused: %s" % e
    print(json.dumps(out))
    sys.exit(0)
ilogin.validateRequestMsg(True, True)
ilogin.buildAssertion(lasso.SAML_AUTHENTICATION_METHOD_PASSWORD,
                      "2026-05-02T10:00:00Z", None, None, None)
ilogin.buildAuthnResponseMsg()
out["acs_url"] = ilogin.msgUrl
out["encrypted"] = "EncryptedAssertion" in __import__("base64").b64decode(ilogin.msgBody).decode()

slogin = lasso.Login(sp)
try:
    slogin.processAuthnResponseMsg(ilogin.msgBody)
    slogin.acceptSso()
    out["sso"] = "accepted"
    out["name_id"] = slogin.nameIdentifier.content
except lasso.Error as e:
    out["sso"] = "refused: %s" % e
print(json.dumps(out))
