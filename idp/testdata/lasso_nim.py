"""Python Lasso (Debian's python3-lasso) as an SP managing its name identifier at Renkei's IdP.

Usage: lasso_nim.py request DIR   prints {"url": ...}: a signed HTTP-Redirect
                                  AuthnRequest for a persistent NameID
       lasso_nim.py login DIR     reads DIR/response.b64, accepts the SSO and
                                  keeps Lasso's identity and session in DIR
       lasso_nim.py nim DIR NEWID prints {"url", "body"}: a ManageNameIDRequest
                                  over SOAP (NEWID "-" is Terminate), then reads
                                  the IdP's SOAP answer (base64) from stdin and
                                  prints {"nim": "accepted"} or the refusal

DIR holds idp.xml (the metadata the IdP served), sp.xml, sp.key and sp.crt.
"""
import base64
import json
import os
import sys

import lasso
from lasso_common import sp_for

mode, d = sys.argv[1], sys.argv[2]
p = lambda n: os.path.join(d, n)

sp, idp_id = sp_for(d)

if mode == "request":
    login = lasso.Login(sp)
    login.initAuthnRequest(idp_id, lasso.HTTP_METHOD_REDIRECT)
    login.request.nameIdPolicy.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT
    login.request.nameIdPolicy.allowCreate = True
    login.request.protocolBinding = lasso.SAML2_METADATA_BINDING_POST
    login.buildAuthnRequestMsg()
    print(json.dumps({"url": login.msgUrl}))
    sys.exit(0)

if mode == "login":
    login = lasso.Login(sp)
    login.processAuthnResponseMsg(open(p("response.b64")).read())
    login.acceptSso()
    open(p("identity.xml"), "w").write(login.identity.dump())
    open(p("session.xml"), "w").write(login.session.dump())
    print(json.dumps({"name_id": login.nameIdentifier.content}))
    sys.exit(0)

nim = lasso.NameIdManagement(sp)
nim.setIdentityFromDump(open(p("identity.xml")).read())
nim.setSessionFromDump(open(p("session.xml")).read())
new_id = sys.argv[3]
nim.initRequest(idp_id, None if new_id == "-" else new_id, lasso.HTTP_METHOD_SOAP)
nim.buildRequestMsg()
print(json.dumps({"url": nim.msgUrl, "body": base64.b64encode(nim.msgBody.encode()).decode()}), flush=True)
answer = base64.b64decode(sys.stdin.readline()).decode()
out = {}
try:
    nim.processResponseMsg(answer)
    out["nim"] = "accepted"
except lasso.Error as e:
    out["nim"] = "refused: %s" % e
print(json.dumps(out))
