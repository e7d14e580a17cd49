"""Python Lasso (Debian's python3-lasso) as an SP asking Renkei's IdP an AttributeQuery.

Usage: lasso_aq.py DIR [NAME]  after lasso_nim.py request/login in DIR:
                               prints {"url", "body"}: a signed AttributeQuery
                               over SOAP (lasso.AssertionQuery) about the
                               federation's NameID, asking for the attribute
                               NAME (NameFormat uri) or, without NAME, for all;
                               then reads the IdP's SOAP answer (base64) from
                               stdin and prints {"aq": "accepted", "NAME": value,
                               ...} or {"aq": "refused: ..."}

DIR holds idp.xml (the metadata the IdP served), sp.xml, sp.key, sp.crt and the
identity.xml and session.xml of the login.
"""
import base64
import json
import os
import sys

import lasso
from lasso_common import sp_for

d = sys.argv[1]
p = lambda n: os.path.join(d, n)

sp, idp_id = sp_for(d, lasso.PROVIDER_ROLE_ATTRIBUTE_AUTHORITY)

q = lasso.AssertionQuery(sp)
q.setIdentityFromDump(open(p("identity.xml")).read())
q.setSessionFromDump(open(p("session.xml")).read())
q.initRequest(idp_id, lasso.HTTP_METHOD_SOAP, lasso.ASSERTION_QUERY_REQUEST_TYPE_ATTRIBUTE)
if len(sys.argv) > 2:
    q.addAttributeRequest(lasso.SAML2_ATTRIBUTE_NAME_FORMAT_URI, sys.argv[2])
q.buildRequestMsg()
print(json.dumps({"url": q.msgUrl, "body": base64.b64encode(q.msgBody.encode()).decode()}), flush=True)
answer = base64.b64decode(sys.stdin.readline()).decode()
out = {}
try:
    q.processResponseMsg(answer)
    out["aq"] = "accepted"
    for a in q.response.assertion or ():
        for st in a.attributeStatement or ():
            for at in st.attribute or ():
                out[at.name] = "|".join(v.any[0].content if v.any else "" for v in at.attributeValue or ())
except lasso.Error as e:
    out["aq"] = "refused: %s" % e
print(json.dumps(out))
