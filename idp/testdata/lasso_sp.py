"""Python Lasso (Debian's python3-lasso) as the SP of a Web SSO with Renkei's IdP.

Usage: lasso_sp.py request DIR   prints {"url": ..., "id": ...}: a signed
                                 HTTP-Redirect AuthnRequest to the IdP
       lasso_sp.py response DIR  reads DIR/response.b64 (the SAMLResponse
                                 form value) and prints {"sso": ...}

DIR holds idp.xml (the metadata the IdP served), sp.xml, sp.key and sp.crt.
Lasso reads every key and endpoint from the metadata; the SP signs with
RSA-SHA256 and decrypts with sp.key when the assertion is encrypted.
"""
import json
import os
import sys

import lasso
from lasso_common import sp_for

mode, d = sys.argv[1], sys.argv[2]
p = lambda n: os.path.join(d, n)

sp, idp_id = sp_for(d, decrypts=True)

if mode == "request":
    login = lasso.Login(sp)
    login.initAuthnRequest(idp_id, lasso.HTTP_METHOD_REDIRECT)
    login.request.nameIdPolicy.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT
    login.request.nameIdPolicy.allowCreate = True
    login.request.protocolBinding = lasso.SAML2_METADATA_BINDING_POST
    login.buildAuthnRequestMsg()
    print(json.dumps({"url": login.msgUrl, "id": login.request.id}))
    sys.exit(0)

out = {}
login = lasso.Login(sp)
try:
    login.processAuthnResponseMsg(open(p("response.b64")).read())
    login.acceptSso()
    out["sso"] = "accepted"
    out["name_id"] = login.nameIdentifier.content
    out["format"] = login.nameIdentifier.format
except lasso.Error as e:
    out["sso"] = "refused: %s" % e
print(json.dumps(out))
