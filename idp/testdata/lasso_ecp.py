"""Python Lasso as the reception terminal: ECP client and SP (SAML Profiles §4.2).

Usage: lasso_ecp.py DIR

DIR holds idp.xml (the metadata the IdP served), sp.xml, sp.key, sp.crt.
The SP (Lasso) builds its PAOS AuthnRequest; Lasso's ECP reads it and
prints one JSON line {"url": IdP SOAP endpoint, "body": base64 envelope}
for the caller, who relays it to the IdP over the card-authenticated TLS
connection and writes the IdP's answer, base64, as one line on stdin.
Lasso's ECP then checks the ecp:Response header against the SP's
paos:Request and hands the Response to the SP, which accepts it or not;
the last JSON line says which.
"""
import base64
import json
import sys

import lasso
from lasso_common import sp_for

d = sys.argv[1]

sp, idp_id = sp_for(d, decrypts=True)

login = lasso.Login(sp)
login.initAuthnRequest(idp_id, lasso.HTTP_METHOD_PAOS)
login.request.nameIdPolicy.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT
login.request.nameIdPolicy.allowCreate = True
login.buildAuthnRequestMsg()

ecp = lasso.Ecp(sp)
ecp.processAuthnRequestMsg(login.msgBody)
print(json.dumps({"url": ecp.msgUrl, "body": base64.b64encode(ecp.msgBody.encode()).decode()}), flush=True)

answer = base64.b64decode(sys.stdin.readline()).decode()
out = {}
try:
    ecp.processResponseMsg(answer)
    out["acs"] = ecp.msgUrl
    login.processPaosResponseMsg(ecp.msgBody)
    login.acceptSso()
    out["sso"] = "accepted"
    out["name_id"] = login.nameIdentifier.content
except lasso.Error as e:
    out["sso"] = "refused: %s" % e
print(json.dumps(out), flush=True)
